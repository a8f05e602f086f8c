// The scalar twin of the integer matmul kernels: the dot product of one weight row (any integer
// GGUF format) with activations in Q8 blocks (quant/q8_activations.h), organised exactly as the
// SIMD kernels organise it. Per 32-element block an exact integer sum of code products, then
// one float term:
//   Q4_0, Q8_0  float(sum (code - offset) * q) * (d_w * d_a)
//   Q4_K, Q5_K  float(sum code * q) * ((d * scale_j) * d_a) - (dmin * min_j) * (d_a * float(sum q))
//   Q6_K        float(scale_lo * sum_lo + scale_hi * sum_hi) * (d * d_a), sums over 16-halves
// The SIMD kernels add the same terms in another order, so they agree with this to float
// rounding of the final sum (exactly, when every term is an exactly representable integer).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace gemma {

struct Q8Dot {
  double value = 0;      // sum of the float terms
  double magnitude = 0;  // sum of their absolute values (scale for rounding tolerances)
};

// True for the weight types the integer kernels handle.
bool HasQ8Dot(GgmlType type);

// row: one row of n elements in `type`; q, d: its Q8 activations (n codes, n/32 scales).
Q8Dot DotWithQ8Activations(GgmlType type, const void* row, const int8_t* q, const float* d,
                           size_t n);

}  // namespace gemma
