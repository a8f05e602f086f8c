// Activations prepared for the integer kernels: every token's row quantized to Q8 blocks
// (quant/q8_activations.h) plus two per-block side tables that move work out of the inner loop.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/aligned_buffer.h"

namespace gemma {

struct Q8Activations {
  size_t n_tokens = 0;
  size_t cols = 0;    // multiple of 32
  size_t blocks = 0;  // cols / 32
  // Offset correction lanes per block: 4 (one per 128-bit chunk lane, whole block) or 8 (two
  // halves of 16, for formats with a scale per 16 elements). Lane i of a half holds
  //   -offset * (q[4i] + q[4i+1] + q[4i+2] + q[4i+3])
  // summed over the halves it covers, so that starting an integer accumulator from it turns a
  // dot product with unsigned codes into one with (code - offset).
  size_t bias_lanes = 4;

  AlignedBuffer<int8_t> q;      // [n_tokens][cols]
  AlignedBuffer<float> scale;   // [n_tokens][blocks]: the Q8 scale d
  AlignedBuffer<float> sum;     // [n_tokens][blocks]: d * sum(q), for the K-quant mins
  AlignedBuffer<int32_t> bias;  // [n_tokens][blocks][bias_lanes]

  void Resize(size_t tokens, size_t columns, size_t lanes) {
    n_tokens = tokens;
    cols = columns;
    blocks = columns / 32;
    bias_lanes = lanes;
    q.Resize(tokens * columns);
    scale.Resize(tokens * blocks);
    sum.Resize(tokens * blocks);
    bias.Resize(tokens * blocks * lanes);
  }
  const int8_t* Q(size_t t) const { return q.data() + t * cols; }
  const float* Scale(size_t t) const { return scale.data() + t * blocks; }
  const float* Sum(size_t t) const { return sum.data() + t * blocks; }
  const int32_t* Bias(size_t t) const { return bias.data() + t * blocks * bias_lanes; }
};

}  // namespace gemma
