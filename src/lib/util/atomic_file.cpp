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
#include <vector>

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


// What writing `path` means: a temporary file renamed onto `target`, or
// (target empty) a direct write to the non-regular file at `path`.
struct Plan {
  std::string target;
};

Plan plan_write(const std::string& path) {
  if (path.empty()) throw std::runtime_error("cannot write a file with an empty name");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw std::runtime_error("cannot write '" + path + "': it is a directory");
    if (!S_ISREG(st.st_mode)) return Plan{};  // device, FIFO, socket: written in place
    return Plan{resolve_output_path(path)};
  }
  if (errno != ENOENT) throw io_error("cannot write", path);
  return Plan{resolve_output_path(path)};  // a new file, or the target of a dangling link
}

void write_direct(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw io_error("cannot open for writing", path);
  try {
    write_all(fd, content.data(), content.size(), path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0 && errno != EINTR) throw io_error("cannot write", path);
}

// Writes `content` to a new temporary file beside `target`; returns its name.
std::string stage(const std::string& target, const std::string& content, const std::string& shown) {
  namespace fs = std::filesystem;
  const fs::path t(target);
  const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  std::string tmpl = (dir / (t.filename().string() + ".tmpXXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const int fd = ::mkstemp(buf.data());
  if (fd < 0) throw io_error("cannot create a temporary file for", shown);
  const std::string tmp(buf.data());
  try {
    write_all(fd, content.data(), content.size(), shown);
    if (::fchmod(fd, 0644) != 0) throw io_error("cannot chmod", tmp);
    if (::fsync(fd) != 0) throw io_error("cannot write", shown);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0 && errno != EINTR) {
    const auto e = io_error("cannot write", shown);
    ::unlink(tmp.c_str());
    throw e;
  }
  return tmp;
}

void commit(const std::string& tmp, const std::string& target, const std::string& shown) {
  namespace fs = std::filesystem;
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const auto e = io_error("cannot rename a temporary file onto", shown);
    ::unlink(tmp.c_str());
    throw e;
  }
  const fs::path t(target);
  const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}
}  // namespace

std::string resolve_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p.string();
    std::vector<char> buf(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 1);
    const ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
    if (n < 0) throw io_error("cannot read the symbolic link", p.string());
    const fs::path to(std::string(buf.data(), static_cast<size_t>(n)));
    p = to.is_absolute() ? to : (p.has_parent_path() ? p.parent_path() / to : to);
  }
  throw std::runtime_error("cannot write '" + path + "': too many levels of symbolic links");
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const Plan plan = plan_write(path);
  if (plan.target.empty()) return write_direct(path, content);
  commit(stage(plan.target, content, path), plan.target, path);
}

void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::pair<std::string, std::string>> staged;  // (tmp, target)
  std::vector<size_t> owner;
  try {
    std::vector<Plan> plans;
    for (const auto& [path, content] : files) plans.push_back(plan_write(path));
    for (size_t i = 0; i < files.size(); ++i)
      if (!plans[i].target.empty()) {
        staged.emplace_back(stage(plans[i].target, files[i].second, files[i].first), plans[i].target);
        owner.push_back(i);
      }
    for (size_t i = 0; i < files.size(); ++i)
      if (plans[i].target.empty()) write_direct(files[i].first, files[i].second);
  } catch (...) {
    for (const auto& s : staged) ::unlink(s.first.c_str());
    throw;
  }
  for (size_t k = 0; k < staged.size(); ++k) {
    try {
      commit(staged[k].first, staged[k].second, files[owner[k]].first);
    } catch (...) {
      for (size_t j = k + 1; j < staged.size(); ++j) ::unlink(staged[j].first.c_str());
      throw;
    }
  }
}

void check_outputs(const std::vector<std::string>& paths, bool overwrite, const std::string& hint) {
  for (const auto& p : paths) {
    std::error_code ec;
    const auto st = std::filesystem::status(p, ec);  // links followed; a missing or dangling path: not_found
    if (std::filesystem::is_directory(st)) throw std::runtime_error("'" + p + "' is a directory, not a file");
    if (!overwrite && std::filesystem::is_regular_file(st)) throw std::runtime_error("'" + p + "' exists: " + hint);
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
    // a FIFO or a device (e.g. /dev/null) cannot be synced: EINVAL / EROFS / ENOTSUP
    if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) throw io_error("cannot write", path);
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
