// Float matmul kernels, compiled for every Highway target: F32/F16/BF16 weights (converted to
// f32 in registers) times f32 activations, and the fused GeGLU epilogue. Precision::kExact
// of integer formats also lands here, on rows decoded by the scalar reference decoder.
#include "kernels/hwy_fixed_targets.h"  // before foreach_target.h

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul_float.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/float_kernels.h"
#include "kernels/ops.h"
#include "quant/fp16.h"
#include "quant/quantize.h"

// Highway after foreach_target.h, its contrib -inl headers after highway.h.
#include "hwy/highway.h"

#include "hwy/contrib/math/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace gemma {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Tile: kR rows by kT tokens of accumulators.
#if HWY_TARGET <= HWY_AVX3 || HWY_TARGET == HWY_NEON
constexpr size_t kGemmRows = 4, kGemmTokens = 4;
#else
constexpr size_t kGemmRows = 3, kGemmTokens = 3;
#endif
constexpr size_t kDecodeRows = 4;

template <typename WT>
HWY_INLINE VF LoadWeights(const WT* p) {
  const DF df;
  if constexpr (std::is_same_v<WT, float>) {
    return hn::LoadU(df, p);
  } else {
    return hn::PromoteTo(df, hn::LoadU(hn::Rebind<WT, DF>(), p));
  }
}

template <typename WT>
HWY_INLINE float WeightToF32(WT w) {
  if constexpr (std::is_same_v<WT, float>) {
    return w;
  } else {
    uint16_t bits;
    std::memcpy(&bits, &w, 2);
    return std::is_same_v<WT, hwy::float16_t> ? F16ToF32(bits) : BF16ToF32(bits);
  }
}

// out[t][r] = dot(rows[r], x[t]) over n elements.
template <typename WT, size_t kR, size_t kT>
HWY_INLINE void FloatTile(const WT* const* rows, const float* const* x, size_t n,
                          float (*out)[kR]) {
  const DF df;
  constexpr size_t N = hn::MaxLanes(DF());
  VF acc[kR][kT];
  for (size_t r = 0; r < kR; ++r) {
    for (size_t t = 0; t < kT; ++t) acc[r][t] = hn::Zero(df);
  }
  size_t i = 0;
  for (; i + N <= n; i += N) {
    VF xv[kT];
    for (size_t t = 0; t < kT; ++t) xv[t] = hn::LoadU(df, x[t] + i);
    for (size_t r = 0; r < kR; ++r) {
      const VF w = LoadWeights(rows[r] + i);
      for (size_t t = 0; t < kT; ++t) acc[r][t] = hn::MulAdd(w, xv[t], acc[r][t]);
    }
  }
  for (size_t t = 0; t < kT; ++t) {
    for (size_t r = 0; r < kR; ++r) {
      float s = hn::GetLane(hn::SumOfLanes(df, acc[r][t]));
      for (size_t j = i; j < n; ++j) s += WeightToF32(rows[r][j]) * x[t][j];
      out[t][r] = s;
    }
  }
}

// Rows [r0, r1) by tokens [t0, t1); rows[i] gives row i's WT data (decoded rows or the matrix).
template <typename WT, size_t kR, size_t kT, typename RowFn>
HWY_INLINE void FloatRowsWithTile(RowFn row, size_t n, const float* x, size_t r0, size_t r1,
                                  size_t t0, size_t t1, float* y, size_t ldy) {
  for (size_t r = r0; r < r1; r += kR) {
    const size_t nr = std::min(kR, r1 - r);
    const WT* rows[kR];
    for (size_t i = 0; i < kR; ++i) rows[i] = row(r + std::min(i, nr - 1));
    for (size_t t = t0; t < t1; t += kT) {
      const size_t nt = std::min(kT, t1 - t);
      const float* xs[kT];
      for (size_t i = 0; i < kT; ++i) xs[i] = x + (t + std::min(i, nt - 1)) * n;
      float out[kT][kR];
      FloatTile<WT, kR, kT>(rows, xs, n, out);
      for (size_t i = 0; i < nt; ++i) {
        for (size_t j = 0; j < nr; ++j) y[(t + i - t0) * ldy + (r - r0) + j] = out[i][j];
      }
    }
  }
}

