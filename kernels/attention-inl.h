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
#include <type_traits>

#include "hwy/cache_control.h"
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
constexpr int kScoreKeys = 4;   // keys per transposed score tile (many rows)
constexpr int kPvVectors = 2;   // head-dim vectors per P·V tile (many rows)
constexpr int kFewRowTile = 4;  // rows per dot / P·V tile (few rows)
#else
constexpr int kScoreKeys = 8;
constexpr int kPvVectors = 4;
constexpr int kFewRowTile = 8;
#endif
constexpr int kScoreRowVectors = 2;  // row vectors per transposed score tile
constexpr int kRowTile = 4;          // rows per P·V tile (many rows)
constexpr int kFewKeys = 2;          // keys per dot tile (few rows)
// Head-dim vectors per P·V tile with few rows: their columns must lie in one Q8_0 block.
constexpr int kFewPvVectors = 2;

// exp() of scores minus the running max, flushed to 0 below exp(-44) ~ 8e-20. Such weights
// change no sum that matters (even 128K of them add < 1e-14 to a total >= 1), and flushing keeps
// subnormal floats out of the exponent, the P·V products and the rescaled accumulators:
// arithmetic on subnormals can run many times slower on x86. Masked keys (-inf) give 0.
// A nan score stays nan (x86 max returns its second operand for nan, which would turn it into
// a tiny weight), so the numerical guard after the layer sees it instead of a wrong answer.
HWY_INLINE AttnV ExpShifted(AttnD d, AttnV x) {
  const AttnV floor = hn::Set(d, -44.0f);
  const AttnV e = hn::IfThenZeroElse(hn::Lt(x, floor), hn::Exp(d, hn::Max(x, floor)));
  return hn::IfThenElse(hn::IsNaN(x), x, e);
}

// Reads a cached head row as fp32 vectors, straight from the cache. Q8_0 values still need
// their block's scale (Scale(row, i): the scale of the block holding element i).
template <KvType kType>
struct RowLoader;

template <>
struct RowLoader<KvType::kF32> {
  static constexpr bool kScaled = false;
  static HWY_INLINE AttnV Load(AttnD d, const uint8_t* row, size_t i) {
    return hn::LoadU(d, reinterpret_cast<const float*>(row) + i);
  }
  static HWY_INLINE float Scale(const uint8_t*, size_t) { return 1.0f; }
};

template <>
struct RowLoader<KvType::kF16> {
  static constexpr bool kScaled = false;
  static HWY_INLINE AttnV Load(AttnD d, const uint8_t* row, size_t i) {
    const hn::Rebind<hwy::float16_t, AttnD> dh;
    return hn::PromoteTo(d, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(row) + i));
  }
  static HWY_INLINE float Scale(const uint8_t*, size_t) { return 1.0f; }
};

template <>
struct RowLoader<KvType::kBF16> {
  static constexpr bool kScaled = false;
  static HWY_INLINE AttnV Load(AttnD d, const uint8_t* row, size_t i) {
    const hn::Rebind<hwy::bfloat16_t, AttnD> db;
    return hn::PromoteTo(d, hn::LoadU(db, reinterpret_cast<const hwy::bfloat16_t*>(row) + i));
  }
  static HWY_INLINE float Scale(const uint8_t*, size_t) { return 1.0f; }
};

template <>
struct RowLoader<KvType::kQ8_0> {
  static constexpr bool kScaled = true;
  // Unscaled int8 values of elements [i, i + N) (N divides the block size).
  static HWY_INLINE AttnV Load(AttnD d, const uint8_t* row, size_t i) {
    const hn::Rebind<int8_t, AttnD> d8;
    const hn::RebindToSigned<AttnD> di;
    const auto* block = reinterpret_cast<const BlockQ8_0*>(row) + i / kQK;
    return hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, block->qs + i % kQK)));
  }
  static HWY_INLINE float Scale(const uint8_t* row, size_t i) {
    uint16_t bits;
    std::memcpy(&bits, &(reinterpret_cast<const BlockQ8_0*>(row) + i / kQK)->d, sizeof(bits));
    return F16ToF32(bits);
  }
};

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

