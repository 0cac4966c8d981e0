// Readers for the idx format of MNIST and Fashion-MNIST (Y. LeCun's format:
// big-endian magic 0x0000TTDD, DD dimension sizes, then the data), gzipped or
// raw. Any record count is accepted (small fixtures included); every defect is
// an adaswarm::data::DataError that names the file.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "adaswarm/data/csv.h"  // DataError

namespace adaswarm::data {

// DataError (adaswarm/data/csv.h): a malformed or missing data file; what()
// reads "FILE: defect".

/// A decoded idx array of unsigned bytes (type code 0x08).
struct IdxArray {
  std::vector<int64_t> dims;  ///< dims[0] is the record count
  std::vector<uint8_t> data;  ///< row-major, product(dims) bytes
};

/// Reads a whole idx file (gzip detected from its content, not its name).
/// Throws DataError on a missing/unreadable file, a bad magic number, a type
/// other than unsigned byte, a dimension count other than `expected_dims` (when
/// > 0), a file shorter than its header says (truncated) or longer (the record
/// count disagrees with the header).
IdxArray read_idx(const std::string& path, int expected_dims = 0);

/// idx3 images -> uint8 tensor [N, 1, rows, cols].
at::Tensor read_idx_images(const std::string& path);
/// idx1 labels -> int64 tensor [N]; throws if a label is >= `classes` (when > 0).
at::Tensor read_idx_labels(const std::string& path, int64_t classes = 0);

/// Whole file contents, decompressed if it is gzip. Throws DataError.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

}  // namespace adaswarm::data
