// Resumable experiment runs: a JSON-lines file of finished runs, each line
// stamped with the settings' fingerprint, and a pool of worker threads with
// one intra-op thread each.
//
//   auto lines = adaswarm::util::open_runs_file("out/runs.jsonl", fingerprint, resume);
//   ... parse the kept lines, skip those runs ...
//   adaswarm::util::run_jobs(pending.size(), jobs, [&](size_t i) { ...; append_line(path, json); });
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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

/// A number field of a finished run's record, for read's callbacks: it must be
/// a number in [lo, hi], or null when null_is_nan (how a diverged run's NaN is
/// written; read back as NaN). Else std::invalid_argument naming the field and
/// the value ("'steps' must be >= 0, got -3"), which read_runs_file turns into
/// an error naming the file and the line: a hand-edited record is refused, not
/// put into a table.
double record_number(const nlohmann::json& record, const char* key, double lo,
                     double hi = std::numeric_limits<double>::infinity(), bool null_is_nan = true);
/// The same for an integer field (a number with a fraction is refused too).
int64_t record_integer(const nlohmann::json& record, const char* key, int64_t lo,
                       int64_t hi = std::numeric_limits<int64_t>::max());

/// A seed field: any unsigned 64-bit integer (a negative one is refused, not wrapped).
uint64_t record_seed(const nlohmann::json& record, const char* key);

/// Calls fn(0) .. fn(n - 1) on min(jobs, n) threads (jobs >= 1), each with one
/// LibTorch intra-op and one OpenMP thread; the caller's thread count is
/// restored. The first exception stops new items and is rethrown after the
/// workers finish. Results must not depend on the order of items.
void run_jobs(size_t n, int jobs, const std::function<void(size_t)>& fn);

}  // namespace adaswarm::util
