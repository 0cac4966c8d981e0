// Subcommands of the `adaswarm` tool; each file under src/cli/ registers one.
#pragma once
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace adaswarm::cli {
void add_functions_command(CLI::App& app);  // functions_cmd.cpp: AdaSwarm paper Tables I-III, Fig. 1
void add_tables_command(CLI::App& app);     // tables_cmd.cpp: UCI Tables IV, V, supp. 5
void add_train_command(CLI::App& app);      // train_cmd.cpp: CNN / ResNet-18 vision trainer
void add_pgso_command(CLI::App& app);       // pgso_cmd.cpp: PGSO bench / train / scaling (runs in experiments/pgso_runs)
void add_fidelity_command(CLI::App& app);   // fidelity_cmd.cpp: swarm / SPSA / Gaussian dL/dy vs autograd
void add_usecases_command(CLI::App& app);   // usecases_cmd.cpp: hard-loss use cases with controls

/// Comma lists given once or repeated ("a,b" "c") -> {a, b, c}; empty parts dropped.
inline std::vector<std::string> split_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    size_t start = 0;
    for (;;) {
      const size_t comma = item.find(',', start);
      const std::string part = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

/// The cores of this machine (at least 1).
inline int64_t cores() { return std::max(1u, std::thread::hardware_concurrency()); }

/// An integer option in [lo, hi], checked on the text before CLI11 converts it
/// (CLI11 2.1 saturates an out-of-range integer and wraps "-1" into an unsigned
/// one). The message says what was expected; CLI11 prefixes the option's name.
inline CLI::Validator Integer(int64_t lo, int64_t hi = std::numeric_limits<int64_t>::max()) {
  const std::string expected =
      hi == std::numeric_limits<int64_t>::max()
          ? "an integer >= " + std::to_string(lo)
          : "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, expected](std::string& s) -> std::string {
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || end != s.c_str() + s.size()) return "expected " + expected + ", got '" + s + "'";
        if (errno == ERANGE || v < lo || v > hi) return "expected " + expected + ", got " + s;
        return std::string();
      },
      expected.substr(3));
}

/// A seed: an unsigned 64-bit integer (no sign).
inline CLI::Validator Seed() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        errno = 0;
        char* end = nullptr;
        if (s.empty() || s[0] < '0' || s[0] > '9') return "expected an integer in [0, 2^64 - 1], got '" + s + "'";
        std::strtoull(s.c_str(), &end, 10);
        if (end != s.c_str() + s.size() || errno == ERANGE)
          return "expected an integer in [0, 2^64 - 1], got '" + s + "'";
        return std::string();
      },
      "integer in [0, 2^64 - 1]");
}

/// A thread or job count: 0 (all cores) up to 4x the cores.
inline CLI::Validator Threads() { return Integer(0, 4 * cores()); }
}  // namespace adaswarm::cli
