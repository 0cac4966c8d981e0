#include "adaswarm/util/runs_file.h"

#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/errors.h"

namespace adaswarm::util {

namespace {
struct KeptLine {
  int64_t number;
  std::string text;
};

std::vector<KeptLine> open_numbered(const std::string& path, const std::string& fingerprint, bool resume) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  if (!resume) {
    write_file_atomic(path, "");
    return {};
  }
  const auto lines = read_complete_lines(path);
  std::vector<KeptLine> kept;
  std::string text;
  int64_t lineno = 0;
  for (const auto& line : lines) {
    ++lineno;
    text += line + "\n";
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": not a JSON line; cannot resume from this file");
    }
    // A "fingerprint" that is not a string (a hand-edited file) is a mismatch
    // too, not nlohmann's type_error (which would not name the file).
    const bool has = j.is_object() && j.contains("fingerprint");
    const bool is_string = has && j["fingerprint"].is_string();
    const std::string theirs = is_string ? j["fingerprint"].get<std::string>() : has ? j["fingerprint"].dump() : "";
    if (!is_string || theirs != fingerprint)
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": written with other settings (" + theirs +
                               ") than this run (" + fingerprint + "); pass --overwrite to start over, or choose another --out");
    kept.push_back({lineno, line});
  }
  write_file_atomic(path, text);  // without a torn last line: appends start on a fresh line
  return kept;
}
}  // namespace

std::vector<std::string> open_runs_file(const std::string& path, const std::string& fingerprint, bool resume) {
  std::vector<std::string> lines;
  for (auto& l : open_numbered(path, fingerprint, resume)) lines.push_back(std::move(l.text));
  return lines;
}

void read_runs_file(const std::string& path, const std::string& fingerprint, bool resume,
                    const std::function<void(const std::string& line)>& read) {
  for (const auto& l : open_numbered(path, fingerprint, resume)) {
    try {
      read(l.text);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format(
          "{}:{}: a finished run's record is malformed ({}); correct or delete that line, or pass --overwrite to start over", path,
          l.number, json_message(e)));
    }
  }
}

namespace {
// ">= lo" or "in [lo, hi]" (hi_text empty: unbounded above).
std::string range_text(const std::string& lo, const std::string& hi_text) {
  return hi_text.empty() ? ">= " + lo : "in [" + lo + ", " + hi_text + "]";
}
}  // namespace

double record_number(const nlohmann::json& record, const char* key, double lo, double hi, bool null_is_nan) {
  const auto& v = record.at(key);
  if (v.is_null() && null_is_nan) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number())
    throw std::invalid_argument(fmt::format("'{}' must be a number{}, got {}", key, null_is_nan ? " or null" : "",
                                            v.dump()));
  const double x = v.get<double>();
  if (!(x >= lo && x <= hi))
    throw std::invalid_argument(fmt::format(
        "'{}' must be {}, got {}", key,
        range_text(fmt::format("{}", lo), hi == std::numeric_limits<double>::infinity() ? "" : fmt::format("{}", hi)),
        v.dump()));
  return x;
}

int64_t record_integer(const nlohmann::json& record, const char* key, int64_t lo, int64_t hi) {
  const auto& v = record.at(key);
  if (!v.is_number_integer())
    throw std::invalid_argument(fmt::format("'{}' must be an integer, got {}", key, v.dump()));
  // An unsigned value above INT64_MAX is out of range, not a wrapped negative.
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw std::invalid_argument(fmt::format("'{}' must be <= {}, got {}", key, hi, v.dump()));
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi)
    throw std::invalid_argument(fmt::format(
        "'{}' must be {}, got {}", key,
        range_text(std::to_string(lo), hi == std::numeric_limits<int64_t>::max() ? "" : std::to_string(hi)), v.dump()));
  return x;
}

uint64_t record_seed(const nlohmann::json& record, const char* key) {
  const auto& v = record.at(key);
  if (!v.is_number_unsigned())
    throw std::invalid_argument(fmt::format("'{}' must be an integer >= 0, got {}", key, v.dump()));
  return v.get<uint64_t>();
}

void run_jobs(size_t n, int jobs, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  const int nthreads = std::max(1, std::min<int>(jobs, static_cast<int>(n)));
  const int saved = at::get_num_threads();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  auto worker = [&] {
    at::set_num_threads(1);
    omp_set_num_threads(1);
    for (;;) {
      if (failed) return;
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  at::set_num_threads(1);
  if (nthreads == 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < nthreads; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  }
  at::set_num_threads(saved);
  if (error) std::rethrow_exception(error);
}

}  // namespace adaswarm::util
