// Subcommands of the `adaswarm` tool; each file under src/cli/ registers one.
#pragma once
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
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

/// A list option naming an item twice is refused: "--tasks: 'step' is given twice".
inline void no_duplicates(const std::vector<std::string>& items, const char* option) {
  std::set<std::string> seen;
  for (const auto& i : items)
    if (!seen.insert(i).second) throw std::invalid_argument(std::string(option) + ": '" + i + "' is given twice");
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

/// A bound as the messages print it: 1000000, not 1e+06; 0.5, 1e-12.
inline std::string number_text(double v) {
  if (std::abs(v) < 1e15 && v == std::floor(v)) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// A finite floating-point option in [lo, hi] (an end is excluded when its
/// `*_open` is true; hi = infinity: no upper bound, but still finite), checked
/// on the text before CLI11 converts it: empty text, "abc", "nan", "inf",
/// "1e400" (overflows to inf) and trailing junk are refused with the range
/// expected. The message says what was expected; CLI11 prefixes the option's name.
inline CLI::Validator Number(double lo, double hi = std::numeric_limits<double>::infinity(), bool lo_open = false,
                             bool hi_open = false) {
  std::string expected;
  if (std::isinf(hi))
    expected = "a finite number " + std::string(lo_open ? "> " : ">= ") + number_text(lo);
  else
    expected = "a finite number in " + std::string(lo_open ? "(" : "[") + number_text(lo) + ", " + number_text(hi) +
               (hi_open ? ")" : "]");
  return CLI::Validator(
      [lo, hi, lo_open, hi_open, expected](std::string& s) -> std::string {
        const std::string got = "expected " + expected + ", got '" + s + "'";
        if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return got;
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end != s.c_str() + s.size() || !std::isfinite(v)) return got;
        const bool above_lo = lo_open ? v > lo : v >= lo;
        const bool below_hi = hi_open ? v < hi : v <= hi;
        if (!above_lo || !below_hi) return got;
        return std::string();
      },
      expected.substr(2));
}

/// A number > 0 and at most hi (a rate, a span, a tolerance, seconds).
inline CLI::Validator Positive(double hi) { return Number(0, hi, true); }

/// A comma list ("1,2,4"; a list option may also be given again): every item
/// must pass `item`; an empty text or an empty item ("1,,2") is refused. Use it
/// instead of CLI11's delimiter(','), which drops empty items silently; read the
/// checked texts with list_values.
inline CLI::Validator ListOf(const CLI::Validator& item) {
  const std::string desc = item.get_description();
  const std::string what =
      "a comma list, each " + std::string(desc.find_first_of("aeiou") == 0 ? "an " : "a ") + desc;
  return CLI::Validator(
      [item, what](std::string& s) -> std::string {
        if (s.empty()) return "expected " + what + ", got ''";
        size_t start = 0;
        for (;;) {
          const size_t comma = s.find(',', start);
          std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (part.empty()) return "expected " + what + ", got an empty item in '" + s + "'";
          const std::string why = item(part);
          if (!why.empty()) return why;
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        return std::string();
      },
      what.substr(2));
}

/// The numbers of a list option whose texts passed ListOf(Integer(...)) or
/// ListOf(Number(...)).
template <class T>
std::vector<T> list_values(const std::vector<std::string>& texts) {
  std::vector<T> out;
  for (const auto& t : split_list(texts)) {
    if constexpr (std::is_floating_point_v<T>)
      out.push_back(static_cast<T>(std::stod(t)));
    else
      out.push_back(static_cast<T>(std::stoll(t)));
  }
  return out;
}
}  // namespace adaswarm::cli
