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
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
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
      const uint64_t data = check_record(entry, method, crc, csize, usize, local, cd_offset);
      records_[entry] = Record{method, csize, usize, data};
      p += 46 + n + e + c;
    }
    check_tensor_records();
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

  uint64_t check_record(const std::string& entry, uint32_t method, uint32_t crc, uint64_t csize, uint64_t usize,
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
    return data;
  }

  struct Record {
    uint32_t method;
    uint64_t csize, usize, data;
  };

  std::string contents(const std::string& entry, const Record& r) const {
    if (r.method == 0) return b_.substr(r.data, r.csize);
    std::string out(r.usize, '\0');  // deflate: already checked to inflate to usize bytes
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("zlib inflateInit2 failed");
    z.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(b_.data() + r.data));
    z.avail_in = static_cast<uInt>(r.csize);
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) fail(fmt::format("record '{}': damaged compressed data", entry));
    return out;
  }

  // LibTorch 1.13 gives a loaded tensor storage the size that the pickle declares
  // (numel x element size) and the record's buffer, whatever its length: a record
  // shorter than declared is read past its end (finding 7, docs/hardening.md).
  // Each DIR/data.pkl is read with a small pickle reader for its persistent ids
  // ('storage', torch.<Type>Storage, key, location, numel); record DIR/data/<key>
  // must hold numel x element-size bytes.
  void check_tensor_records() const {
    for (const auto& [entry, rec] : records_) {
      const std::string suffix = "data.pkl";
      if (entry.size() < suffix.size() || entry.compare(entry.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string dir = entry.substr(0, entry.size() - suffix.size());
      if (!dir.empty() && dir.back() != '/') continue;
      for (const auto& s : pickle_storages(entry, contents(entry, rec))) {
        const std::string data = dir + "data/" + s.key;
        const auto it = records_.find(data);
        if (it == records_.end())
          fail(fmt::format("'{}' names tensor data '{}', which the archive does not hold", entry, data));
        if (s.bytes > it->second.usize)
          fail(fmt::format("record '{}' holds {} bytes, its tensor declares {}", data, it->second.usize, s.bytes));
      }
    }
  }

  struct Storage {
    std::string key;
    uint64_t bytes;
  };

  std::vector<Storage> pickle_storages(const std::string& entry, const std::string& pk) const {
    struct Value {
      enum Kind { Other, Mark, Str, Int, Global, Tuple } kind = Other;
      std::string s;
      int64_t i = 0;
      std::shared_ptr<const std::vector<Value>> items;
    };
    auto bad = [&](const std::string& why) { fail(fmt::format("'{}': {}", entry, why)); };
    std::vector<Value> st;
    std::map<uint64_t, Value> memo;
    std::vector<Storage> out;
    size_t p = 0;
    auto take = [&](size_t n) {
      if (pk.size() - p < n) bad("the pickle ends early");
      const size_t at = p;
      p += n;
      return at;
    };
    auto le = [&](size_t n) {
      const size_t at = take(n);
      uint64_t v = 0;
      for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(static_cast<unsigned char>(pk[at + k])) << (8 * k);
      return v;
    };
    auto line = [&]() {
      const size_t e = pk.find('\n', p);
      if (e == std::string::npos) bad("the pickle ends early");
      std::string s = pk.substr(p, e - p);
      p = e + 1;
      return s;
    };
    auto pop = [&]() {
      if (st.empty()) bad("the pickle's stack underflows");
      Value v = std::move(st.back());
      st.pop_back();
      return v;
    };
    auto pop_mark = [&]() {
      std::vector<Value> items;
      for (;;) {
        Value v = pop();
        if (v.kind == Value::Mark) break;
        items.push_back(std::move(v));
      }
      std::reverse(items.begin(), items.end());
      return items;
    };
    auto tuple = [&](std::vector<Value> items) {
      Value v;
      v.kind = Value::Tuple;
      v.items = std::make_shared<const std::vector<Value>>(std::move(items));
      st.push_back(std::move(v));
    };
    auto str = [&](size_t n) {
      Value v;
      v.kind = Value::Str;
      v.s = pk.substr(take(n), n);
      st.push_back(std::move(v));
    };
    auto integer = [&](int64_t i) {
      Value v;
      v.kind = Value::Int;
      v.i = i;
      st.push_back(std::move(v));
    };
    auto other = [&]() { st.push_back(Value{}); };
    for (;;) {
      const auto op = static_cast<unsigned char>(pk[take(1)]);
      switch (op) {
        case 0x80: take(1); break;                                 // PROTO
        case '.': return out;                                      // STOP
        case '(': {                                                // MARK
          Value m;
          m.kind = Value::Mark;
          st.push_back(std::move(m));
          break;
        }
        case ')': tuple({}); break;                                // EMPTY_TUPLE
        case ']': case '}': case 'N': case 0x88: case 0x89: other(); break;  // [] {} None True False
        case 't': tuple(pop_mark()); break;                        // TUPLE
        case 0x85: case 0x86: case 0x87: {                         // TUPLE1..3
          std::vector<Value> items;
          for (int k = 0; k < op - 0x84; ++k) items.insert(items.begin(), pop());
          tuple(std::move(items));
          break;
        }
        case 'c': {                                                // GLOBAL module\nname\n
          Value v;
          v.kind = Value::Global;
          v.s = line();
          v.s += " " + line();
          st.push_back(std::move(v));
          break;
        }
        case 'X': str(static_cast<size_t>(le(4))); break;         // BINUNICODE
        case 0x8c: str(static_cast<size_t>(le(1))); break;        // SHORT_BINUNICODE
        case 'J': integer(static_cast<int32_t>(le(4))); break;   // BININT
        case 'K': integer(static_cast<int64_t>(le(1))); break;   // BININT1
        case 'M': integer(static_cast<int64_t>(le(2))); break;   // BININT2
        case 0x8a: {                                               // LONG1
          const size_t n = static_cast<size_t>(le(1));
          if (n > 8) bad("an integer longer than 8 bytes");
          uint64_t v = n ? le(n) : 0;
          if (n > 0 && n < 8 && (v >> (8 * n - 1) & 1)) v |= ~uint64_t{0} << (8 * n);  // sign
          integer(static_cast<int64_t>(v));
          break;
        }
        case 'G': take(8); other(); break;                        // BINFLOAT
        case 'q': case 'r': {                                      // BINPUT, LONG_BINPUT
          // Picklers number memo entries 0, 1, 2, ...; LibTorch sizes its memo
          // table to the largest index, so an index from nowhere (fuzzed:
          // 0x5f5f6863) made it allocate 25 GB.
          const uint64_t id = le(op == 'q' ? 1 : 4);
          if (id > memo.size()) bad(fmt::format("memo index {} out of sequence (next is {})", id, memo.size()));
          memo[id] = st.empty() ? Value{} : st.back();
          break;
        }
        case 0x94: memo[memo.size()] = st.empty() ? Value{} : st.back(); break;  // MEMOIZE
        case 'h': case 'j': {                                      // BINGET, LONG_BINGET
          const auto it = memo.find(le(op == 'h' ? 1 : 4));
          if (it == memo.end()) bad("the pickle reads a memo entry it never wrote");
          st.push_back(it->second);
          break;
        }
        case 'Q': {                                                // BINPERSID
          const Value id = pop();
          const auto* f = id.kind == Value::Tuple ? id.items.get() : nullptr;
          if (f && f->size() == 5 && (*f)[0].kind == Value::Str && (*f)[0].s == "storage") {
            const Value& type = (*f)[1];
            const Value& key = (*f)[2];
            const Value& numel = (*f)[4];
            if (type.kind != Value::Global || key.kind != Value::Str || numel.kind != Value::Int || numel.i < 0)
              bad("a tensor storage is described wrongly");
            const uint64_t size = storage_element_size(type.s);
            if (size == 0) bad(fmt::format("unknown tensor storage type '{}'", type.s));
            if (static_cast<uint64_t>(numel.i) > (uint64_t{1} << 56) / size) bad("a tensor storage declares an absurd size");
            out.push_back({key.s, static_cast<uint64_t>(numel.i) * size});
          }
          other();
          break;
        }
        case 'R': case 0x81: pop(); pop(); other(); break;        // REDUCE, NEWOBJ
        case 'b': case 'a': pop(); break;                          // BUILD, APPEND
        case 's': pop(); pop(); break;                             // SETITEM
        case 'u': case 'e': pop_mark(); break;                     // SETITEMS, APPENDS
        case '0': pop(); break;                                    // POP
        case '2': if (st.empty()) bad("the pickle's stack underflows"); st.push_back(st.back()); break;  // DUP
        default:
          bad(fmt::format("pickle opcode 0x{:02x} at byte {} is not one LibTorch writes", op, p - 1));
      }
      if (st.size() > pk.size() + 16) bad("the pickle's stack grows without bound");
    }
  }

  static uint64_t storage_element_size(const std::string& global) {
    static const std::map<std::string, uint64_t> sizes = {
        {"torch DoubleStorage", 8}, {"torch FloatStorage", 4},   {"torch HalfStorage", 2},
        {"torch BFloat16Storage", 2}, {"torch LongStorage", 8},  {"torch IntStorage", 4},
        {"torch ShortStorage", 2},  {"torch CharStorage", 1},    {"torch ByteStorage", 1},
        {"torch BoolStorage", 1},   {"torch ComplexFloatStorage", 8}, {"torch ComplexDoubleStorage", 16},
        {"torch QInt8Storage", 1},  {"torch QUInt8Storage", 1},  {"torch QInt32Storage", 4}};
    const auto it = sizes.find(global);
    return it == sizes.end() ? 0 : it->second;
  }

  const std::string& b_;
  const std::string& name_;
  std::map<std::string, Record> records_;
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
