// Tensors read from a file: LibTorch 1.13 builds a loaded tensor over its
// storage record without checking that the record holds the elements that the
// tensor's sizes, strides and offset reach, so a corrupted checkpoint can make a
// later read run past the data (found by fuzz/fuzz_checkpoint_records;
// docs/hardening.md). Check before touching the data.
#pragma once
#include <ATen/core/Tensor.h>

#include <stdexcept>
#include <string>

namespace adaswarm::util {

/// True when every element that `t` addresses lies inside its storage (an
/// undefined or empty tensor is fine).
inline bool storage_covers(const at::Tensor& t) {
  if (!t.defined() || t.numel() == 0) return true;
  if (!t.has_storage() || t.storage_offset() < 0) return false;
  int64_t last = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.stride(d) < 0) return false;
    last += (t.size(d) - 1) * t.stride(d);
  }
  const auto need = static_cast<uint64_t>(last + 1) * static_cast<uint64_t>(t.element_size());
  return t.storage().nbytes() >= need;
}

/// Throws std::runtime_error "<what>: the file's data is shorter than the tensor
/// it describes" unless storage_covers(t).
inline void check_storage(const at::Tensor& t, const std::string& what) {
  if (!storage_covers(t)) throw std::runtime_error(what + ": the file's data is shorter than the tensor it describes");
}

}  // namespace adaswarm::util
