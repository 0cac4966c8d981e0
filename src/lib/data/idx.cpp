// idx (MNIST-format) readers. zlib's gz* functions read gzip and plain files alike.
#include "adaswarm/data/idx.h"

#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>

#include <fmt/format.h>

namespace adaswarm::data {

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw DataError(path, 0, fmt::format("cannot open: {}", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw DataError(path, 0, "is a directory, not a data file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw DataError(path, 0, fmt::format("cannot open: {}", std::strerror(errno ? errno : ENOENT)));
  // 1 MiB buffers for real data sets; small files (fixtures) get small ones.
  const size_t buffer = std::clamp<size_t>(static_cast<size_t>(st.st_size), size_t(1) << 13, size_t(1) << 20);
  gzbuffer(f, static_cast<unsigned>(buffer));
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(st.st_size));
  std::vector<uint8_t> chunk(buffer);
  for (;;) {
    const int got = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      throw DataError(path, 0, fmt::format("corrupt or truncated gzip data ({})", msg));
    }
    if (got == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + got);
  }
  // A gzip stream cut short reads as EOF with Z_BUF_ERROR pending.
  int code = Z_OK;
  const char* msg = gzerror(f, &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    std::string m = msg ? msg : "";
    gzclose(f);
    throw DataError(path, 0, fmt::format("corrupt or truncated gzip data ({})", m));
  }
  const int rc = gzclose(f);
  if (rc != Z_OK) throw DataError(path, 0, fmt::format("corrupt or truncated gzip data (gzclose {})", rc));
  return out;
}

namespace {
uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
}  // namespace

IdxArray read_idx(const std::string& path, int expected_dims) {
  std::vector<uint8_t> bytes = read_maybe_gzip(path);
  if (bytes.size() < 4)
    throw DataError(path, 0, fmt::format("truncated: {} bytes, too short for an idx header", bytes.size()));
  const uint32_t magic = be32(bytes.data());
  const int type = bytes[2];
  const int ndims = bytes[3];
  if (bytes[0] != 0 || bytes[1] != 0 || ndims == 0)
    throw DataError(path, 0, fmt::format("bad magic number 0x{:08x}: not an idx file", magic));
  if (type != 0x08)
    throw DataError(path, 0, fmt::format("magic number 0x{:08x}: element type 0x{:02x} unsupported (expected 0x08, unsigned byte)", magic, type));
  if (expected_dims > 0 && ndims != expected_dims)
    throw DataError(path, 0, fmt::format("magic number 0x{:08x} says {} dimension(s), expected {} ({})", magic, ndims,
                                expected_dims, expected_dims == 3 ? "an image file, magic 0x00000803" :
                                expected_dims == 1 ? "a label file, magic 0x00000801" : "idx"));
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header)
    throw DataError(path, 0, fmt::format("truncated header: {} bytes, need {}", bytes.size(), header));
  IdxArray a;
  uint64_t total = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t v = be32(bytes.data() + 4 + 4 * d);
    a.dims.push_back(v);
    if (d > 0 && v == 0) throw DataError(path, 0, fmt::format("dimension {} is zero", d));
    // Checked before multiplying: the product of up to 255 32-bit sizes wraps
    // around 2^64 (to 0, say) and would pass a check made after it.
    constexpr uint64_t kLimit = uint64_t(1) << 40;
    if (v != 0 && total > kLimit / v)
      throw DataError(path, 0, fmt::format("header declares an absurd size (dimension {} of {} is {})", d, ndims, v));
    total *= v;
  }
  const uint64_t have = bytes.size() - header;
  const uint64_t record = a.dims[0] ? total / a.dims[0] : 1;
  if (have < total)
    throw DataError(path, 0, fmt::format("truncated: header declares {} records ({} bytes of data), file holds {} bytes "
                                "({} whole records)", a.dims[0], total, have, have / record));
  if (have > total)
    throw DataError(path, 0, fmt::format("record count disagrees with the header: header declares {} records ({} bytes), "
                                "file holds {} bytes of data", a.dims[0], total, have));
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

at::Tensor read_idx_images(const std::string& path) {
  IdxArray a = read_idx(path, 3);
  auto t = torch::empty({a.dims[0], 1, a.dims[1], a.dims[2]}, torch::kUInt8);
  if (!a.data.empty()) std::memcpy(t.data_ptr<uint8_t>(), a.data.data(), a.data.size());
  return t;
}

at::Tensor read_idx_labels(const std::string& path, int64_t classes) {
  IdxArray a = read_idx(path, 1);
  auto t = torch::empty({a.dims[0]}, torch::kInt64);
  auto* p = t.data_ptr<int64_t>();
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (classes > 0 && a.data[i] >= classes)
      throw DataError(path, 0, fmt::format("label {} of record {} is out of range (expected < {})", a.data[i], i,
                                  classes));
    p[i] = a.data[i];
  }
  return t;
}

}  // namespace adaswarm::data
