// libFuzzer target: the idx (MNIST) readers on a file holding the input, plain
// or gzip (read_maybe_gzip tells them apart by content).
#include <cstdint>
#include <string>

#include "adaswarm/data/idx.h"
#include "fuzz_common.h"

namespace ad = adaswarm::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = adaswarm::fuzz::write_input("input.idx", data, size);
  try {
    const ad::IdxArray a = ad::read_idx(path);
    uint64_t total = 1;
    for (int64_t d : a.dims) total *= static_cast<uint64_t>(d);
    if (a.dims.empty() || total != a.data.size()) __builtin_trap();
  } catch (const ad::DataError& e) {
    if (e.file() != path) adaswarm::fuzz::unnamed_error(path, e.what());
  }
  try {
    (void)ad::read_idx_images(path);
  } catch (const ad::DataError& e) {
    if (e.file() != path) adaswarm::fuzz::unnamed_error(path, e.what());
  }
  try {
    (void)ad::read_idx_labels(path, 10);
  } catch (const ad::DataError& e) {
    if (e.file() != path) adaswarm::fuzz::unnamed_error(path, e.what());
  }
  return 0;
}