// s[r * s_stride + c] = dot(q row r, cached key c) for R rows and C keys; key c's row starts
// at k + c * k_stride bytes.
template <int R, int C, KvType kType>
HWY_INLINE void DotTile(const float* HWY_RESTRICT q, const uint8_t* k, size_t k_stride, size_t dim,
                        float* HWY_RESTRICT s, size_t s_stride) {
  using Loader = RowLoader<kType>;
  const AttnD df;
  const size_t N = hn::Lanes(df);
  AttnV acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = hn::Zero(df);
  }
  AttnV scale[C];
  for (int c = 0; c < C; ++c) scale[c] = hn::Set(df, 1.0f);
  for (size_t i = 0; i < dim; i += N) {
    AttnV kv[C];
    for (int c = 0; c < C; ++c) {
      const uint8_t* row = k + static_cast<size_t>(c) * k_stride;
      if constexpr (Loader::kScaled) {
        if (i % kQK == 0) scale[c] = hn::Set(df, Loader::Scale(row, i));
        kv[c] = hn::Mul(Loader::Load(df, row, i), scale[c]);
      } else {
        kv[c] = Loader::Load(df, row, i);
      }
    }
    for (int r = 0; r < R; ++r) {
      const AttnV qv = hn::LoadU(df, q + r * dim + i);
      for (int c = 0; c < C; ++c) acc[r][c] = hn::MulAdd(qv, kv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) s[r * s_stride + c] = hn::GetLane(hn::SumOfLanes(df, acc[r][c]));
  }
}

// Scores of all rows against C keys, in row tiles of kFewRowTile, 4, 2, 1.
template <int C, KvType kType>
HWY_INLINE void DotRows(int rows, const float* q, const uint8_t* k, size_t k_stride, size_t dim,
                        float* s, size_t s_stride) {
  int r = 0;
  for (; r + kFewRowTile <= rows; r += kFewRowTile) {
    DotTile<kFewRowTile, C, kType>(q + r * dim, k, k_stride, dim, s + r * s_stride, s_stride);
  }
  if (kFewRowTile > 4 && r + 4 <= rows) {
    DotTile<4, C, kType>(q + r * dim, k, k_stride, dim, s + r * s_stride, s_stride);
    r += 4;
  }
  if (r + 2 <= rows) {
    DotTile<2, C, kType>(q + r * dim, k, k_stride, dim, s + r * s_stride, s_stride);
    r += 2;
  }
  if (r < rows) DotTile<1, C, kType>(q + r * dim, k, k_stride, dim, s + r * s_stride, s_stride);
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

// R rows x NV vectors of O (columns [col, col + NV * N)); p(r, j) = p[r * pr + j * pj]; value
// row j starts at v + j * v_stride bytes. For Q8_0 the NV vectors lie in one block.
template <int R, int NV, KvType kType>
HWY_INLINE void PvTile(const float* HWY_RESTRICT p, size_t pr, size_t pj, int n_keys,
                       const uint8_t* v, size_t v_stride, size_t col, size_t dim,
                       float* HWY_RESTRICT o) {
  using Loader = RowLoader<kType>;
  const AttnD df;
  const size_t N = hn::Lanes(df);
  AttnV acc[R][NV];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < NV; ++c) acc[r][c] = hn::LoadU(df, o + r * dim + col + c * N);
  }
  for (int j = 0; j < n_keys; ++j) {
    const uint8_t* row = v + static_cast<size_t>(j) * v_stride;
    AttnV vv[NV];
    if constexpr (Loader::kScaled) {
      const AttnV scale = hn::Set(df, Loader::Scale(row, col));
      for (int c = 0; c < NV; ++c) vv[c] = hn::Mul(Loader::Load(df, row, col + c * N), scale);
    } else {
      for (int c = 0; c < NV; ++c) vv[c] = Loader::Load(df, row, col + c * N);
    }
    for (int r = 0; r < R; ++r) {
      const AttnV pb = hn::Set(df, p[r * pr + j * pj]);
      for (int c = 0; c < NV; ++c) acc[r][c] = hn::MulAdd(pb, vv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < NV; ++c) hn::StoreU(acc[r][c], df, o + r * dim + col + c * N);
  }
}

