// A temporary directory for a test, removed with everything in it at scope exit.
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace adaswarm::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "adaswarm") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& f) const { return (std::filesystem::path(path_) / f).string(); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

}  // namespace adaswarm::testing
