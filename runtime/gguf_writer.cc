#include "runtime/gguf_writer.h"

#include <tbb/parallel_for.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runtime/error.h"

namespace gemma {

namespace {

template <typename T>
void Append(std::string& s, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  s.append(b, sizeof(T));
}

void AppendString(std::string& s, std::string_view v) {
  Append<uint64_t>(s, v.size());
  s.append(v);
}

}  // namespace

#define GEMMA_GGUF_SCALAR(Name, CType, Tag)                  \
  GgufWriteValue GgufWriteValue::Name(CType v) {             \
    GgufWriteValue r;                                        \
    r.type_ = GgufType::Tag;                                 \
    Append<CType>(r.payload_, v);                            \
    return r;                                                \
  }
GEMMA_GGUF_SCALAR(U8, uint8_t, U8)
GEMMA_GGUF_SCALAR(I8, int8_t, I8)
GEMMA_GGUF_SCALAR(U16, uint16_t, U16)
GEMMA_GGUF_SCALAR(I16, int16_t, I16)
GEMMA_GGUF_SCALAR(U32, uint32_t, U32)
GEMMA_GGUF_SCALAR(I32, int32_t, I32)
GEMMA_GGUF_SCALAR(U64, uint64_t, U64)
GEMMA_GGUF_SCALAR(I64, int64_t, I64)
GEMMA_GGUF_SCALAR(F32, float, F32)
GEMMA_GGUF_SCALAR(F64, double, F64)
#undef GEMMA_GGUF_SCALAR

GgufWriteValue GgufWriteValue::Bool(bool v) {
  GgufWriteValue r;
  r.type_ = GgufType::BOOL;
  r.payload_.push_back(v ? 1 : 0);
  return r;
}

GgufWriteValue GgufWriteValue::String(std::string_view v) {
  GgufWriteValue r;
  r.type_ = GgufType::STRING;
  AppendString(r.payload_, v);
  return r;
}

GgufWriteValue GgufWriteValue::Array(GgufType elem, const std::vector<GgufWriteValue>& items) {
  GgufWriteValue r;
  r.type_ = GgufType::ARRAY;
  Append<uint32_t>(r.payload_, static_cast<uint32_t>(elem));
  Append<uint64_t>(r.payload_, items.size());
  for (const GgufWriteValue& it : items) {
    if (it.type_ != elem) Fail("GgufWriteValue::Array: item type differs from the element type");
    // Items of an array of arrays carry their own element-type tag inside the payload; GGUF
    // writes nested arrays as (elem type, count, items), which is exactly the payload.
    r.payload_ += it.payload_;
  }
  return r;
}

GgufWriteValue GgufWriteValue::ArrayI32(const std::vector<int32_t>& v) {
  GgufWriteValue r;
  r.type_ = GgufType::ARRAY;
  Append<uint32_t>(r.payload_, static_cast<uint32_t>(GgufType::I32));
  Append<uint64_t>(r.payload_, v.size());
  for (int32_t x : v) Append<int32_t>(r.payload_, x);
  return r;
}

GgufWriteValue GgufWriteValue::ArrayF32(const std::vector<float>& v) {
  GgufWriteValue r;
  r.type_ = GgufType::ARRAY;
  Append<uint32_t>(r.payload_, static_cast<uint32_t>(GgufType::F32));
  Append<uint64_t>(r.payload_, v.size());
  for (float x : v) Append<float>(r.payload_, x);
  return r;
}

GgufWriteValue GgufWriteValue::ArrayBool(const std::vector<bool>& v) {
  GgufWriteValue r;
  r.type_ = GgufType::ARRAY;
  Append<uint32_t>(r.payload_, static_cast<uint32_t>(GgufType::BOOL));
  Append<uint64_t>(r.payload_, v.size());
  for (bool x : v) r.payload_.push_back(x ? 1 : 0);
  return r;
}

GgufWriteValue GgufWriteValue::ArrayString(const std::vector<std::string>& v) {
  GgufWriteValue r;
  r.type_ = GgufType::ARRAY;
  Append<uint32_t>(r.payload_, static_cast<uint32_t>(GgufType::STRING));
  Append<uint64_t>(r.payload_, v.size());
  for (const std::string& x : v) AppendString(r.payload_, x);
  return r;
}

GgufWriteValue GgufWriteValue::Copy(const GgufValue& v) {
  GgufWriteValue r;
  r.type_ = v.type;
  if (v.type == GgufType::STRING) {
    AppendString(r.payload_, v.AsString());
  } else if (v.type == GgufType::ARRAY) {
    Append<uint32_t>(r.payload_, static_cast<uint32_t>(v.ElemType()));
    Append<uint64_t>(r.payload_, v.Size());
    if (v.ElemType() == GgufType::STRING) {
      for (std::string_view s : v.Strings()) AppendString(r.payload_, s);
    } else if (v.ElemType() == GgufType::ARRAY) {
      for (uint64_t i = 0; i < v.Size(); ++i) r.payload_ += Copy(v.ArrayAt(i)).payload_;
    } else {
      r.payload_.append(reinterpret_cast<const char*>(v.RawData()),
                        v.Size() * GgufScalarSize(v.ElemType()));
    }
  } else {
    // Re-encode the decoded scalar in its own width (little-endian).
    const uint64_t bits = v.IsFloat() ? 0 : v.AsUInt();
    switch (v.type) {
      case GgufType::F32: Append<float>(r.payload_, static_cast<float>(v.AsDouble())); break;
      case GgufType::F64: Append<double>(r.payload_, v.AsDouble()); break;
      default: r.payload_.append(reinterpret_cast<const char*>(&bits), GgufScalarSize(v.type));
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------

void GgufWriter::Set(std::string_view key, GgufWriteValue v) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  }
  kv_.emplace_back(std::string(key), std::move(v));
}

void GgufWriter::Remove(std::string_view key) {
  std::erase_if(kv_, [&](const auto& kv) { return kv.first == key; });
}

void GgufWriter::SetAlignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    Fail("GGUF alignment {} is not a power of two", alignment);
  }
  alignment_ = alignment;
  Set("general.alignment", GgufWriteValue::U32(alignment));
  Relayout();
}

