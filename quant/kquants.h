// Scalar reference encoders and decoders of ggml's "K-quant" super-block formats Q4_K, Q5_K
// and Q6_K (256 elements per block). Byte layouts are in quant/blocks.h; the encoders follow
// ggml's reference rounding (quantize_row_q*_K_ref, no importance matrix) so that files look
// like llama-quantize output, bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/blocks.h"

namespace gemma {

// The eight 6-bit sub-block scales and eight 6-bit mins of a Q4_K / Q5_K block, unpacked from
// its 12 packed bytes: scales 0-3 and mins 0-3 are the low 6 bits of bytes 0-3 and 4-7; scales
// and mins 4-7 take their low 4 bits from the nibbles of bytes 8-11 and their top 2 bits from
// the top bits of bytes 0-3 (scales) and 4-7 (mins).
struct KScales {
  uint8_t scale[8];
  uint8_t min[8];
};
KScales UnpackKScales(const uint8_t packed[kKScaleBytes]);

void QuantizeQ4_K(const float* x, size_t n, BlockQ4_K* y);
void DequantizeQ4_K(const BlockQ4_K* x, size_t n, float* y);
void QuantizeQ5_K(const float* x, size_t n, BlockQ5_K* y);
void DequantizeQ5_K(const BlockQ5_K* x, size_t n, float* y);
void QuantizeQ6_K(const float* x, size_t n, BlockQ6_K* y);
void DequantizeQ6_K(const BlockQ6_K* x, size_t n, float* y);

// Integer codes of element i of a block (before scales and offsets are applied):
// Q4_K: 0..15, Q5_K: 0..31, Q6_K: 0..63 (value = d * scale * (code - 32)).
int Q4_KCode(const BlockQ4_K& b, int i);
int Q5_KCode(const BlockQ5_K& b, int i);
int Q6_KCode(const BlockQ6_K& b, int i);

}  // namespace gemma
