// libFuzzer target: the CIFAR-10 and CIFAR-100 binary batch readers on a file
// holding the input (plain or gzip).
#include <cstdint>
#include <string>

#include "adaswarm/data/cifar.h"
#include "fuzz_common.h"

namespace ad = adaswarm::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = adaswarm::fuzz::write_input("input.bin", data, size);
  try {
    const ad::CifarBatch b = ad::read_cifar10_bin(path);
    if (b.images.size(0) != b.labels.size(0)) __builtin_trap();
  } catch (const ad::DataError& e) {
    if (e.file() != path) adaswarm::fuzz::unnamed_error(path, e.what());
  }
  try {
    const ad::CifarBatch b = ad::read_cifar100_bin(path);
    if (b.images.size(0) != b.labels.size(0) || b.coarse.size(0) != b.labels.size(0)) __builtin_trap();
  } catch (const ad::DataError& e) {
    if (e.file() != path) adaswarm::fuzz::unnamed_error(path, e.what());
  }
  return 0;
}
