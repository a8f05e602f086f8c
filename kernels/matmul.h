// Matrix products against weights in any supported GGUF format: the hot path of the runtime.
//
//   y[t][r] = sum_i W[r][i] * x[t][i]     for t < n_tokens, r < w.rows
//
// x is [n_tokens][w.cols] and y is [n_tokens][w.rows], both row-major and contiguous. One call
// with n_tokens = 1 is a decode step's matrix-vector product; larger n_tokens is prefill.
#pragma once

#include <cstddef>

#include "kernels/matrix.h"

namespace gemma {

// How activations meet integer weights.
enum class Precision {
  kExact,  // activations stay fp32; weights are decoded to fp32 (reference numerics)
  kFast,   // activations quantized on the fly (int8 blocks) for integer dot products
};

void MatMul(const Matrix& w, const float* x, size_t n_tokens, float* y,
            Precision precision = Precision::kFast);

// The GeGLU front half of a feed-forward block, fused:
//   out[t][r] = gelu_tanh(dot(gate[r], x[t])) * dot(up[r], x[t])
// gate and up have the same shape; out is [n_tokens][gate.rows].
void GeGLU(const Matrix& gate, const Matrix& up, const float* x, size_t n_tokens, float* out,
           Precision precision = Precision::kFast);

}  // namespace gemma
