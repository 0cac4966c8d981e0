// Crash-safe result files.
//
// write_file_atomic: the file is either its old content or the new one, never
// a mix: write a temporary file beside it, fsync, rename over, fsync the folder.
// append_line: one write(2) of "line\n" with O_APPEND, then fsync; a kill can
// leave at most a truncated last line, which read_complete_lines() drops.
#pragma once
#include <string>
#include <vector>

namespace adaswarm::util {

/// Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);
/// Appends `line` (a '\n' is added) durably. Thread-safe within the process.
void append_line(const std::string& path, const std::string& line);
/// Lines of a file written by append_line; a last line without its '\n'
/// (an interrupted append) is left out. A missing file gives no lines.
std::vector<std::string> read_complete_lines(const std::string& path);

}  // namespace adaswarm::util