// O += P V over all rows and columns: column chunks outermost, so a chunk of the value rows
// stays in L1 across the row tiles.
template <int kRows, int NV, KvType kType>
HWY_INLINE void AccumulatePv(int rows, const float* p, size_t pr, size_t pj, int n_keys,
                             const uint8_t* v, size_t v_stride, size_t dim, float* o) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  auto chunk = [&](auto nv, size_t col) {
    constexpr int kNV = decltype(nv)::value;
    int r = 0;
    for (; r + kRows <= rows; r += kRows) {
      PvTile<kRows, kNV, kType>(p + r * pr, pr, pj, n_keys, v, v_stride, col, dim, o + r * dim);
    }
    if (kRows > 4 && r + 4 <= rows) {
      PvTile<4, kNV, kType>(p + r * pr, pr, pj, n_keys, v, v_stride, col, dim, o + r * dim);
      r += 4;
    }
    for (; r < rows; ++r) PvTile<1, kNV, kType>(p + r * pr, pr, pj, n_keys, v, v_stride, col, dim, o + r * dim);
  };
  size_t c = 0;
  for (; c + NV * N <= dim; c += NV * N) chunk(std::integral_constant<int, NV>(), c);
  for (; c < dim; c += N) chunk(std::integral_constant<int, 1>(), c);
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

// Per-task state in the scratch buffer (layout sized by attention_internal::TaskScratchFloats).
struct TaskState {
  size_t dim = 0, m_pad = 0;
  float* kf = nullptr;     // [bk][dim] decoded keys (many rows)
  float* vf = nullptr;     // [bk][dim] decoded values (many rows)
  float* sc = nullptr;     // scores: [m_pad][bk] (few rows) or [bk][m_pad] (many rows)
  float* qs = nullptr;     // queries: [rows][dim] (few rows) or transposed [dim][m_pad] (many)
  float* o = nullptr;      // [m_pad][dim] unnormalised outputs
  float* m = nullptr;      // [m_pad] running max
  float* l = nullptr;      // [m_pad] running sum
  float* alpha = nullptr;  // [m_pad] this block's rescale factor
  int32_t* lo = nullptr;   // [m_pad] first visible key (padding rows: none visible)
  int32_t* hi = nullptr;   // [m_pad] last visible key
  int32_t min_lo = 0, max_lo = 0, min_hi = 0, max_hi = 0;  // over the real rows
};

// Attention streams K and V of a long context from memory: ask for the rows of the block that
// starts at `next` while this one is computed.
HWY_INLINE void PrefetchNextBlock(const attention_internal::AttendTask& t, int64_t next) {
  if (next >= t.key_end) return;
  const size_t head_bytes = t.k->head_bytes, stride = t.k->slot_bytes;
  const uint8_t* kn = t.k->Head(next, t.kv_head);
  const uint8_t* vn = t.v->Head(next, t.kv_head);
  const int64_t n = std::min<int64_t>(kAttentionKeyBlock, t.key_end - next);
  for (int64_t j = 0; j < n; ++j) {
    for (size_t b = 0; b < head_bytes; b += 64) {
      hwy::Prefetch(kn + j * stride + b);
      hwy::Prefetch(vn + j * stride + b);
    }
  }
}

