// Timing shared by the benchmark programs: median of repeated runs after warm-up.
#pragma once
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace adaswarm::bench {

/// Median seconds of `fn` over `repeats` runs, after `warmup` untimed runs.
inline double median_seconds(const std::function<void()>& fn, int repeats, int warmup = 5) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

}  // namespace adaswarm::bench
