#include "runtime/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include <tbb/parallel_for.h>

#include "runtime/error.h"
#include "runtime/huge_pages.h"
#include "runtime/printable.h"

namespace gemma {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr int kMaxArrayDepth = 8;        // nested arrays deeper than this are refused
constexpr uint32_t kMaxDims = 4;

bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

std::string_view GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::U8: return "UINT8";
    case GgufType::I8: return "INT8";
    case GgufType::U16: return "UINT16";
    case GgufType::I16: return "INT16";
    case GgufType::U32: return "UINT32";
    case GgufType::I32: return "INT32";
    case GgufType::F32: return "FLOAT32";
    case GgufType::BOOL: return "BOOL";
    case GgufType::STRING: return "STRING";
    case GgufType::ARRAY: return "ARRAY";
    case GgufType::U64: return "UINT64";
    case GgufType::I64: return "INT64";
    case GgufType::F64: return "FLOAT64";
  }
  return "?";
}

size_t GgufScalarSize(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL: return 1;
    case GgufType::U16:
    case GgufType::I16: return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32: return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64: return 8;
    case GgufType::STRING:
    case GgufType::ARRAY: return 0;
  }
  return 0;
}

bool GgufValue::IsInteger() const {
  switch (type) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::U16:
    case GgufType::I16:
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::U64:
    case GgufType::I64: return true;
    default: return false;
  }
}

int64_t GgufValue::AsInt() const {
  if (type == GgufType::U64 && scalar_.u > static_cast<uint64_t>(INT64_MAX)) return INT64_MAX;
  if (IsFloat()) return static_cast<int64_t>(scalar_.f);
  return scalar_.i;
}

uint64_t GgufValue::AsUInt() const { return scalar_.u; }

double GgufValue::AsDouble() const {
  if (IsFloat()) return scalar_.f;
  if (type == GgufType::U64) return static_cast<double>(scalar_.u);
  return static_cast<double>(scalar_.i);
}

GgufValue GgufValue::Element(uint64_t i) const {
  return Decode(elem_type_, data_ + i * GgufScalarSize(elem_type_));
}

std::string GgufTensor::ShapeString() const {
  std::string s = "[";
  for (int d = 0; d < n_dims; ++d) {
    if (d) s += ", ";
    s += std::to_string(ne[d]);
  }
  return s + "]";
}

// ---------------------------------------------------------------------------------------------

class GgufParser {
 public:
  GgufParser(GgufFile& f) : f_(f), p_(f.base_), end_(f.base_ + f.size_) {}

  void Run() {
    const uint32_t magic = U32("magic");
    if (magic != kMagic) {
      if (magic == 0x47475546) Fail("{}: big-endian GGUF files are not supported", f_.path_);
      Fail("{}: not a GGUF file (magic {:02x} {:02x} {:02x} {:02x}, expected \"GGUF\")", f_.path_,
           magic & 0xff, (magic >> 8) & 0xff, (magic >> 16) & 0xff, magic >> 24);
    }
    f_.version_ = U32("version");
    if (f_.version_ != 2 && f_.version_ != 3) {
      Fail("{}: GGUF version {} is not supported (expected 2 or 3)", f_.path_, f_.version_);
    }
    const uint64_t n_tensors = U64("tensor count");
    const uint64_t n_kv = U64("metadata count");
    // Each key-value pair needs at least 12 bytes and each tensor record at least 24, so counts
    // larger than that cannot be honest; refuse them before reserving memory.
    if (n_kv > Remaining() / 12) Fail("{}: metadata count {} exceeds the file size", f_.path_, n_kv);
    if (n_tensors > Remaining() / 24) {
      Fail("{}: tensor count {} exceeds the file size", f_.path_, n_tensors);
    }

    f_.kv_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
      const std::string_view key = String("metadata key");
      const auto type = static_cast<GgufType>(U32("value type"));
      GgufValue v = Value(type, key, 0);
      if (!f_.kv_index_.emplace(key, f_.kv_.size()).second) {
        Fail("{}: metadata key '{}' appears twice", f_.path_, Printable(key));
      }
      f_.kv_.emplace_back(key, std::move(v));
    }