// Keys [j0, j0 + n) of one aligned block, for the rows of a task with few rows: dot products
// along the head dimension straight from the cache, a row-by-row online softmax, then P·V.
template <KvType kType>
HWY_INLINE void FewRowsBlock(const attention_internal::AttendTask& t, TaskState& st, int64_t j0,
                             int n, bool all_visible) {
  const AttnD df;
  const size_t N = hn::Lanes(df);
  const size_t bk = static_cast<size_t>(kAttentionKeyBlock);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int rows = t.rows;
  const size_t stride = t.k->slot_bytes;  // an aligned block never wraps: rows are consecutive
  const uint8_t* k0 = t.k->Head(j0, t.kv_head);
  const uint8_t* v0 = t.v->Head(j0, t.kv_head);
  PrefetchNextBlock(t, j0 + n);

  int j = 0;
  for (; j + kFewKeys <= n; j += kFewKeys) {
    DotRows<kFewKeys, kType>(rows, st.qs, k0 + j * stride, stride, st.dim, st.sc + j, bk);
  }
  for (; j < n; ++j) DotRows<1, kType>(rows, st.qs, k0 + j * stride, stride, st.dim, st.sc + j, bk);

  // Entries past n are -inf so the softmax can run over whole vectors.
  const int n_vec = static_cast<int>((static_cast<size_t>(n) + N - 1) / N * N);
  for (int r = 0; r < rows; ++r) {
    float* s = st.sc + r * bk;
    for (int jj = n; jj < n_vec; ++jj) s[jj] = neg_inf;
    if (!all_visible) {
      for (int jj = 0; jj < n; ++jj) {
        const int64_t key = j0 + jj;
        if (key < st.lo[r] || key > st.hi[r]) s[jj] = neg_inf;
      }
    }
    AttnV block_max = hn::Set(df, neg_inf);
    for (int jj = 0; jj < n_vec; jj += static_cast<int>(N)) block_max = hn::Max(block_max, hn::LoadU(df, s + jj));
    const float bmax = hn::GetLane(hn::MaxOfLanes(df, block_max));
    if (bmax == neg_inf) {  // this row sees none of the block
      std::fill(s, s + n, 0.0f);
      st.alpha[r] = 1.0f;
      continue;
    }
    const float m_new = std::max(st.m[r], bmax);
    const AttnV shift = hn::Set(df, m_new);
    AttnV sum = hn::Zero(df);
    for (int jj = 0; jj < n_vec; jj += static_cast<int>(N)) {
      const AttnV p = ExpShifted(df, hn::Sub(hn::LoadU(df, s + jj), shift));
      hn::StoreU(p, df, s + jj);
      sum = hn::Add(sum, p);
    }
    st.alpha[r] = st.m[r] - m_new < -44.0f ? 0.0f : std::exp(st.m[r] - m_new);  // as ExpShifted
    st.l[r] = st.l[r] * st.alpha[r] + hn::GetLane(hn::SumOfLanes(df, sum));
    st.m[r] = m_new;
  }
  RescaleRows(rows, st.alpha, st.dim, st.o);
  AccumulatePv<kFewRowTile, kFewPvVectors, kType>(rows, st.sc, bk, 1, n, v0, stride, st.dim, st.o);
}

