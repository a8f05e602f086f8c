// Scalar reference encoders and decoders for the GGUF weight formats: the ground truth the
// SIMD kernels are tested against, and the encoder the synthetic-model writer uses.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace gemma {

// Encodes n floats (n a multiple of the type's block size) into `out` (RowBytes(type, n)).
// Rounding follows ggml's reference encoders, so files look like llama-quantize output.
void QuantizeRow(GgmlType type, const float* x, size_t n, void* out);

// Decodes n elements (n a multiple of the block size) from `in` into floats.
void DequantizeRow(GgmlType type, const void* in, size_t n, float* y);

// True if QuantizeRow/DequantizeRow handle `type`.
bool CanQuantize(GgmlType type);

}  // namespace gemma
