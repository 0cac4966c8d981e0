// Crash-safe result files.
//
// write_file_atomic: the file is either its old content or the new one, never
// a mix: write a temporary file beside it, fsync, rename over, fsync the folder.
// It never renames over anything but a regular file (or nothing):
//   - a symbolic link is followed (chains too, and a dangling link): the link
//     stays a link and its target is written atomically, the temporary file
//     being made in the target's folder;
//   - a non-regular file that is not a folder (a character device such as
//     /dev/null or /dev/stdout, a FIFO, a socket) is written directly, in
//     place: no temporary file and no rename (so not atomic: such a file has no
//     old content to keep). Opening a FIFO waits for its reader, as a shell
//     redirection does;
//   - a folder is refused with an error naming the path.
// append_line: one write(2) of "line\n" with O_APPEND, then fsync; a kill can
// leave at most a truncated last line, which read_complete_lines() drops.
// Every error is a std::runtime_error naming the path and the OS reason
// (e.g. "No space left on device").
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace adaswarm::util {

/// Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);
/// A set of files written all or none: every regular file is first staged as a
/// temporary file beside its target (and every non-regular target written
/// directly); only when all of that succeeded are the temporary files renamed
/// over their targets. On an error no target is replaced (the staged files are
/// removed) and the error names the file and the OS reason.
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files);
/// The path a write_file_atomic(path) replaces: `path` with symbolic links
/// followed (a dangling link gives the path it points to).
std::string resolve_output_path(const std::string& path);
/// Before a command's work: its output files may be written. Throws
/// std::runtime_error "'PATH' is a directory, not a file" for a directory and,
/// unless `overwrite`, "'PATH' exists: HINT" for an existing regular file
/// (links followed: results already there are replaced only when asked; a
/// device such as /dev/null is not a result and passes).
void check_outputs(const std::vector<std::string>& paths, bool overwrite, const std::string& hint);
/// Appends `line` (a '\n' is added) durably. Thread-safe within the process.
void append_line(const std::string& path, const std::string& line);
/// Lines of a file written by append_line; a last line without its '\n'
/// (an interrupted append) is left out. A missing file gives no lines.
std::vector<std::string> read_complete_lines(const std::string& path);

}  // namespace adaswarm::util