template <typename WT, typename RowFn>
HWY_INLINE void FloatRowsOf(RowFn row, size_t n, const float* x, size_t r0, size_t r1, size_t t0,
                            size_t t1, float* y, size_t ldy) {
  if (t1 - t0 == 1) {
    FloatRowsWithTile<WT, kDecodeRows, 1>(row, n, x, r0, r1, t0, t1, y, ldy);
  } else {
    FloatRowsWithTile<WT, kGemmRows, kGemmTokens>(row, n, x, r0, r1, t0, t1, y, ldy);
  }
}

// Row r of the matrix as an array of T.
template <typename T>
struct RowsAs {
  const Matrix& w;
  const T* operator()(size_t r) const {
    return reinterpret_cast<const T*>(w.Row(static_cast<int64_t>(r)));
  }
};

void FloatRows(const Matrix* w, const float* x, size_t r0, size_t r1, size_t t0, size_t t1,
               float* y, size_t ldy, float* scratch) {
  const size_t n = static_cast<size_t>(w->cols);
  switch (w->type) {
    case GgmlType::F32:
      return FloatRowsOf<float>(RowsAs<float>{*w}, n, x, r0, r1, t0, t1, y, ldy);
    case GgmlType::F16:
      return FloatRowsOf<hwy::float16_t>(RowsAs<hwy::float16_t>{*w}, n, x, r0, r1, t0, t1, y, ldy);
    case GgmlType::BF16:
      return FloatRowsOf<hwy::bfloat16_t>(RowsAs<hwy::bfloat16_t>{*w}, n, x, r0, r1, t0, t1, y,
                                          ldy);
    default: {
      // Any other format: decode the rows (scratch holds r1 - r0 rows) with the reference decoder.
      for (size_t r = r0; r < r1; ++r) {
        DequantizeRow(w->type, w->Row(static_cast<int64_t>(r)), n, scratch + (r - r0) * n);
      }
      return FloatRowsOf<float>([&](size_t r) { return scratch + (r - r0) * n; }, n, x, r0, r1, t0,
                                t1, y, ldy);
    }
  }
}

// out = gelu_tanh(g) * u.
void GeluMul(const float* g, const float* u, float* out, size_t n) {
  const DF df;
  constexpr size_t N = hn::MaxLanes(DF());
  const VF half = hn::Set(df, 0.5f), one = hn::Set(df, 1.0f);
  const VF k0 = hn::Set(df, 0.7978845608028654f), k1 = hn::Set(df, 0.044715f);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const VF x = hn::LoadU(df, g + i);
    const VF inner = hn::Mul(k0, hn::MulAdd(hn::Mul(k1, hn::Mul(x, x)), x, x));
    const VF gelu = hn::Mul(hn::Mul(half, x), hn::Add(one, hn::Tanh(df, inner)));
    hn::StoreU(hn::Mul(gelu, hn::LoadU(df, u + i)), df, out + i);
  }
  for (; i < n; ++i) out[i] = GeluTanh(g[i]) * u[i];
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gemma {

HWY_EXPORT(FloatRows);
HWY_EXPORT(GeluMul);

void FloatMatMulRows(const Matrix& w, const float* x, size_t r0, size_t r1, size_t t0, size_t t1,
                     float* y, size_t ldy, float* scratch) {
  HWY_DYNAMIC_DISPATCH(FloatRows)(&w, x, r0, r1, t0, t1, y, ldy, scratch);
}

void GeluTanhMul(const float* g, const float* u, float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(GeluMul)(g, u, out, n);
}

}  // namespace gemma
#endif  // HWY_ONCE
