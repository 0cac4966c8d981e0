// CIFAR-10 / CIFAR-100 binary batch readers.
#include "adaswarm/data/cifar.h"

#include <torch/torch.h>

#include <cstring>

#include <fmt/format.h>

namespace adaswarm::data {
namespace {

CifarBatch read_cifar(const std::string& path, int label_bytes) {
  const int64_t record = label_bytes + kCifarPixels;
  std::vector<uint8_t> bytes = read_maybe_gzip(path);
  if (bytes.empty()) throw DataError(path, 0, "empty file: no CIFAR records");
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (size % record != 0)
    throw DataError(path, 0, fmt::format("truncated or not a CIFAR-{} binary batch: {} bytes is not a whole number of "
                                "{}-byte records ({} whole records and {} bytes left over)", label_bytes == 1 ? 10 : 100, size, record, size / record, size % record));
  const int64_t n = size / record;
  CifarBatch b;
  b.images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  b.labels = torch::empty({n}, torch::kInt64);
  if (label_bytes == 2) b.coarse = torch::empty({n}, torch::kInt64);
  auto* img = b.images.data_ptr<uint8_t>();
  auto* lab = b.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = bytes.data() + i * record;
    if (label_bytes == 1) {
      if (r[0] >= 10)
        throw DataError(path, 0, fmt::format("record {}: label {} out of range for CIFAR-10 (< 10): not a CIFAR-10 "
                                    "binary batch?", i, r[0]));
      lab[i] = r[0];
    } else {
      if (r[0] >= 20 || r[1] >= 100)
        throw DataError(path, 0, fmt::format("record {}: labels coarse {} / fine {} out of range for CIFAR-100 (< 20 / < "
                                    "100): not a CIFAR-100 binary batch?", i, r[0], r[1]));
      b.coarse.data_ptr<int64_t>()[i] = r[0];
      lab[i] = r[1];
    }
    std::memcpy(img + i * kCifarPixels, r + label_bytes, kCifarPixels);
  }
  return b;
}

}  // namespace

CifarBatch read_cifar10_bin(const std::string& path) { return read_cifar(path, 1); }
CifarBatch read_cifar100_bin(const std::string& path) { return read_cifar(path, 2); }

}  // namespace adaswarm::data
