// libFuzzer target: the runs-file reader behind `tables --resume` and
// `usecases --resume` (util::open_runs_file) on a file holding the input.
// Documented errors: std::runtime_error naming the file. Kept lines must be
// JSON objects with this run's fingerprint, and the rewritten file holds
// exactly the complete lines read.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/runs_file.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = adaswarm::fuzz::write_input("runs.jsonl", data, size);
  const std::string fingerprint = "fp";
  std::vector<std::string> kept;
  try {
    kept = adaswarm::util::open_runs_file(path, fingerprint, /*resume=*/true);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find(path) == std::string::npos) adaswarm::fuzz::unnamed_error(path, e.what());
    return 0;
  }
  for (const auto& line : kept) {
    const auto j = nlohmann::json::parse(line);  // throws (a finding) if a kept line is not JSON
    if (!j.is_object() || j.at("fingerprint") != fingerprint) __builtin_trap();
  }
  // The file now ends on a line end: appending gives one more complete line.
  adaswarm::util::append_line(path, "{\"fingerprint\":\"fp\"}");
  size_t nonempty = 0;
  for (const auto& line : adaswarm::util::read_complete_lines(path)) nonempty += !line.empty();
  if (nonempty != kept.size() + 1) __builtin_trap();
  return 0;
}
