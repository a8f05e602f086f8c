// Activations quantized on the fly for integer dot products (Precision::kFast): blocks of 32
// int8 codes with an fp32 scale, the same granularity as ggml's Q8_0 activations but with a
// full-precision scale, so the rounding cost is no larger than llama.cpp's.
//
// This is the scalar reference. The SIMD quantizer (kernels/) must produce identical codes and
// scales, so the rule is spelled out exactly:
//   amax = max |x| over the block;  d = amax / 127;  id = d != 0 ? 1 / d : 0
//   q = round_half_even(x * id), clamped to [-127, 127]   (never -128)
#pragma once

#include <cstddef>
#include <cstdint>

namespace gemma {

constexpr int kQ8Block = 32;

// n must be a multiple of 32; q gets n codes, d gets n / 32 scales.
void QuantizeActivationsQ8(const float* x, size_t n, int8_t* q, float* d);

}  // namespace gemma
