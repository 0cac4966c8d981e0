// Resumable experiment runs: a JSON-lines file of finished runs, each line
// stamped with the settings' fingerprint, and a pool of worker threads with
// one intra-op thread each.
//
//   auto lines = adaswarm::util::open_runs_file("out/runs.jsonl", fingerprint, resume);
//   ... parse the kept lines, skip those runs ...
//   adaswarm::util::run_jobs(pending.size(), jobs, [&](size_t i) { ...; append_line(path, json); });
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace adaswarm::util {

/// Prepares `path` (its folder is created). resume = false: the file is emptied
/// and no lines come back. resume = true: the complete lines are kept (a torn
/// last line is dropped and the file rewritten without it) and returned; every
/// non-empty line must be a JSON object whose "fingerprint" equals `fingerprint`,
/// else std::runtime_error names the file, the line and both fingerprints.
std::vector<std::string> open_runs_file(const std::string& path, const std::string& fingerprint, bool resume);

/// open_runs_file, then read(line) for each kept line in order. An exception
/// from read (a missing field, a field of the wrong type) becomes
/// std::runtime_error naming the file, the line number and the reason.
void read_runs_file(const std::string& path, const std::string& fingerprint, bool resume,
                    const std::function<void(const std::string& line)>& read);

/// Calls fn(0) .. fn(n - 1) on min(jobs, n) threads (jobs >= 1), each with one
/// LibTorch intra-op and one OpenMP thread; the caller's thread count is
/// restored. The first exception stops new items and is rethrown after the
/// workers finish. Results must not depend on the order of items.
void run_jobs(size_t n, int jobs, const std::function<void(size_t)>& fn);

}  // namespace adaswarm::util