    if (const GgufValue* a = f_.Find("general.alignment")) {
      if (!a->IsInteger() || a->IsArray()) {
        Fail("{}: key 'general.alignment' has type {}, expected UINT32", f_.path_,
             GgufTypeName(a->type));
      }
      const uint64_t al = a->AsUInt();
      // The GGUF spec requires a multiple of 8; below 4, F32 data could be misaligned.
      if (al < 8 || (al & (al - 1)) != 0 || al > (1u << 20)) {
        Fail("{}: key 'general.alignment' is {}, expected a power of two from 8 to 2^20", f_.path_, al);
      }
      f_.alignment_ = al;
    }

    f_.tensors_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) f_.tensors_.push_back(TensorInfo());

    const uint64_t header_end = static_cast<uint64_t>(p_ - f_.base_);
    const uint64_t data_offset = (header_end + f_.alignment_ - 1) / f_.alignment_ * f_.alignment_;
    if (n_tensors > 0 && data_offset > f_.size_) {
      Fail("{}: truncated: data section would start at byte {} but the file has {} bytes",
           f_.path_, data_offset, f_.size_);
    }
    f_.data_offset_ = data_offset;
    const uint64_t data_size = f_.size_ - std::min(data_offset, f_.size_);

    for (GgufTensor& t : f_.tensors_) {
      if (t.offset % f_.alignment_ != 0) {
        Fail("{}: tensor '{}': data offset {} is not a multiple of the alignment {}", f_.path_,
             Printable(t.name), t.offset, f_.alignment_);
      }
      if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
        Fail("{}: tensor '{}': data [{}, {}) runs past the end of the file (data section holds "
             "{} bytes; file truncated?)",
             f_.path_, Printable(t.name), t.offset, t.offset + t.n_bytes, data_size);
      }
      t.data = f_.base_ + data_offset + t.offset;
      if (!f_.tensor_index_.emplace(t.name, &t - f_.tensors_.data()).second) {
        Fail("{}: tensor '{}' appears twice", f_.path_, Printable(t.name));
      }
    }
  }

 private:
  uint64_t Remaining() const { return static_cast<uint64_t>(end_ - p_); }

  const uint8_t* Take(uint64_t n, std::string_view what) {
    if (n > Remaining()) {
      Fail("{}: truncated: {} needs {} bytes at offset {}, only {} left", f_.path_, Printable(what), n,
           p_ - f_.base_, Remaining());
    }
    const uint8_t* q = p_;
    p_ += n;
    return q;
  }

  uint32_t U32(std::string_view what) {
    uint32_t v;
    std::memcpy(&v, Take(4, what), 4);
    return v;
  }

  uint64_t U64(std::string_view what) {
    uint64_t v;
    std::memcpy(&v, Take(8, what), 8);
    return v;
  }

  std::string_view String(std::string_view what) {
    const uint64_t n = U64(what);
    const uint8_t* s = Take(n, what);
    return {reinterpret_cast<const char*>(s), static_cast<size_t>(n)};
  }

  GgufValue Value(GgufType type, std::string_view key, int depth) {
    GgufValue v;
    v.type = type;
    if (type == GgufType::STRING) {
      v.str_ = String(key);
      return v;
    }
    if (type == GgufType::ARRAY) {
      if (depth >= kMaxArrayDepth) Fail("{}: key '{}': arrays nested too deeply", f_.path_, Printable(key));
      const uint32_t et = U32(key);
      const uint64_t count = U64(key);
      v.elem_type_ = static_cast<GgufType>(et);
      v.count_ = count;
      if (et > static_cast<uint32_t>(GgufType::F64)) {
        Fail("{}: key '{}': unknown array element type {}", f_.path_, Printable(key), et);
      }
      const size_t es = GgufScalarSize(v.elem_type_);
      if (es != 0) {
        uint64_t bytes;
        if (MulOverflows(count, es, &bytes) || bytes > Remaining()) {
          Fail("{}: key '{}': array of {} {} runs past the end of the file", f_.path_, Printable(key), count,
               GgufTypeName(v.elem_type_));
        }
        v.data_ = Take(bytes, key);
        if (v.elem_type_ == GgufType::BOOL) CheckBools(v.data_, count, key);
        return v;
      }
      // Strings need at least 8 bytes each and arrays at least 12: bound the count first.
      const uint64_t min_size = v.elem_type_ == GgufType::STRING ? 8 : 12;
      if (count > Remaining() / min_size) {
        Fail("{}: key '{}': array of {} {} runs past the end of the file", f_.path_, Printable(key), count,
             GgufTypeName(v.elem_type_));
      }
      if (v.elem_type_ == GgufType::STRING) {
        v.strings_.reserve(count);
        for (uint64_t i = 0; i < count; ++i) v.strings_.push_back(String(key));
      } else {
        v.items_.reserve(count);
        // Items of an array of arrays are (element type, count, elements), with no type tag.
        for (uint64_t i = 0; i < count; ++i) v.items_.push_back(Value(GgufType::ARRAY, key, depth + 1));
      }
      return v;
    }
    const size_t size = GgufScalarSize(type);
    if (size == 0) {
      Fail("{}: key '{}': unknown value type {}", f_.path_, Printable(key), static_cast<uint32_t>(type));
    }
    const uint8_t* p = Take(size, key);
    if (type == GgufType::BOOL) CheckBools(p, 1, key);
    return GgufValue::Decode(type, p);
  }

  void CheckBools(const uint8_t* p, uint64_t n, std::string_view key) {
    for (uint64_t i = 0; i < n; ++i) {
      if (p[i] > 1) Fail("{}: key '{}': boolean byte {} is not 0 or 1", f_.path_, Printable(key), p[i]);
    }
  }

  GgufTensor TensorInfo() {
    GgufTensor t;
    t.name = String("tensor name");
    if (t.name.empty()) Fail("{}: a tensor has an empty name", f_.path_);
    const uint32_t n_dims = U32(t.name);
    if (n_dims == 0 || n_dims > kMaxDims) {
      Fail("{}: tensor '{}': {} dimensions, expected 1 to {}", f_.path_, Printable(t.name), n_dims, kMaxDims);
    }
    t.n_dims = static_cast<int>(n_dims);
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      t.ne[d] = U64(t.name);
      if (t.ne[d] == 0) Fail("{}: tensor '{}': dimension {} is 0", f_.path_, Printable(t.name), d);
      if (MulOverflows(n, t.ne[d], &n) || n > (uint64_t{1} << 50)) {
        Fail("{}: tensor '{}': element count overflows ({})", f_.path_, Printable(t.name), t.ShapeString());
      }
    }
    t.n_elements = n;
    const uint32_t type_id = U32(t.name);
    const std::optional<TypeTraits> traits = LookupType(type_id);
    if (!traits) Fail("{}: tensor '{}': unknown weight type {}", f_.path_, Printable(t.name), type_id);
    t.type = static_cast<GgmlType>(type_id);
    if (t.ne[0] % traits->block_size != 0) {
      Fail("{}: tensor '{}': row length {} is not a multiple of the {} block size {}", f_.path_,
           Printable(t.name), t.ne[0], traits->name, traits->block_size);
    }
    t.n_bytes = n / traits->block_size * traits->type_size;  // no overflow: n < 2^50
    t.offset = U64(t.name);
    return t;
  }

  GgufFile& f_;
  const uint8_t* p_;
  const uint8_t* end_;
};

