// Internal: the float kernels of kernels/matmul_float.cc, dispatched to the best Highway target.
#pragma once

#include <cstddef>

#include "kernels/matrix.h"

namespace gemma {

// y[(t - t0) * ldy + (r - r0)] = row r of w times x[t] (f32, [n_tokens][w.cols]) for r in [r0, r1),
// t in [t0, t1). F32/F16/BF16 rows are read in place; any other format is first decoded to
// f32 by the reference decoder into scratch ((r1 - r0) * w.cols floats).
void FloatMatMulRows(const Matrix& w, const float* x, size_t r0, size_t r1, size_t t0, size_t t1,
                     float* y, size_t ldy, float* scratch);

// out[i] = gelu_tanh(g[i]) * u[i] (out may alias g or u).
void GeluTanhMul(const float* g, const float* u, float* out, size_t n);

}  // namespace gemma
