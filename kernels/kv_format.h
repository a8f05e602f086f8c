// Element formats of the KV cache and their scalar codecs. The attention kernel decodes cached
// rows with SIMD (kernels/attention-inl.h); these scalar functions are its ground truth and the
// encoder the cache writes with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gemma {

enum class KvType : uint8_t {
  kF32,
  kF16,   // IEEE half, round to nearest even (the default: half the bytes, ~3 decimal digits)
  kBF16,  // bfloat16, round to nearest even
  kQ8_0,  // ggml Q8_0 blocks: 32 int8 values and one fp16 scale (34 bytes per 32 values)
};

// "f32", "f16", "bf16", "q8_0".
const char* KvTypeName(KvType type);
// Accepts the names above in any case ("F16", "q8_0"); nullopt for anything else.
std::optional<KvType> ParseKvType(std::string_view name);

// Values per encoding block (32 for q8_0, else 1): row lengths must be multiples of it.
size_t KvBlockSize(KvType type);
// Bytes holding n values.
size_t KvRowBytes(KvType type, size_t n);

// Encodes n floats into `out` (KvRowBytes(type, n) bytes); q8_0 rounds like ggml's reference.
void EncodeKvRow(KvType type, const float* x, size_t n, void* out);
// Decodes n values.
void DecodeKvRow(KvType type, const void* in, size_t n, float* y);

}  // namespace gemma
