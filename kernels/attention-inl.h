// Per-target SIMD code of the attention kernel, compiled once per Highway target by
// kernels/attention.cc (through hwy/foreach_target.h). See kernels/attention.h for the contract.
//
// One task (attention_task.h) is a set of query rows sharing a KV head against a range of keys.
// Keys are visited in aligned blocks of kAttentionKeyBlock: the block's K and V rows are decoded
// to fp32 once, then used by every row of the task (this is where grouped-query attention saves
// memory traffic). The softmax is online: per row a running max m, a running sum l and an
// unnormalised output accumulator O, rescaled by exp(m_old - m_new) when the max grows.
//
// Two layouts of the score tile, chosen by the number of rows:
// * few rows (decode): vectors run along the head dimension; a score is a dot product reduced
//   across lanes.
// * many rows (prefill): vectors run across query rows; Q is transposed once per task, a score
//   tile is an outer-product accumulation (no horizontal reductions) and the softmax bookkeeping
//   is vectorised over rows.
// Both accumulate P·V along the head dimension into row-major O.

#if defined(GEMMA_KERNELS_ATTENTION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA_KERNELS_ATTENTION_INL_H_
#undef GEMMA_KERNELS_ATTENTION_INL_H_
#else
#define GEMMA_KERNELS_ATTENTION_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"
#include "kernels/attention_task.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace gemma {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using AttnD = hn::ScalableTag<float>;
using AttnV = hn::Vec<AttnD>;

// Register tiles: x86 targets below AVX-512 have 16 vector registers, the others 32.
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || \
    HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
constexpr int kScoreKeys = 4;   // keys per transposed score tile
constexpr int kPvVectors = 2;   // head-dim vectors per P·V tile
#else
constexpr int kScoreKeys = 8;
constexpr int kPvVectors = 4;
#endif
constexpr int kScoreRowVectors = 2;  // row vectors per transposed score tile
constexpr int kRowTile = 4;          // rows per dot / P·V tile

// exp() of scores minus the running max; arguments below -120 (masked keys are -inf) give 0.
// Clamping keeps Highway's Exp inside its valid range.
HWY_INLINE AttnV ExpShifted(AttnD d, AttnV x) {
  return hn::Exp(d, hn::Max(x, hn::Set(d, -120.0f)));
}

// Decodes positions [pos0, pos0 + n) of one head of a cache into n rows of `dim` floats.
HWY_INLINE void DecodeRows(const KvStore& s, int head, int64_t pos0, int n, size_t dim,
                           float* HWY_RESTRICT out) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  for (int j = 0; j < n; ++j) {
    const uint8_t* src = s.Head(pos0 + j, head);
    float* HWY_RESTRICT dst = out + static_cast<size_t>(j) * dim;
    switch (s.type) {
      case KvType::kF32:
        std::memcpy(dst, src, dim * sizeof(float));
        break;
      case KvType::kF16: {
        const hn::Rebind<hwy::float16_t, AttnD> dh;
        const auto* h = reinterpret_cast<const hwy::float16_t*>(src);
        for (size_t i = 0; i < dim; i += N) hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, h + i)), df, dst + i);
        break;
      }
      case KvType::kBF16: {
        const hn::Rebind<hwy::bfloat16_t, AttnD> db;
        const auto* b = reinterpret_cast<const hwy::bfloat16_t*>(src);
        for (size_t i = 0; i < dim; i += N) hn::StoreU(hn::PromoteTo(df, hn::LoadU(db, b + i)), df, dst + i);
        break;
      }
      case KvType::kQ8_0: {
        const hn::Rebind<int8_t, AttnD> d8;
        const hn::RebindToSigned<AttnD> di;
        const auto* blocks = reinterpret_cast<const BlockQ8_0*>(src);
        for (size_t b = 0; b < dim / kQK; ++b) {
          uint16_t scale_bits;
          std::memcpy(&scale_bits, &blocks[b].d, sizeof(scale_bits));
          const AttnV scale = hn::Set(df, F16ToF32(scale_bits));
          for (size_t i = 0; i < static_cast<size_t>(kQK); i += N) {
            const auto q = hn::PromoteTo(di, hn::LoadU(d8, blocks[b].qs + i));
            hn::StoreU(hn::Mul(hn::ConvertTo(df, q), scale), df, dst + b * kQK + i);
          }
        }
        break;
      }
    }
  }
}

