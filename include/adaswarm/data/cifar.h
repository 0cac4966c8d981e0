// Readers for the CIFAR-10 and CIFAR-100 binary batches (the "binary version"
// of https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records of label
// byte(s) followed by 3x32x32 pixel bytes (red, green, blue planes).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "adaswarm/data/idx.h"  // DataError

namespace adaswarm::data {

struct CifarBatch {
  at::Tensor images;  ///< uint8 [N, 3, 32, 32]
  at::Tensor labels;  ///< int64 [N]: CIFAR-10 class, or CIFAR-100 fine label
  at::Tensor coarse;  ///< int64 [N]: CIFAR-100 coarse label (undefined for CIFAR-10)
};

constexpr int64_t kCifarPixels = 3 * 32 * 32;
constexpr int64_t kCifar10Record = 1 + kCifarPixels;   // 3073 bytes
constexpr int64_t kCifar100Record = 2 + kCifarPixels;  // 3074 bytes

/// Throws DataError (naming the file) when it is missing, empty, not a whole
/// number of records (truncated), or holds a label out of range (10 classes).
CifarBatch read_cifar10_bin(const std::string& path);
/// Same for CIFAR-100 (coarse label < 20, fine label < 100).
CifarBatch read_cifar100_bin(const std::string& path);

}  // namespace adaswarm::data
