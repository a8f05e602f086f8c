// GGUF v3 writer. Metadata is kept in memory; tensor data is produced row range by row range
// through a callback while the file is written, so multi-gigabyte synthetic models never need
// to fit in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"
#include "runtime/gguf.h"

namespace gemma {

// A metadata value ready to be written: its type tag and its serialised payload.
class GgufWriteValue {
 public:
  static GgufWriteValue U8(uint8_t v);
  static GgufWriteValue I8(int8_t v);
  static GgufWriteValue U16(uint16_t v);
  static GgufWriteValue I16(int16_t v);
  static GgufWriteValue U32(uint32_t v);
  static GgufWriteValue I32(int32_t v);
  static GgufWriteValue U64(uint64_t v);
  static GgufWriteValue I64(int64_t v);
  static GgufWriteValue F32(float v);
  static GgufWriteValue F64(double v);
  static GgufWriteValue Bool(bool v);
  static GgufWriteValue String(std::string_view v);
  // An array whose items all have type `elem` (items may themselves be arrays).
  static GgufWriteValue Array(GgufType elem, const std::vector<GgufWriteValue>& items);
  static GgufWriteValue ArrayI32(const std::vector<int32_t>& v);
  static GgufWriteValue ArrayF32(const std::vector<float>& v);
  static GgufWriteValue ArrayBool(const std::vector<bool>& v);
  static GgufWriteValue ArrayString(const std::vector<std::string>& v);
  // Copies a value read from another file (e.g. a tokenizer from a vocab-only GGUF).
  static GgufWriteValue Copy(const GgufValue& v);

  GgufType Type() const { return type_; }
  const std::string& Payload() const { return payload_; }

 private:
  GgufType type_ = GgufType::U8;
  std::string payload_;
};

class GgufWriter {
 public:
  // Writes rows [row_begin, row_end) of the encoded tensor to dst.
  using FillFn = std::function<void(uint64_t row_begin, uint64_t row_end, uint8_t* dst)>;

  // Sets a key (replacing an earlier value of the same key, keeping its position).
  void Set(std::string_view key, GgufWriteValue v);
  void Remove(std::string_view key);
  void SetAlignment(uint32_t alignment);
  void SetVersion(uint32_t version) { version_ = version; }

  // ne[0] is the contiguous dimension; the row length must be a multiple of the block size.
  void AddTensor(std::string name, GgmlType type, std::vector<uint64_t> ne, FillFn fill);
  void AddTensorData(std::string name, GgmlType type, std::vector<uint64_t> ne,
                     std::vector<uint8_t> data);

  // Drops the tensors whose name satisfies `pred` (offsets are recomputed).
  void RemoveTensorsIf(const std::function<bool(std::string_view)>& pred);

  size_t TensorCount() const { return tensors_.size(); }
  // Total bytes the file will have.
  uint64_t FileSize() const;

  // Writes the file atomically (to PATH.tmp, then renamed). Throws gemma::Error.
  void Write(const std::string& path) const;
  std::vector<uint8_t> WriteToBytes() const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> ne;
    uint64_t n_bytes;
    uint64_t offset;
    FillFn fill;
  };
  void Relayout();  // recomputes tensor offsets
  std::string Header() const;
  template <typename Sink>
  void Emit(Sink&& sink) const;

  uint32_t version_ = 3;
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufWriteValue>> kv_;
  std::vector<Tensor> tensors_;
  uint64_t data_size_ = 0;
};

}  // namespace gemma