GgufValue GgufValue::Decode(GgufType t, const uint8_t* p) {
  GgufValue v;
  v.type = t;
  switch (t) {
    case GgufType::U8: v.scalar_.u = p[0]; break;
    case GgufType::I8: v.scalar_.i = static_cast<int8_t>(p[0]); break;
    case GgufType::BOOL: v.scalar_.u = p[0]; break;
    case GgufType::U16: { uint16_t x; std::memcpy(&x, p, 2); v.scalar_.u = x; break; }
    case GgufType::I16: { int16_t x; std::memcpy(&x, p, 2); v.scalar_.i = x; break; }
    case GgufType::U32: { uint32_t x; std::memcpy(&x, p, 4); v.scalar_.u = x; break; }
    case GgufType::I32: { int32_t x; std::memcpy(&x, p, 4); v.scalar_.i = x; break; }
    case GgufType::U64: { uint64_t x; std::memcpy(&x, p, 8); v.scalar_.u = x; break; }
    case GgufType::I64: { int64_t x; std::memcpy(&x, p, 8); v.scalar_.i = x; break; }
    case GgufType::F32: { float x; std::memcpy(&x, p, 4); v.scalar_.f = x; break; }
    case GgufType::F64: { double x; std::memcpy(&x, p, 8); v.scalar_.f = x; break; }
    default: break;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr && size) munmap(addr, size);
  }
};

}  // namespace

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::Open(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    Fail("{}: cannot stat: {}", path, std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    Fail("{}: not a regular file", path);
  }
  auto mapping = std::make_shared<Mapping>();
  if (st.st_size > 0) {
    void* addr = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    const int e = errno;
    ::close(fd);
    if (addr == MAP_FAILED) Fail("{}: cannot map: {}", path, std::strerror(e));
    mapping->addr = addr;
    mapping->size = static_cast<size_t>(st.st_size);
  } else {
    ::close(fd);
  }
  f.base_ = static_cast<const uint8_t*>(mapping->addr);
  f.size_ = mapping->size;
  f.storage_ = mapping;
  f.mapped_ = mapping->addr != nullptr;
  f.Parse();
  return f;
}

