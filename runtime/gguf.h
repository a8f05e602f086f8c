// GGUF v2/v3 reader over a read-only memory mapping.
//
// Parsing validates every length, count and offset against the bytes that exist, so a truncated
// or lying file ends in one gemma::Error, never in an out-of-bounds read. Metadata values and
// tensor data are views into the mapping: nothing is copied.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quant/types.h"

namespace gemma {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

std::string_view GgufTypeName(GgufType t);
// Size in bytes of a fixed-size scalar type; 0 for STRING and ARRAY.
size_t GgufScalarSize(GgufType t);

// One metadata value. Scalars are decoded; strings and arrays point into the mapping.
class GgufValue {
 public:
  GgufType type = GgufType::U8;

  bool IsInteger() const;
  bool IsFloat() const { return type == GgufType::F32 || type == GgufType::F64; }
  bool IsArray() const { return type == GgufType::ARRAY; }

  // Scalar access; the caller checks the type first (see ModelConfig's typed getters).
  int64_t AsInt() const;      // any integer type (U64 values above INT64_MAX are clamped)
  uint64_t AsUInt() const;    // any integer type, reinterpreted
  double AsDouble() const;    // any integer or float type
  bool AsBool() const { return scalar_.u != 0; }
  std::string_view AsString() const { return str_; }

  // Arrays.
  GgufType ElemType() const { return elem_type_; }
  uint64_t Size() const { return count_; }
  // Element i of an array of numbers or bools, as a scalar value.
  GgufValue Element(uint64_t i) const;
  std::string_view StringAt(uint64_t i) const { return strings_[i]; }
  const std::vector<std::string_view>& Strings() const { return strings_; }
  const GgufValue& ArrayAt(uint64_t i) const { return items_[i]; }
  // Raw little-endian bytes of an array of fixed-size scalars.
  const uint8_t* RawData() const { return data_; }

 private:
  friend class GgufParser;
  // Decodes a fixed-size little-endian scalar at p (sign-extending signed types).
  static GgufValue Decode(GgufType t, const uint8_t* p);
  union Scalar {
    uint64_t u;
    int64_t i;
    double f;
  } scalar_{0};
  std::string_view str_;
  GgufType elem_type_ = GgufType::U8;
  uint64_t count_ = 0;
  const uint8_t* data_ = nullptr;
  std::vector<std::string_view> strings_;  // arrays of strings
  std::vector<GgufValue> items_;           // arrays of arrays
};

struct GgufTensor {
  std::string_view name;
  GgmlType type = GgmlType::F32;
  int n_dims = 0;
  std::array<uint64_t, 4> ne = {1, 1, 1, 1};  // ne[0] is the contiguous dimension
  uint64_t offset = 0;                        // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping

  uint64_t Rows() const { return n_elements / ne[0]; }
  uint64_t RowBytes() const { return n_bytes / Rows(); }
  std::string ShapeString() const;  // "[1536, 262144]"
};

class GgufFile {
 public:
  // Maps and parses `path`. Throws gemma::Error on any problem.
  static GgufFile Open(const std::string& path);
  // Parses a copy of `bytes` (tests and fuzzers); `name` is used in messages.
  static GgufFile FromBytes(std::vector<uint8_t> bytes, const std::string& name);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::string& Path() const { return path_; }
  uint32_t Version() const { return version_; }
  uint64_t FileSize() const { return size_; }
  uint64_t Alignment() const { return alignment_; }
  uint64_t DataOffset() const { return data_offset_; }

  const std::vector<std::pair<std::string_view, GgufValue>>& Metadata() const { return kv_; }
  const GgufValue* Find(std::string_view key) const;

  const std::vector<GgufTensor>& Tensors() const { return tensors_; }
  const GgufTensor* FindTensor(std::string_view name) const;

  // Copies the data of the tensors `wanted` selects into one anonymous buffer backed by
  // transparent huge pages, points those tensors at the copies and drops their pages from the
  // file mapping. Returns the bytes copied: 0 (and nothing changes) when the file is not
  // mapped, the kernel offers no huge pages, or the copies would not fit in available memory.
  // Call before binding weights: views taken earlier keep pointing into the mapping.
  uint64_t CopyTensorsToHugePages(const std::function<bool(const GgufTensor&)>& wanted);

 private:
  friend class GgufParser;
  GgufFile() = default;
  void Parse();

  std::string path_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  std::shared_ptr<void> storage_;  // owns the mapping (or the byte vector)
  bool mapped_ = false;            // storage_ is a file mapping
  std::shared_ptr<void> copies_;   // tensors moved by CopyTensorsToHugePages
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string_view, GgufValue>> kv_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::vector<GgufTensor> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

// 64-bit FNV-1a of a file's bytes (identifies the exact file a test fixture was made from).
uint64_t FileFingerprint(const std::string& path);

}  // namespace gemma