// ---- few rows: vectors along the head dimension ------------------------------------------------

// s[r * s_stride + c] = dot(q row r, k row c) for R rows and C keys.
template <int R, int C>
HWY_INLINE void DotTile(const float* HWY_RESTRICT q, const float* HWY_RESTRICT k, size_t dim,
                        float* HWY_RESTRICT s, size_t s_stride) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  AttnV acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = hn::Zero(df);
  }
  for (size_t i = 0; i < dim; i += N) {
    AttnV kv[C];
    for (int c = 0; c < C; ++c) kv[c] = hn::LoadU(df, k + c * dim + i);
    for (int r = 0; r < R; ++r) {
      const AttnV qv = hn::LoadU(df, q + r * dim + i);
      for (int c = 0; c < C; ++c) acc[r][c] = hn::MulAdd(qv, kv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) s[r * s_stride + c] = hn::GetLane(hn::SumOfLanes(df, acc[r][c]));
  }
}

template <int C>
HWY_INLINE void DotRows(int rows, const float* q, const float* k, size_t dim, float* s, size_t s_stride) {
  int r = 0;
  for (; r + kRowTile <= rows; r += kRowTile) DotTile<kRowTile, C>(q + r * dim, k, dim, s + r * s_stride, s_stride);
  switch (rows - r) {
    case 1: DotTile<1, C>(q + r * dim, k, dim, s + r * s_stride, s_stride); break;
    case 2: DotTile<2, C>(q + r * dim, k, dim, s + r * s_stride, s_stride); break;
    case 3: DotTile<3, C>(q + r * dim, k, dim, s + r * s_stride, s_stride); break;
    default: break;
  }
}

// ---- many rows: vectors across query rows ------------------------------------------------------

// st[c * m_pad + v * N + lane] = dot(k row c, q row (v * N + lane)) for C keys and RV row
// vectors, with q transposed: qt[i * m_pad + row].
template <int C, int RV>
HWY_INLINE void ScoreTileT(const float* HWY_RESTRICT k, const float* HWY_RESTRICT qt, size_t dim,
                           size_t m_pad, float* HWY_RESTRICT st) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  AttnV acc[C][RV];
  for (int c = 0; c < C; ++c) {
    for (int v = 0; v < RV; ++v) acc[c][v] = hn::Zero(df);
  }
  for (size_t i = 0; i < dim; ++i) {
    AttnV qv[RV];
    for (int v = 0; v < RV; ++v) qv[v] = hn::LoadU(df, qt + i * m_pad + v * N);
    for (int c = 0; c < C; ++c) {
      const AttnV kb = hn::Set(df, k[c * dim + i]);
      for (int v = 0; v < RV; ++v) acc[c][v] = hn::MulAdd(kb, qv[v], acc[c][v]);
    }
  }
  for (int c = 0; c < C; ++c) {
    for (int v = 0; v < RV; ++v) hn::StoreU(acc[c][v], df, st + c * m_pad + v * N);
  }
}

// ---- both: O[r][:] += sum_j P(r, j) * V[j][:] ------------------------------------------------