// Keys [j0, j0 + n) of one aligned block, for a task with many rows: the block is decoded to
// fp32 once, scores are computed transposed (a vector of rows per key) and the online softmax
// is vectorised over rows.
HWY_INLINE void ManyRowsBlock(const attention_internal::AttendTask& t, TaskState& st, int64_t j0,
                              int n, bool all_visible) {
  const AttnD df;
  const hn::RebindToSigned<AttnD> di;
  const size_t N = hn::Lanes(df);
  const size_t dim = st.dim, m_pad = st.m_pad;
  const float neg_inf = -std::numeric_limits<float>::infinity();

  PrefetchNextBlock(t, j0 + n);
  DecodeRows(*t.k, t.kv_head, j0, n, dim, st.kf);
  // Keys past n are zero rows (their scores are masked below).
  const int n_tile = (n + kScoreKeys - 1) / kScoreKeys * kScoreKeys;
  std::fill(st.kf + n * dim, st.kf + n_tile * dim, 0.0f);
  for (int j = 0; j < n_tile; j += kScoreKeys) {
    size_t r = 0;
    for (; r + kScoreRowVectors * N <= m_pad; r += kScoreRowVectors * N) {
      ScoreTileT<kScoreKeys, kScoreRowVectors>(st.kf + j * dim, st.qs + r, dim, m_pad, st.sc + j * m_pad + r);
    }
    for (; r < m_pad; r += N) ScoreTileT<kScoreKeys, 1>(st.kf + j * dim, st.qs + r, dim, m_pad, st.sc + j * m_pad + r);
  }
  if (!all_visible) {
    for (int j = 0; j < n; ++j) {
      const auto key = hn::Set(di, static_cast<int32_t>(j0 + j));
      for (size_t r = 0; r < m_pad; r += N) {
        const auto hidden = hn::Or(hn::Lt(key, hn::LoadU(di, st.lo + r)), hn::Gt(key, hn::LoadU(di, st.hi + r)));
        float* s = st.sc + j * m_pad + r;
        hn::StoreU(hn::IfThenElse(hn::RebindMask(df, hidden), hn::Set(df, neg_inf), hn::LoadU(df, s)), df, s);
      }
    }
  }
  for (size_t r = 0; r < m_pad; r += N) {
    const AttnV m_old = hn::LoadU(df, st.m + r);
    AttnV block_max = hn::Set(df, neg_inf);
    for (int j = 0; j < n; ++j) block_max = hn::Max(block_max, hn::LoadU(df, st.sc + j * m_pad + r));
    const AttnV m_new = hn::Max(m_old, block_max);
    // Rows that have seen nothing yet keep m = -inf; shift by 0 so no -inf - -inf appears.
    const AttnV shift = hn::IfThenZeroElse(hn::Eq(m_new, hn::Set(df, neg_inf)), m_new);
    const AttnV a = ExpShifted(df, hn::Sub(m_old, shift));
    AttnV sum = hn::Zero(df);
    for (int j = 0; j < n; ++j) {
      float* s = st.sc + j * m_pad + r;
      const AttnV p = ExpShifted(df, hn::Sub(hn::LoadU(df, s), shift));
      hn::StoreU(p, df, s);
      sum = hn::Add(sum, p);
    }
    hn::StoreU(hn::MulAdd(hn::LoadU(df, st.l + r), a, sum), df, st.l + r);
    hn::StoreU(m_new, df, st.m + r);
    hn::StoreU(a, df, st.alpha + r);
  }
  RescaleRows(t.rows, st.alpha, dim, st.o);
  DecodeRows(*t.v, t.kv_head, j0, n, dim, st.vf);
  AccumulatePv<kRowTile, kPvVectors, KvType::kF32>(t.rows, st.sc, 1, m_pad, n,
                                                   reinterpret_cast<const uint8_t*>(st.vf),
                                                   dim * sizeof(float), dim, st.o);
}

template <class BlockFn>
HWY_INLINE void ForEachKeyBlock(const attention_internal::AttendTask& t, const TaskState& st, BlockFn&& fn) {
  const int64_t bk = kAttentionKeyBlock;
  for (int64_t kb = t.key_begin / bk * bk; kb < t.key_end; kb += bk) {
    const int64_t j0 = std::max(kb, t.key_begin);
    const int64_t j1 = std::min(kb + bk, t.key_end);
    if (j1 - 1 < st.min_lo || j0 > st.max_hi) continue;  // no row sees any key of this block
    fn(j0, static_cast<int>(j1 - j0), j0 >= st.max_lo && j1 - 1 <= st.min_hi);
  }
}

