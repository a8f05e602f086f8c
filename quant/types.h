// GGUF / ggml tensor element types: ids, block geometry and names.
//
// The numeric ids are the ones GGUF files carry (ggml's `enum ggml_type`); they are part of the
// file format and must never be renumbered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gemma {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

struct TypeTraits {
  std::string_view name;   // "Q4_0", as llama.cpp prints it
  uint32_t block_size = 0; // elements per block (1 for plain floats)
  uint32_t type_size = 0;  // bytes per block
  bool supported = false;  // gemma-run can compute with it (load, dequantize, multiply)
};

// Traits of a type id found in a file; nullopt for ids ggml does not define at all.
std::optional<TypeTraits> LookupType(uint32_t id);
// Traits of a known type (asserts it is known).
const TypeTraits& Traits(GgmlType t);
inline std::string_view TypeName(GgmlType t) { return Traits(t).name; }
// Parses "q4_0", "Q8_0", "bf16", ... (case-insensitive); nullopt if unknown.
std::optional<GgmlType> ParseTypeName(std::string_view name);

// Bytes of one row of `n` elements; `n` must be a multiple of the block size.
inline size_t RowBytes(GgmlType t, size_t n) {
  const TypeTraits& tr = Traits(t);
  return n / tr.block_size * tr.type_size;
}

}  // namespace gemma