// R rows x NV vectors of O; p(r, j) = p[r * pr + j * pj].
template <int R, int NV>
HWY_INLINE void PvTile(const float* HWY_RESTRICT p, size_t pr, size_t pj, int n_keys,
                       const float* HWY_RESTRICT v, size_t dim, float* HWY_RESTRICT o) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  AttnV acc[R][NV];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < NV; ++c) acc[r][c] = hn::LoadU(df, o + r * dim + c * N);
  }
  for (int j = 0; j < n_keys; ++j) {
    AttnV vv[NV];
    for (int c = 0; c < NV; ++c) vv[c] = hn::LoadU(df, v + j * dim + c * N);
    for (int r = 0; r < R; ++r) {
      const AttnV pb = hn::Set(df, p[r * pr + j * pj]);
      for (int c = 0; c < NV; ++c) acc[r][c] = hn::MulAdd(pb, vv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < NV; ++c) hn::StoreU(acc[r][c], df, o + r * dim + c * N);
  }
}

template <int NV>
HWY_INLINE void PvRows(int rows, const float* p, size_t pr, size_t pj, int n_keys, const float* v,
                       size_t dim, float* o) {
  int r = 0;
  for (; r + kRowTile <= rows; r += kRowTile) PvTile<kRowTile, NV>(p + r * pr, pr, pj, n_keys, v, dim, o + r * dim);
  for (; r < rows; ++r) PvTile<1, NV>(p + r * pr, pr, pj, n_keys, v, dim, o + r * dim);
}

HWY_INLINE void AccumulatePv(int rows, const float* p, size_t pr, size_t pj, int n_keys,
                             const float* v, size_t dim, float* o) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  size_t c = 0;
  // Column chunks outermost: a chunk of the decoded V block stays in L1 across all row tiles.
  for (; c + kPvVectors * N <= dim; c += kPvVectors * N) PvRows<kPvVectors>(rows, p, pr, pj, n_keys, v + c, dim, o + c);
  for (; c < dim; c += N) PvRows<1>(rows, p, pr, pj, n_keys, v + c, dim, o + c);
}

// O[r][:] *= alpha[r] where the running max moved.
HWY_INLINE void RescaleRows(int rows, const float* alpha, size_t dim, float* o) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  for (int r = 0; r < rows; ++r) {
    if (alpha[r] == 1.0f) continue;
    const AttnV a = hn::Set(df, alpha[r]);
    float* orow = o + static_cast<size_t>(r) * dim;
    for (size_t i = 0; i < dim; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, orow + i), a), df, orow + i);
  }
}

// ---- the task ------------------------------------------------------------------------------------