uint64_t GgufFile::CopyTensorsToHugePages(const std::function<bool(const GgufTensor&)>& wanted) {
  constexpr uint64_t kAlign = 64;  // each copy starts on a cache line
  const size_t page = TransparentHugePageSize();
  if (!mapped_ || page == 0) return 0;
  uint64_t total = 0;
  for (const GgufTensor& t : tensors_) {
    if (wanted(t)) total += (t.n_bytes + kAlign - 1) / kAlign * kAlign;
  }
  // Leave 1 GiB for the KV cache, activations and everything else running.
  const uint64_t available = AvailableMemoryBytes();
  if (total == 0 || available < total + (1ull << 30)) return 0;
  std::shared_ptr<HugePageBuffer> buffer;
  try {
    buffer = std::make_shared<HugePageBuffer>(static_cast<size_t>(total), page);
  } catch (const std::bad_alloc&) {
    return 0;
  }
  // Copied in pieces of one huge page on all threads: most of the time goes to the kernel
  // zeroing the new pages on first touch (1.2 GiB took 1.2-3 s on one thread here).
  struct Piece {
    const uint8_t* src;
    uint8_t* dst;
    size_t n;
  };
  std::vector<Piece> pieces;
  uint8_t* dst = buffer->data();
  for (GgufTensor& t : tensors_) {
    if (!wanted(t)) continue;
    for (uint64_t off = 0; off < t.n_bytes; off += page) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(page, t.n_bytes - off));
      pieces.push_back({t.data + off, dst + off, n});
    }
    t.data = dst;
    dst += (t.n_bytes + kAlign - 1) / kAlign * kAlign;
  }
  tbb::parallel_for(size_t{0}, pieces.size(), [&](size_t i) {
    std::memcpy(pieces[i].dst, pieces[i].src, pieces[i].n);
    ReleaseMappedPages(pieces[i].src, pieces[i].n);
  });
  copies_ = std::move(buffer);
  return total;
}

GgufFile GgufFile::FromBytes(std::vector<uint8_t> bytes, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  f.base_ = owned->data();
  f.size_ = owned->size();
  f.storage_ = owned;
  f.Parse();
  return f;
}

void GgufFile::Parse() {
  GgufParser parser(*this);
  parser.Run();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensor* GgufFile::FindTensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t FileFingerprint(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) Fail("{}: cannot open: {}", path, std::strerror(errno));
  uint64_t h = 0xcbf29ce484222325ull;
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    for (size_t i = 0; i < n; ++i) h = (h ^ buf[i]) * 0x100000001b3ull;
  }
  std::fclose(f);
  return h;
}

}  // namespace gemma
