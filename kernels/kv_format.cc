#include "kernels/kv_format.h"

#include <cctype>
#include <string>

#include "quant/quantize.h"
#include "quant/types.h"

namespace gemma {
namespace {

// The cache formats are GGUF block formats; the quant/ reference codecs encode them.
GgmlType AsGgml(KvType type) {
  switch (type) {
    case KvType::kF32: return GgmlType::F32;
    case KvType::kF16: return GgmlType::F16;
    case KvType::kBF16: return GgmlType::BF16;
    case KvType::kQ8_0: return GgmlType::Q8_0;
  }
  return GgmlType::F32;
}

}  // namespace

const char* KvTypeName(KvType type) {
  switch (type) {
    case KvType::kF32: return "f32";
    case KvType::kF16: return "f16";
    case KvType::kBF16: return "bf16";
    case KvType::kQ8_0: return "q8_0";
  }
  return "?";
}

std::optional<KvType> ParseKvType(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (KvType t : {KvType::kF32, KvType::kF16, KvType::kBF16, KvType::kQ8_0}) {
    if (lower == KvTypeName(t)) return t;
  }
  return std::nullopt;
}

size_t KvBlockSize(KvType type) { return Traits(AsGgml(type)).block_size; }

size_t KvRowBytes(KvType type, size_t n) {
  const TypeTraits& t = Traits(AsGgml(type));
  return n / t.block_size * t.type_size;
}

void EncodeKvRow(KvType type, const float* x, size_t n, void* out) {
  QuantizeRow(AsGgml(type), x, n, out);
}

void DecodeKvRow(KvType type, const void* in, size_t n, float* y) {
  DequantizeRow(AsGgml(type), in, n, y);
}

}  // namespace gemma