HWY_INLINE void RunAttendTask(const attention_internal::AttendTask& t, float* HWY_RESTRICT scratch) {
  namespace ai = attention_internal;
  const AttnD df;
  const hn::RebindToSigned<AttnD> di;
  const size_t N = hn::Lanes(df);
  const size_t dim = static_cast<size_t>(t.head_dim);
  const int rows = t.rows;
  const size_t m_pad = static_cast<size_t>(ai::PaddedRows(rows));
  const int64_t bk = kAttentionKeyBlock;
  const float neg_inf = -std::numeric_limits<float>::infinity();

  float* HWY_RESTRICT kf = scratch;
  float* HWY_RESTRICT vf = kf + bk * dim;
  float* HWY_RESTRICT sc = vf + bk * dim;  // [m_pad][bk] (few rows) or [bk][m_pad] (many rows)
  float* HWY_RESTRICT qs = sc + m_pad * bk;
  float* HWY_RESTRICT o = qs + m_pad * dim;
  float* HWY_RESTRICT m = o + m_pad * dim;
  float* HWY_RESTRICT l = m + m_pad;
  float* HWY_RESTRICT alpha = l + m_pad;
  int32_t* HWY_RESTRICT lo = reinterpret_cast<int32_t*>(alpha + 2 * m_pad);
  int32_t* HWY_RESTRICT hi = lo + m_pad;

  // Row transposition pays off once a row vector is full.
  const bool many = rows >= static_cast<int>(std::max<size_t>(N, 4));

  int32_t min_lo = std::numeric_limits<int32_t>::max(), max_lo = std::numeric_limits<int32_t>::min();
  int32_t min_hi = min_lo, max_hi = max_lo;
  for (size_t r = 0; r < m_pad; ++r) {
    const bool real = r < static_cast<size_t>(rows);
    // Padding rows see nothing: their state stays (m = -inf, l = 0, O = 0).
    lo[r] = real ? t.lo[r] : std::numeric_limits<int32_t>::max();
    hi[r] = real ? t.hi[r] : std::numeric_limits<int32_t>::min();
    m[r] = neg_inf;
    l[r] = 0.0f;
    alpha[r] = 1.0f;
    if (real) {
      min_lo = std::min(min_lo, lo[r]);
      max_lo = std::max(max_lo, lo[r]);
      min_hi = std::min(min_hi, hi[r]);
      max_hi = std::max(max_hi, hi[r]);
    }
  }
  std::fill(o, o + m_pad * dim, 0.0f);
  if (many) {
    for (size_t r = 0; r < m_pad; ++r) {
      const float* qr = r < static_cast<size_t>(rows) ? t.q_rows[r] : nullptr;
      for (size_t i = 0; i < dim; ++i) qs[i * m_pad + r] = qr ? qr[i] : 0.0f;
    }
  } else {
    for (int r = 0; r < rows; ++r) std::memcpy(qs + r * dim, t.q_rows[r], dim * sizeof(float));
  }

  for (int64_t kb = t.key_begin / bk * bk; kb < t.key_end; kb += bk) {
    const int64_t j0 = std::max(kb, t.key_begin);
    const int64_t j1 = std::min(kb + bk, t.key_end);
    if (j1 - 1 < min_lo || j0 > max_hi) continue;  // no row sees any key of this block
    const int n = static_cast<int>(j1 - j0);
    const bool all_visible = j0 >= max_lo && j1 - 1 <= min_hi;

    DecodeRows(*t.k, t.kv_head, j0, n, dim, kf);

    if (many) {
      // Scores transposed: sc[j * m_pad + r]. Keys past n are zero rows (scores masked below).
      const int n_tile = (n + kScoreKeys - 1) / kScoreKeys * kScoreKeys;
      std::fill(kf + n * dim, kf + n_tile * dim, 0.0f);
      for (int j = 0; j < n_tile; j += kScoreKeys) {
        size_t r = 0;
        for (; r + kScoreRowVectors * N <= m_pad; r += kScoreRowVectors * N) {
          ScoreTileT<kScoreKeys, kScoreRowVectors>(kf + j * dim, qs + r, dim, m_pad, sc + j * m_pad + r);
        }
        for (; r < m_pad; r += N) ScoreTileT<kScoreKeys, 1>(kf + j * dim, qs + r, dim, m_pad, sc + j * m_pad + r);
      }
      if (!all_visible) {
        for (int j = 0; j < n; ++j) {
          const auto key = hn::Set(di, static_cast<int32_t>(j0 + j));
          for (size_t r = 0; r < m_pad; r += N) {
            const auto hidden = hn::Or(hn::Lt(key, hn::LoadU(di, lo + r)), hn::Gt(key, hn::LoadU(di, hi + r)));
            float* s = sc + j * m_pad + r;
            hn::StoreU(hn::IfThenElse(hn::RebindMask(df, hidden), hn::Set(df, neg_inf), hn::LoadU(df, s)), df, s);
          }
        }
      }
      // Online softmax, vectorised over rows.
      for (size_t r = 0; r < m_pad; r += N) {
        const AttnV m_old = hn::LoadU(df, m + r);
        AttnV block_max = hn::Set(df, neg_inf);
        for (int j = 0; j < n; ++j) block_max = hn::Max(block_max, hn::LoadU(df, sc + j * m_pad + r));
        const AttnV m_new = hn::Max(m_old, block_max);
        // Rows that have seen nothing yet keep m = -inf; shift by 0 so no -inf - -inf appears.
        const AttnV shift = hn::IfThenZeroElse(hn::Eq(m_new, hn::Set(df, neg_inf)), m_new);
        const AttnV a = ExpShifted(df, hn::Sub(m_old, shift));
        AttnV sum = hn::Zero(df);
        for (int j = 0; j < n; ++j) {
          float* s = sc + j * m_pad + r;
          const AttnV p = ExpShifted(df, hn::Sub(hn::LoadU(df, s), shift));
          hn::StoreU(p, df, s);
          sum = hn::Add(sum, p);
        }
        hn::StoreU(hn::MulAdd(hn::LoadU(df, l + r), a, sum), df, l + r);
        hn::StoreU(m_new, df, m + r);
        hn::StoreU(a, df, alpha + r);
      }
      RescaleRows(rows, alpha, dim, o);
      DecodeRows(*t.v, t.kv_head, j0, n, dim, vf);
      AccumulatePv(rows, sc, 1, m_pad, n, vf, dim, o);
    } else {
      // Scores row-major: sc[r * bk + j]; entries past n are -inf for the vectorised softmax.
      const int n_pair = (n + 1) / 2 * 2;
      std::fill(kf + n * dim, kf + n_pair * dim, 0.0f);
      for (int j = 0; j < n_pair; j += 2) DotRows<2>(rows, qs, kf + j * dim, dim, sc + j, bk);
      const int n_vec = static_cast<int>((static_cast<size_t>(n) + N - 1) / N * N);
      for (int r = 0; r < rows; ++r) {
        float* s = sc + r * bk;
        for (int j = n; j < n_vec; ++j) s[j] = neg_inf;
        if (!all_visible) {
          for (int j = 0; j < n; ++j) {
            const int64_t key = j0 + j;
            if (key < lo[r] || key > hi[r]) s[j] = neg_inf;
          }
        }
        AttnV block_max = hn::Set(df, neg_inf);
        for (int j = 0; j < n_vec; j += static_cast<int>(N)) block_max = hn::Max(block_max, hn::LoadU(df, s + j));
        const float bmax = hn::GetLane(hn::MaxOfLanes(df, block_max));
        if (bmax == neg_inf) {  // this row sees none of the block
          std::fill(s, s + n, 0.0f);
          alpha[r] = 1.0f;
          continue;
        }
        const float m_new = std::max(m[r], bmax);
        const AttnV shift = hn::Set(df, m_new);
        AttnV sum = hn::Zero(df);
        for (int j = 0; j < n_vec; j += static_cast<int>(N)) {
          const AttnV p = ExpShifted(df, hn::Sub(hn::LoadU(df, s + j), shift));
          hn::StoreU(p, df, s + j);
          sum = hn::Add(sum, p);
        }
        alpha[r] = m[r] == neg_inf ? 0.0f : std::exp(m[r] - m_new);
        l[r] = l[r] * alpha[r] + hn::GetLane(hn::SumOfLanes(df, sum));
        m[r] = m_new;
      }
      RescaleRows(rows, alpha, dim, o);
      DecodeRows(*t.v, t.kv_head, j0, n, dim, vf);
      AccumulatePv(rows, sc, bk, 1, n, vf, dim, o);
    }
  }

  if (t.out_rows) {
    for (int r = 0; r < rows; ++r) {
      const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
      const AttnV vinv = hn::Set(df, inv);
      float* dst = t.out_rows[r];
      for (size_t i = 0; i < dim; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, o + r * dim + i), vinv), df, dst + i);
    }
  } else {
    std::memcpy(t.part_o, o, static_cast<size_t>(rows) * dim * sizeof(float));
    std::memcpy(t.part_m, m, static_cast<size_t>(rows) * sizeof(float));
    std::memcpy(t.part_l, l, static_cast<size_t>(rows) * sizeof(float));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