void GgufWriter::RemoveTensorsIf(const std::function<bool(std::string_view)>& pred) {
  std::erase_if(tensors_, [&](const Tensor& t) { return pred(t.name); });
  Relayout();
}

void GgufWriter::Relayout() {
  data_size_ = 0;
  for (Tensor& t : tensors_) {
    t.offset = data_size_;
    data_size_ += (t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
  }
}

void GgufWriter::AddTensor(std::string name, GgmlType type, std::vector<uint64_t> ne, FillFn fill) {
  if (ne.empty() || ne.size() > 4) Fail("tensor '{}': {} dimensions", name, ne.size());
  const TypeTraits& tr = Traits(type);
  if (ne[0] % tr.block_size != 0) {
    Fail("tensor '{}': row length {} is not a multiple of the {} block size {}", name, ne[0],
         tr.name, tr.block_size);
  }
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  const uint64_t n_bytes = n / tr.block_size * tr.type_size;
  tensors_.push_back({std::move(name), type, std::move(ne), n_bytes, data_size_, std::move(fill)});
  data_size_ += (n_bytes + alignment_ - 1) / alignment_ * alignment_;
}

void GgufWriter::AddTensorData(std::string name, GgmlType type, std::vector<uint64_t> ne,
                               std::vector<uint8_t> data) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(std::move(data));
  const uint64_t rows_bytes = bytes->size();
  uint64_t rows = 1;
  for (size_t d = 1; d < ne.size(); ++d) rows *= ne[d];
  const uint64_t row_bytes = rows ? rows_bytes / rows : 0;
  AddTensor(std::move(name), type, std::move(ne),
            [bytes, row_bytes](uint64_t r0, uint64_t r1, uint8_t* dst) {
              std::memcpy(dst, bytes->data() + r0 * row_bytes, (r1 - r0) * row_bytes);
            });
  if (tensors_.back().n_bytes != rows_bytes) {
    Fail("tensor '{}': {} bytes of data given, the shape needs {}", tensors_.back().name,
         rows_bytes, tensors_.back().n_bytes);
  }
}

std::string GgufWriter::Header() const {
  std::string h;
  h.append("GGUF", 4);
  Append<uint32_t>(h, version_);
  Append<uint64_t>(h, tensors_.size());
  Append<uint64_t>(h, kv_.size());
  for (const auto& [key, v] : kv_) {
    AppendString(h, key);
    Append<uint32_t>(h, static_cast<uint32_t>(v.Type()));
    h += v.Payload();
  }
  for (const Tensor& t : tensors_) {
    AppendString(h, t.name);
    Append<uint32_t>(h, static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) Append<uint64_t>(h, d);
    Append<uint32_t>(h, static_cast<uint32_t>(t.type));
    Append<uint64_t>(h, t.offset);
  }
  h.resize((h.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
  return h;
}

uint64_t GgufWriter::FileSize() const { return Header().size() + data_size_; }

// Streams header and tensor data to `sink(const void*, size_t)`, filling tensors in parallel
// chunks of rows.
template <typename Sink>
void GgufWriter::Emit(Sink&& sink) const {
  const std::string header = Header();
  sink(header.data(), header.size());
  constexpr uint64_t kChunkBytes = 64ull << 20;
  std::vector<uint8_t> buf;
  for (const Tensor& t : tensors_) {
    uint64_t rows = 1;
    for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
    const uint64_t row_bytes = t.n_bytes / rows;
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, kChunkBytes / row_bytes);
    for (uint64_t r0 = 0; r0 < rows; r0 += rows_per_chunk) {
      const uint64_t r1 = std::min(rows, r0 + rows_per_chunk);
      buf.resize((r1 - r0) * row_bytes);
      // Split the chunk across threads; fill functions must be thread-safe on disjoint rows.
      const uint64_t grain = std::max<uint64_t>(1, (64u << 10) / row_bytes);
      tbb::parallel_for(tbb::blocked_range<uint64_t>(r0, r1, grain),
                        [&](const tbb::blocked_range<uint64_t>& r) {
                          t.fill(r.begin(), r.end(), buf.data() + (r.begin() - r0) * row_bytes);
                        });
      sink(buf.data(), buf.size());
    }
    const uint64_t pad = (t.n_bytes + alignment_ - 1) / alignment_ * alignment_ - t.n_bytes;
    static const char zeros[4096] = {};
    sink(zeros, pad);
  }
}

void GgufWriter::Write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) Fail("{}: cannot create: {}", tmp, std::strerror(errno));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(f, std::fclose);
  Emit([&](const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f) != n) Fail("{}: write failed: {}", tmp, std::strerror(errno));
  });
  if (std::fclose(guard.release()) != 0) Fail("{}: write failed: {}", tmp, std::strerror(errno));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Fail("{}: cannot rename to {}: {}", tmp, path, std::strerror(errno));
  }
}

std::vector<uint8_t> GgufWriter::WriteToBytes() const {
  std::vector<uint8_t> out;
  Emit([&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  });
  return out;
}

}  // namespace gemma
