#include "adaswarm/util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace adaswarm::util {

namespace {
std::runtime_error io_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " '" + path + "': " + std::strerror(errno));
}

void write_all(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("cannot write", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::mutex& append_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

void write_file_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / (target.filename().string() + ".tmpXXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const int fd = ::mkstemp(buf.data());
  if (fd < 0) throw io_error("cannot create a temporary file for", path);
  const std::string tmp(buf.data());
  try {
    write_all(fd, content.data(), content.size(), tmp);
    if (::fchmod(fd, 0644) != 0) throw io_error("cannot chmod", tmp);
    if (::fsync(fd) != 0) throw io_error("cannot fsync", tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto e = io_error("cannot rename a temporary file onto", path);
    ::unlink(tmp.c_str());
    throw e;
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void append_line(const std::string& path, const std::string& line) {
  std::lock_guard<std::mutex> lock(append_mutex());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("cannot open for appending", path);
  std::string data = line;
  data.push_back('\n');
  try {
    write_all(fd, data.data(), data.size(), path);
    if (::fsync(fd) != 0) throw io_error("cannot fsync", path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

std::vector<std::string> read_complete_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  if (!in) return lines;
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  size_t start = 0;
  for (;;) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;  // an unterminated tail is an interrupted append
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace adaswarm::util
