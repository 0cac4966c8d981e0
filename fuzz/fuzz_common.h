// Helpers shared by the libFuzzer targets (docs/hardening.md).
//
// A target accepts the errors a reader documents for bad input (a DataError, a
// std::runtime_error naming the file) and lets everything else through: a
// crash, a sanitizer report, any other exception (it reaches std::terminate,
// which libFuzzer reports as a deadly signal) is a finding.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace adaswarm::fuzz {

/// A folder of this process under $TMPDIR (or /tmp), made on first use.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* t = std::getenv("TMPDIR");
    auto d = std::filesystem::path(t && *t ? t : "/tmp") / ("adaswarm_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

/// Writes the fuzz input to scratch_dir()/name and returns the path.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  f.close();
  if (!f) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

/// A documented error that does not name `path`: a finding.
[[noreturn]] inline void unnamed_error(const std::string& path, const std::string& what) {
  std::fprintf(stderr, "fuzz: the error does not name the file %s: %s\n", path.c_str(), what.c_str());
  std::abort();
}

}  // namespace adaswarm::fuzz
