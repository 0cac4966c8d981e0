// See adaswarm/util/zip_check.h. Zip layout: APPNOTE.TXT (PKWARE), sections
// 4.3.7 (local header), 4.3.12 (central directory), 4.3.14-16 (zip64 and end
// of central directory records), 4.5.3 (zip64 extra field).
#include "adaswarm/util/zip_check.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace adaswarm::util {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;

class Zip {
 public:
  Zip(const std::string& bytes, const std::string& name) : b_(bytes), name_(name) {}

  void verify() {
    if (b_.size() < 22) fail(fmt::format("{} bytes, too short for a zip archive", b_.size()));
    // The end of central directory record: the last signature within the last
    // 22 + 65535 bytes whose comment ends at the end of the file.
    uint64_t end = UINT64_MAX;
    const uint64_t lowest = b_.size() >= 22 + 65535 ? b_.size() - 22 - 65535 : 0;
    for (uint64_t p = b_.size() - 22;; --p) {
      if (u32(p) == kEndSig && p + 22 + u16(p + 20) == b_.size()) {
        end = p;
        break;
      }
      if (p == lowest) break;
    }
    if (end == UINT64_MAX) fail("no end of central directory record (truncated, or not a zip archive)");
    if (u16(end + 4) != 0 || u16(end + 6) != 0) fail("multi-disk archive");
    uint64_t entries = u16(end + 10), cd_size = u32(end + 12), cd_offset = u32(end + 16);
    uint64_t cd_end_limit = end;  // the central directory ends before this
    if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
      if (end < 20 || u32(end - 20) != kZip64LocatorSig) fail("zip64 end of central directory locator missing");
      const uint64_t z = u64(end - 20 + 8);
      if (z > end - 20 || end - 20 - z < 56 || u32(z) != kZip64EndSig) fail("zip64 end of central directory record missing");
      entries = u64(z + 32);
      cd_size = u64(z + 40);
      cd_offset = u64(z + 48);
      cd_end_limit = z;
    }
    if (cd_offset > cd_end_limit || cd_size > cd_end_limit - cd_offset)
      fail("central directory out of the file (truncated?)");
    if (entries > cd_size / 46) fail(fmt::format("{} records cannot fit a {}-byte central directory", entries, cd_size));
    uint64_t p = cd_offset;
    const uint64_t cd_end = cd_offset + cd_size;
    for (uint64_t i = 0; i < entries; ++i) {
      if (cd_end - p < 46 || u32(p) != kCentralSig) fail(fmt::format("central directory entry {} is damaged", i));
      const uint32_t method = u16(p + 10), crc = u32(p + 16);
      uint64_t csize = u32(p + 20), usize = u32(p + 24), local = u32(p + 42);
      const uint64_t n = u16(p + 28), e = u16(p + 30), c = u16(p + 32);
      if (cd_end - p - 46 < n + e + c) fail(fmt::format("central directory entry {} is damaged", i));
      const std::string entry = b_.substr(p + 46, n);
      // zip64 extra field: the 64-bit values of those fields that hold 0xFFFFFFFF, in this order.
      for (uint64_t x = p + 46 + n, xe = x + e; xe - x >= 4;) {
        const uint64_t id = u16(x), len = u16(x + 2);
        if (xe - x - 4 < len) fail(fmt::format("record '{}': damaged extra field", entry));
        if (id == 0x0001) {
          uint64_t q = x + 4, qe = q + len;
          for (uint64_t* f : {&usize, &csize, &local})
            if (*f == 0xFFFFFFFF) {
              if (qe - q < 8) fail(fmt::format("record '{}': damaged zip64 extra field", entry));
              *f = u64(q);
              q += 8;
            }
        }
        x += 4 + len;
      }
      check_record(entry, method, crc, csize, usize, local, cd_offset);
      p += 46 + n + e + c;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(fmt::format("{}: corrupt or not a zip archive ({})", name_, why));
  }
  uint64_t byte(uint64_t p) const { return static_cast<unsigned char>(b_[p]); }
  uint32_t u16(uint64_t p) const {
    need(p, 2);
    return static_cast<uint32_t>(byte(p) | byte(p + 1) << 8);
  }
  uint32_t u32(uint64_t p) const {
    need(p, 4);
    return static_cast<uint32_t>(byte(p) | byte(p + 1) << 8 | byte(p + 2) << 16 | byte(p + 3) << 24);
  }
  uint64_t u64(uint64_t p) const { return u32(p) | static_cast<uint64_t>(u32(p + 4)) << 32; }
  void need(uint64_t p, uint64_t n) const {
    if (p > b_.size() || b_.size() - p < n) fail("a field lies past the end of the file (truncated?)");
  }

  void check_record(const std::string& entry, uint32_t method, uint32_t crc, uint64_t csize, uint64_t usize,
                    uint64_t local, uint64_t data_limit) const {
    if (local > data_limit || data_limit - local < 30 || u32(local) != kLocalSig)
      fail(fmt::format("record '{}': local header missing", entry));
    const uint64_t data = local + 30 + u16(local + 26) + u16(local + 28);
    if (data > data_limit || csize > data_limit - data) fail(fmt::format("record '{}': data out of the file", entry));
    const auto* src = reinterpret_cast<const Bytef*>(b_.data() + data);
    uLong sum = crc32(0L, Z_NULL, 0);
    if (method == 0) {
      if (csize != usize) fail(fmt::format("record '{}': stored with two different sizes", entry));
      for (uint64_t done = 0; done < csize;) {  // crc32 takes an unsigned int length
        const uInt chunk = static_cast<uInt>(std::min<uint64_t>(csize - done, 1u << 30));
        sum = crc32(sum, src + done, chunk);
        done += chunk;
      }
    } else if (method == 8) {
      z_stream z{};
      if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("zlib inflateInit2 failed");
      std::vector<Bytef> out(1 << 16);
      uint64_t produced = 0, consumed = 0;
      int rc = Z_OK;
      while (rc != Z_STREAM_END) {
        if (z.avail_in == 0 && consumed < csize) {
          const uInt chunk = static_cast<uInt>(std::min<uint64_t>(csize - consumed, 1u << 30));
          z.next_in = const_cast<Bytef*>(src + consumed);
          z.avail_in = chunk;
          consumed += chunk;
        }
        z.next_out = out.data();
        z.avail_out = static_cast<uInt>(out.size());
        rc = inflate(&z, Z_NO_FLUSH);
        const uint64_t got = out.size() - z.avail_out;
        produced += got;
        sum = crc32(sum, out.data(), static_cast<uInt>(got));
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK || produced > usize || (got == 0 && z.avail_in == 0 && consumed >= csize)) {
          inflateEnd(&z);
          fail(fmt::format("record '{}': damaged compressed data", entry));
        }
      }
      inflateEnd(&z);
      if (produced != usize) fail(fmt::format("record '{}': {} bytes, the directory says {}", entry, produced, usize));
    } else {
      fail(fmt::format("record '{}': compression method {} (only stored and deflate are written)", entry, method));
    }
    if (sum != crc) fail(fmt::format("record '{}' fails its CRC-32 check", entry));
  }

  const std::string& b_;
  const std::string& name_;
};

}  // namespace

void verify_zip_bytes(const std::string& bytes, const std::string& name) { Zip(bytes, name).verify(); }

void verify_zip_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("{}: read error", path));
  verify_zip_bytes(ss.str(), path);
}

}  // namespace adaswarm::util
