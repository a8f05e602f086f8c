// Portable reference implementation: each weight row is decoded to fp32 once per call and
// multiplied with every token's activations. The SIMD kernels replace this; it stays the
// numerics reference (Precision::kExact).
#include "kernels/matmul.h"

#include <tbb/parallel_for.h>

#include <vector>

#include "kernels/ops.h"
#include "quant/quantize.h"

namespace gemma {

namespace {

float Dot(const float* a, const float* b, size_t n) {
  float s[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  }
  float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

template <typename RowFn>
void ForEachDecodedRow(const Matrix& w, RowFn&& fn) {
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, w.rows, 16),
                    [&](const tbb::blocked_range<int64_t>& range) {
                      std::vector<float> row(static_cast<size_t>(w.cols));
                      for (int64_t r = range.begin(); r != range.end(); ++r) {
                        DequantizeRow(w.type, w.Row(r), static_cast<size_t>(w.cols), row.data());
                        fn(r, row.data());
                      }
                    });
}

}  // namespace

void MatMul(const Matrix& w, const float* x, size_t n_tokens, float* y, Precision) {
  const size_t cols = static_cast<size_t>(w.cols), rows = static_cast<size_t>(w.rows);
  ForEachDecodedRow(w, [&](int64_t r, const float* row) {
    for (size_t t = 0; t < n_tokens; ++t) y[t * rows + r] = Dot(row, x + t * cols, cols);
  });
}

void GeGLU(const Matrix& gate, const Matrix& up, const float* x, size_t n_tokens, float* out,
           Precision precision) {
  const size_t rows = static_cast<size_t>(gate.rows);
  std::vector<float> u(n_tokens * rows);
  MatMul(gate, x, n_tokens, out, precision);
  MatMul(up, x, n_tokens, u.data(), precision);
  for (size_t i = 0; i < n_tokens * rows; ++i) out[i] = GeluForExactPath(out[i]) * u[i];
}

}  // namespace gemma