HWY_INLINE void RunAttendTask(const attention_internal::AttendTask& t, float* HWY_RESTRICT scratch) {
  namespace ai = attention_internal;
  const AttnD df;
  const size_t N = hn::Lanes(df);
  const int rows = t.rows;
  const size_t bk = static_cast<size_t>(kAttentionKeyBlock);
  TaskState st;
  st.dim = static_cast<size_t>(t.head_dim);
  st.m_pad = static_cast<size_t>(ai::PaddedRows(rows));
  const size_t dim = st.dim, m_pad = st.m_pad;
  st.kf = scratch;
  st.vf = st.kf + bk * dim;
  st.sc = st.vf + bk * dim;
  st.qs = st.sc + m_pad * bk;
  st.o = st.qs + m_pad * dim;
  st.m = st.o + m_pad * dim;
  st.l = st.m + m_pad;
  st.alpha = st.l + m_pad;
  st.lo = reinterpret_cast<int32_t*>(st.alpha + 2 * m_pad);
  st.hi = st.lo + m_pad;

  const int32_t kMax = std::numeric_limits<int32_t>::max(), kMin = std::numeric_limits<int32_t>::min();
  st.min_lo = kMax, st.max_lo = kMin, st.min_hi = kMax, st.max_hi = kMin;
  for (size_t r = 0; r < m_pad; ++r) {
    const bool real = r < static_cast<size_t>(rows);
    st.lo[r] = real ? t.lo[r] : kMax;
    st.hi[r] = real ? t.hi[r] : kMin;
    st.m[r] = -std::numeric_limits<float>::infinity();
    st.l[r] = 0.0f;
    st.alpha[r] = 1.0f;
    if (real) {
      st.min_lo = std::min(st.min_lo, st.lo[r]);
      st.max_lo = std::max(st.max_lo, st.lo[r]);
      st.min_hi = std::min(st.min_hi, st.hi[r]);
      st.max_hi = std::max(st.max_hi, st.hi[r]);
    }
  }
  std::fill(st.o, st.o + static_cast<size_t>(rows) * dim, 0.0f);

  // Transposing the rows pays off once a row vector is full.
  if (rows >= static_cast<int>(std::max<size_t>(N, 4))) {
    for (size_t r = 0; r < m_pad; ++r) {
      const float* qr = r < static_cast<size_t>(rows) ? t.q_rows[r] : nullptr;
      for (size_t i = 0; i < dim; ++i) st.qs[i * m_pad + r] = qr ? qr[i] : 0.0f;
    }
    ForEachKeyBlock(t, st, [&](int64_t j0, int n, bool all) { ManyRowsBlock(t, st, j0, n, all); });
  } else {
    for (int r = 0; r < rows; ++r) std::memcpy(st.qs + r * dim, t.q_rows[r], dim * sizeof(float));
    auto few = [&](auto type) {
      constexpr KvType kType = decltype(type)::value;
      ForEachKeyBlock(t, st, [&](int64_t j0, int n, bool all) { FewRowsBlock<kType>(t, st, j0, n, all); });
    };
    switch (t.k->type) {
      case KvType::kF32: few(std::integral_constant<KvType, KvType::kF32>()); break;
      case KvType::kF16: few(std::integral_constant<KvType, KvType::kF16>()); break;
      case KvType::kBF16: few(std::integral_constant<KvType, KvType::kBF16>()); break;
      case KvType::kQ8_0: few(std::integral_constant<KvType, KvType::kQ8_0>()); break;
    }
  }

  if (t.out_rows) {
    for (int r = 0; r < rows; ++r) {
      const float inv = st.l[r] > 0.0f ? 1.0f / st.l[r] : 0.0f;
      const AttnV vinv = hn::Set(df, inv);
      float* dst = t.out_rows[r];
      for (size_t i = 0; i < dim; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, st.o + r * dim + i), vinv), df, dst + i);
    }
  } else {
    std::memcpy(t.part_o, st.o, static_cast<size_t>(rows) * dim * sizeof(float));
    std::memcpy(t.part_m, st.m, static_cast<size_t>(rows) * sizeof(float));
    std::memcpy(t.part_l, st.l, static_cast<size_t>(rows) * sizeof(float));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
