// The int8 matmul kernel, generic over weight format and target (included once per Highway
// target by each kernels/matmul_<format>.cc):
//
//   PackQ8<Fmt, Dot>   quantizes activations to Q8 blocks (bit-identical to the scalar
//                      reference QuantizeActivationsQ8) and fills the per-block side tables
//   RowsQ8<Fmt, Dot>   y[t][r] for a range of rows and every token
//
// RowsQ8 picks one of three loops:
//   - one token of Q4_0, Q8_0, Q4_K or Q6_K on AVX3_DL: a decoder that reads one row at a time
//     (DecodeQ4_0Vbmi, DecodeQ8_0Row, DecodeQ4_KRow, DecodeQ6_KRow): a single sequential memory
//     stream, about twice as fast on E2B's short rows as several rows side by side
//   - 12+ tokens on AVX3/AVX3_DL: the 16-row tile of int8_gemm16-inl.h
//   - otherwise the chunk tile here: kNV vectors of rows (kNV * kRowsPerVec rows) by kT tokens.
//     Per 32-element sub-block it decodes each row vector once and reuses it for all kT tokens:
//     two integer dot steps per row vector and token, then one float multiply-add with the
//     combined scale. Decode (one token) on other targets and for Q5_K uses it with kT = 1,
//     prefetching the next tile's rows.
#if defined(GEMMA_KERNELS_INT8_MATMUL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA_KERNELS_INT8_MATMUL_INL_H_
#undef GEMMA_KERNELS_INT8_MATMUL_INL_H_
#else
#define GEMMA_KERNELS_INT8_MATMUL_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "hwy/highway.h"
#include "kernels/aligned_buffer.h"
#include "kernels/int8_formats-inl.h"
#include "kernels/int8_gemm16-inl.h"
#include "kernels/int8_simd-inl.h"
#include "kernels/matrix.h"
#include "kernels/q8_act.h"
#include "quant/int8_dot.h"
#include "quant/q8_activations.h"

#if HWY_TARGET == HWY_NEON
#include <sys/auxv.h>
#endif

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {

#if GEMMA_INT8_SIMD

// Tile shapes: kNV row vectors by kT tokens of float accumulators, within the register file
// (32 vector registers on AVX-512 and NEON, 16 on AVX2/SSE). On AVX-512 the decode tile is two
// vectors (8 rows): with four, the K-quant decoders spilled, and bench/kernel_bench measured
// Q4_K 7.1 -> 8.4 GB/s (6144x1536) and Q6_K 6.2 -> 8.8 GB/s with two.
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kGemmVecs = 2, kGemmTokens = 6, kDecodeVecs = 2;
#elif HWY_TARGET == HWY_NEON
constexpr size_t kGemmVecs = 4, kGemmTokens = 4, kDecodeVecs = 4;
#else
constexpr size_t kGemmVecs = 2, kGemmTokens = 3, kDecodeVecs = 4;
#endif

// ---- activations -------------------------------------------------------------------------

// The SIMD twin of QuantizeActivationsQ8: same operations in the same order, so the codes
// and scales are bit-identical.
HWY_INLINE void QuantizeRowQ8(const float* x, size_t n, int8_t* q, float* scale) {
  const DF32 df;
  const hn::Rebind<int8_t, DF32> di8;
  constexpr size_t N = hn::MaxLanes(DF32());
  static_assert(kQ8Block % N == 0, "vector must divide a block");
  for (size_t b = 0; b < n / kQ8Block; ++b, x += kQ8Block, q += kQ8Block) {
    VF32 m = hn::Zero(df);
    for (size_t i = 0; i < kQ8Block; i += N) m = hn::Max(m, hn::Abs(hn::LoadU(df, x + i)));
    const float amax = hn::GetLane(hn::MaxOfLanes(df, m));
    const float d = amax / 127.0f;
    const float inv = d != 0.0f ? 1.0f / d : 0.0f;
    scale[b] = d;
    const VF32 vinv = hn::Set(df, inv);
    for (size_t i = 0; i < kQ8Block; i += N) {
      hn::StoreU(hn::DemoteTo(di8, hn::NearestInt(hn::Mul(hn::LoadU(df, x + i), vinv))), di8,
                 q + i);
    }
  }
}

// Quantizes tokens [t0, t1) of x ([n_tokens][cols]) into act (already sized).
template <class Fmt, class Dot>
HWY_INLINE void PackQ8(const float* x, size_t t0, size_t t1, Q8Activations& act) {
  const hn::Full128<uint8_t> d8;
  const hn::Full128<int8_t> di8;
  const hn::Full128<int32_t> d32;
  const auto ones = hn::Set(d8, 1);
  const auto neg_offset = hn::Set(d32, -Fmt::template Offset<Dot>());
  for (size_t t = t0; t < t1; ++t) {
    int8_t* q = act.q.data() + t * act.cols;
    float* scale = act.scale.data() + t * act.blocks;
    float* sum = act.sum.data() + t * act.blocks;
    int32_t* bias = act.bias.data() + t * act.blocks * act.bias_lanes;
    int32_t* bias_half = act.bias_half.data() + t * act.blocks * 2;
    QuantizeRowQ8(x + t * act.cols, act.cols, q, scale);
    for (size_t b = 0; b < act.blocks; ++b) {
      // Lane i: q[4i..4i+3] summed, for each 16-element half.
      const auto lo = Dot::Acc(hn::Zero(d32), ones, hn::LoadU(di8, q + 32 * b));
      const auto hi = Dot::Acc(hn::Zero(d32), ones, hn::LoadU(di8, q + 32 * b + 16));
      const int32_t sum_lo = hn::GetLane(hn::SumOfLanes(d32, lo));
      const int32_t sum_hi = hn::GetLane(hn::SumOfLanes(d32, hi));
      sum[b] = scale[b] * static_cast<float>(sum_lo + sum_hi);
      bias_half[2 * b] = -Fmt::template Offset<Dot>() * sum_lo;
      bias_half[2 * b + 1] = -Fmt::template Offset<Dot>() * sum_hi;
      if constexpr (Fmt::kHalfScales) {
        hn::StoreU(hn::Mul(lo, neg_offset), d32, bias + 8 * b);
        hn::StoreU(hn::Mul(hi, neg_offset), d32, bias + 8 * b + 4);
      } else {
        hn::StoreU(hn::Mul(hn::Add(lo, hi), neg_offset), d32, bias + 4 * b);
      }
    }
  }
}

// ---- prefetch ----------------------------------------------------------------------------

// Decode streams each weight row once, and the chunk tile reads several rows side by side in
// short steps. E2B's rows are short (1536 columns: 1632 bytes of Q8_0), so the hardware
// prefetcher loses each row stream soon after it has found it, and the loads wait on memory.
// The decode tile therefore prefetches the same columns of the next tile's rows (`ahead` bytes
// on): bench/kernel_bench (AVX3_DL, one thread) Q8_0 6144x1536 8.1 -> 11.1 GB/s. Reading one
// row at a time is better still (the Q4_0 VBMI decoder below) but needs a decoder that fills a
// vector from one row.

// Prefetches the cache lines of [p, p + kBytes) that the previous step (ending at p) did not.
template <size_t kBytes>
HWY_INLINE void PrefetchNewLines(const uint8_t* p, bool first_step) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uintptr_t line = first_step ? a / 64 : (a - 1) / 64 + 1;
  for (; line <= (a + kBytes - 1) / 64; ++line) {
    __builtin_prefetch(reinterpret_cast<const void*>(line * 64));
  }
}

// ---- the tile ----------------------------------------------------------------------------

template <class Fmt, class Dot, size_t kNV, size_t kT>
struct Tile {
  Fmt dec[kNV];
  VF32 acc[kNV][kT];

  HWY_INLINE Tile() {}  // explicit, see int8_formats-inl.h

  // One 32-element sub-block s of weight block wb, for every row vector and token. s is a size_t
  // or a std::integral_constant (see int8_formats-inl.h).
  template <class SI>
  HWY_INLINE void SubBlock(size_t wb, SI s, const Q8Activations& act, const size_t* tok) {
    const DF32 df;
    VU8 lo[kNV], hi[kNV];
    VF32 ws[kNV];
    VI32 sc_lo[kNV], sc_hi[kNV];
    for (size_t v = 0; v < kNV; ++v) {
      dec[v].Codes(s, lo[v], hi[v]);
      ws[v] = dec[v].Scale(s);
      if constexpr (Fmt::kHalfScales) dec[v].HalfScales(s, sc_lo[v], sc_hi[v]);
      if constexpr (Fmt::kSigned && Dot::kSignedViaOffset) {
        lo[v] = hn::Xor(lo[v], hn::Set(DU8(), 0x80));
        hi[v] = hn::Xor(hi[v], hn::Set(DU8(), 0x80));
      }
    }
    const size_t ab = wb * Fmt::kSubBlocks + s;  // activation block
    for (size_t t = 0; t < kT; ++t) {
      const int8_t* q = act.Q(tok[t]) + kQ8Block * ab;
      const VI8 a_lo = hn::LoadDup128(DI8(), q);
      const VI8 a_hi = hn::LoadDup128(DI8(), q + 16);
      const VF32 as = hn::Set(df, act.Scale(tok[t])[ab]);
      const int32_t* bias = act.Bias(tok[t]) + act.bias_lanes * ab;
      for (size_t v = 0; v < kNV; ++v) {
        VI32 isum;
        if constexpr (Fmt::kHalfScales) {
          const VI32 s_lo = Dot::Acc(Dup4(bias), lo[v], a_lo);
          const VI32 s_hi = Dot::Acc(Dup4(bias + 4), hi[v], a_hi);
          isum = hn::Add(hn::Mul(s_lo, sc_lo[v]), hn::Mul(s_hi, sc_hi[v]));
        } else {
          const VI32 init = Fmt::template Offset<Dot>() != 0 ? Dup4(bias) : hn::Zero(DI32());
          if constexpr (Fmt::kSigned && !Dot::kSignedViaOffset) {
            isum = Dot::AccSigned(Dot::AccSigned(init, hn::BitCast(DI8(), lo[v]), a_lo),
                                  hn::BitCast(DI8(), hi[v]), a_hi);
          } else {
            isum = Dot::Acc(Dot::Acc(init, lo[v], a_lo), hi[v], a_hi);
          }
        }
        acc[v][t] = hn::MulAdd(hn::ConvertTo(df, isum), hn::Mul(ws[v], as), acc[v][t]);
      }
    }
  }

  template <size_t... S>
  HWY_INLINE void SubBlocksUnrolled(size_t wb, const Q8Activations& act, const size_t* tok,
                                    std::index_sequence<S...>) {
    (SubBlock(wb, std::integral_constant<size_t, S>(), act, tok), ...);
  }

  // K-quant mins: acc -= (dmin * min_j) * (d_a * sum(q_j)) for the block's 8 sub-blocks.
  HWY_INLINE void Mins(size_t wb, const Q8Activations& act, const size_t* tok) {
    VF32 m0[kNV], m1[kNV];
    for (size_t v = 0; v < kNV; ++v) dec[v].Mins(m0[v], m1[v]);
    for (size_t t = 0; t < kT; ++t) {
      const float* s = act.Sum(tok[t]) + 8 * wb;
      const VF32 s0 = hn::LoadDup128(DF32(), s), s1 = hn::LoadDup128(DF32(), s + 4);
      for (size_t v = 0; v < kNV; ++v) {
        acc[v][t] = hn::NegMulAdd(m0[v], s0, acc[v][t]);
        acc[v][t] = hn::NegMulAdd(m1[v], s1, acc[v][t]);
      }
    }
  }

  // rows: kNV * kRowsPerVec row pointers; tok: kT token indices; out[t][kNV * kRowsPerVec];
  // ahead: bytes from each row to the one to prefetch (0: none).
  HWY_INLINE void Run(const uint8_t* const* rows, size_t n_blocks, const Q8Activations& act,
                      const size_t* tok, float (*out)[kNV * kRowsPerVec], size_t ahead = 0) {
    for (size_t v = 0; v < kNV; ++v) {
      for (size_t t = 0; t < kT; ++t) acc[v][t] = hn::Zero(DF32());
    }
    for (size_t wb = 0; wb < n_blocks; ++wb) {
      if (ahead != 0) {
        for (size_t i = 0; i < kNV * kRowsPerVec; ++i) {
          PrefetchNewLines<Fmt::kBlockBytes>(rows[i] + ahead + wb * Fmt::kBlockBytes, wb == 0);
        }
      }
      for (size_t v = 0; v < kNV; ++v) dec[v].Load(rows + v * kRowsPerVec, wb);
      if constexpr (kT == 1) {
        SubBlocksUnrolled(wb, act, tok, std::make_index_sequence<Fmt::kSubBlocks>());
      } else {
#pragma GCC unroll 1
        for (size_t s = 0; s < Fmt::kSubBlocks; ++s) SubBlock(wb, s, act, tok);
      }
      if constexpr (Fmt::kMins) Mins(wb, act, tok);
    }
    for (size_t t = 0; t < kT; ++t) {
      for (size_t v = 0; v < kNV; ++v) StoreChunkSums(DF32(), acc[v][t], out[t] + v * kRowsPerVec);
    }
  }
};

// Rows [r0, r1) of w times tokens [t0, t1) of act into y[(t - t0) * ldy + (r - r0)]. For each tile
// of rows the tokens go in tiles of kT; a short tail of tokens runs one by one on the same rows
// (still in cache) unless it is most of a tile, which is then padded by repeating its last token.
// The decode instantiation (kT == 1) prefetches the next tile's rows.
template <class Fmt, class Dot, size_t kNV, size_t kT>
HWY_INLINE void RowsWithTile(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                             size_t t0, size_t t1, float* y, size_t ldy) {
  constexpr size_t kRows = kNV * kRowsPerVec;
  const size_t n_blocks = static_cast<size_t>(w.cols) / Fmt::kBlockElems;
  Tile<Fmt, Dot, kNV, kT> tile;
  Tile<Fmt, Dot, kNV, 1> single;
  alignas(64) float out[kT][kRows];
  for (size_t r = r0; r < r1; r += kRows) {
    const size_t nr = std::min(kRows, r1 - r);
    const uint8_t* rows[kRows];
    for (size_t i = 0; i < kRows; ++i) {
      rows[i] = w.Row(static_cast<int64_t>(r + std::min(i, nr - 1)));
    }
    for (size_t t = t0; t < t1;) {
      size_t nt = std::min(kT, t1 - t);
      if (kT > 1 && nt * 2 > kT) {
        size_t tok[kT];
        for (size_t i = 0; i < kT; ++i) tok[i] = t + std::min(i, nt - 1);
        tile.Run(rows, n_blocks, act, tok, out);
      } else {
        single.Run(rows, n_blocks, act, &t, out, kT == 1 ? kRows * w.row_bytes : 0);
        nt = 1;
      }
      for (size_t i = 0; i < nt; ++i) {
        for (size_t j = 0; j < nr; ++j) y[(t + i - t0) * ldy + (r - r0) + j] = out[i][j];
      }
      t += nt;
    }
  }
}

#if GEMMA_INT8_VNNI
// Decode (one token) of Q4_0 on AVX3_DL: one row at a time, four blocks (72 bytes) per step.
// Rows are read one after another, a single sequential stream that the hardware prefetcher
// follows at full speed. (Reading 8 rows side by side, 8 short streams, ran at 9.6 GB/s on
// E2B's 1536-column rows against 15.5 one row at a time: bench/kernel_bench, one thread.)
// Two overlapping 64-byte loads cover the four blocks; one VBMI byte permute gathers their 64
// nibble bytes and one word permute their four fp16 scales. The activation side of each step
// (elements 0-15 and 16-31 of the four blocks, the offset lanes of Q8Activations::bias, the
// scales) is laid out once per call, so a step costs the row 11 vector instructions.
struct alignas(64) Q4_0VbmiStep {
  __m512i a_lo, a_hi, bias;
  __m512 scale;
};

HWY_INLINE __m512 Q4_0VbmiStepDot(const uint8_t* p, const Q4_0VbmiStep& a, __m512 acc) {
  // Byte 16c + j takes block c's nibble byte j, at p + 18c + 2 + j (block 3 from l1 = p + 8).
  const __m512i qs_perm = _mm512_set_epi8(
      127, 126, 125, 124, 123, 122, 121, 120, 119, 118, 117, 116, 115, 114, 113, 112,  //
      53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38,                  //
      35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,                  //
      17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2);
  const __m512i d_perm = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 27, 27,
                                          27, 27, 18, 18, 18, 18, 9, 9, 9, 9, 0, 0, 0, 0);
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  const __m512i l0 = _mm512_loadu_si512(p);
  const __m512i l1 = _mm512_loadu_si512(p + 8);
  const __m512i qs = _mm512_permutex2var_epi8(l0, qs_perm, l1);
  const __m512i lo = _mm512_and_si512(qs, nibble);
  const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(qs, 4), nibble);
  const __m512i isum = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(a.bias, lo, a.a_lo), hi, a.a_hi);
  const __m512 d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(d_perm, l0)));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, a.scale), acc);
}

HWY_INLINE void DecodeQ4_0Vbmi(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                               size_t t, float* y) {
  const size_t groups = static_cast<size_t>(w.cols) / 128;
  const int8_t* q = act.Q(t);
  const float* da = act.Scale(t);
  const int32_t* bias = act.Bias(t);
  thread_local AlignedBuffer<Q4_0VbmiStep> steps;
  steps.Resize(groups);
  const __m512i da_perm = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  for (size_t g = 0; g < groups; ++g) {
    const __m512i x0 = _mm512_loadu_si512(q + 128 * g);
    const __m512i x1 = _mm512_loadu_si512(q + 128 * g + 64);
    steps[g].a_lo = _mm512_shuffle_i64x2(x0, x1, 0x88);  // elements 0-15 of each block
    steps[g].a_hi = _mm512_shuffle_i64x2(x0, x1, 0xdd);  // elements 16-31
    steps[g].bias = _mm512_loadu_si512(bias + 16 * g);
    steps[g].scale =
        _mm512_permutexvar_ps(da_perm, _mm512_castps128_ps512(_mm_loadu_ps(da + 4 * g)));
  }
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();  // two FMA chains
    size_t g = 0;
    for (; g + 2 <= groups; g += 2) {
      acc0 = Q4_0VbmiStepDot(row + 72 * g, steps[g], acc0);
      acc1 = Q4_0VbmiStepDot(row + 72 * g + 72, steps[g + 1], acc1);
    }
    if (g < groups) acc0 = Q4_0VbmiStepDot(row + 72 * g, steps[g], acc0);
    y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  }
}

// Decode (one token) of Q4_K on AVX3_DL, one row at a time like the Q4_0 decoder above. A
// 256-element block is 144 bytes: d, dmin (fp16), 12 bytes of 6-bit sub-block scales and mins,
// 128 nibble bytes. Two 64-byte loads hold all nibbles; nibble byte 32k + l is element l of
// sub-block 2k (low) and of 2k + 1 (high), so the low nibbles of the first load pair with
// activations of sub-blocks 0 and 2, its high nibbles with 1 and 3, and so on: four dot
// products, each half of a vector one sub-block. The activation side (those four pairings, and
// the Q8 scales of the eight sub-blocks next to d_a * sum(q_a) for the mins) is laid out once
// per call. Per row and block the float factors d * scale_s * d_a,s (lanes 0-7) and
// dmin * min_s * d_a,s * sum(q_a,s) (lanes 8-15) come from one vector product.
struct alignas(64) Q4_KRowStep {
  __m512i a[4];      // activations paired with lo/hi nibbles of qs[0:64] and of qs[64:128]
  __m512 scale_sum;  // d_a of sub-blocks 0-7, then d_a * sum(q_a) of sub-blocks 0-7
};

// 32 activations from e0, then 32 from e1.
HWY_INLINE __m512i Q4_KActivationPair(const int8_t* q, size_t e0, size_t e1) {
  return _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + e0))),
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + e1)), 1);
}

HWY_INLINE void DecodeQ4_KRow(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                              size_t t, float* y) {
  const size_t blocks = static_cast<size_t>(w.cols) / 256;
  const int8_t* q = act.Q(t);
  thread_local AlignedBuffer<Q4_KRowStep> steps;
  steps.Resize(blocks);
  for (size_t b = 0; b < blocks; ++b) {
    const int8_t* qb = q + 256 * b;
    steps[b].a[0] = Q4_KActivationPair(qb, 0, 64);
    steps[b].a[1] = Q4_KActivationPair(qb, 32, 96);
    steps[b].a[2] = Q4_KActivationPair(qb, 128, 192);
    steps[b].a[3] = Q4_KActivationPair(qb, 160, 224);
    steps[b].scale_sum = _mm512_insertf32x8(
        _mm512_castps256_ps512(_mm256_loadu_ps(act.Scale(t) + 8 * b)),
        _mm256_loadu_ps(act.Sum(t) + 8 * b), 1);
  }
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  const __m512i d_dmin_idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i idx[4] = {  // lanes 0-7 and 8-15 take the factor of these sub-blocks
      _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0),
      _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
      _mm512_set_epi32(6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4),
      _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 5, 5, 5, 5, 5, 5, 5, 5)};
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), mins = _mm512_setzero_ps();
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = row + 144 * b;
      uint32_t d_dmin, u0, u1, u2;
      std::memcpy(&d_dmin, blk, 4);
      std::memcpy(&u0, blk + 4, 4);
      std::memcpy(&u1, blk + 8, 4);
      std::memcpy(&u2, blk + 12, 4);
      // Scales 0-3, 4-7 and mins 0-3, 4-7 as bytes (quant/kquants.cc UnpackKScales, per word).
      const uint32_t sc_lo = u0 & 0x3f3f3f3fu, min_lo = u1 & 0x3f3f3f3fu;
      const uint32_t sc_hi = (u2 & 0x0f0f0f0fu) | ((u0 >> 2) & 0x30303030u);
      const uint32_t min_hi = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 2) & 0x30303030u);
      const __m512 sc_min = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_set_epi32(
          static_cast<int>(min_hi), static_cast<int>(min_lo), static_cast<int>(sc_hi),
          static_cast<int>(sc_lo))));
      const __m512 dm = _mm512_permutexvar_ps(
          d_dmin_idx,
          _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d_dmin)))));
      const __m512 f = _mm512_mul_ps(_mm512_mul_ps(sc_min, dm), steps[b].scale_sum);
      mins = _mm512_add_ps(mins, f);
      const __m512i z0 = _mm512_loadu_si512(blk + 16);
      const __m512i z1 = _mm512_loadu_si512(blk + 80);
      const __m512i codes[4] = {_mm512_and_si512(z0, nibble),
                                _mm512_and_si512(_mm512_srli_epi16(z0, 4), nibble),
                                _mm512_and_si512(z1, nibble),
                                _mm512_and_si512(_mm512_srli_epi16(z1, 4), nibble)};
      for (int k = 0; k < 4; k += 2) {
        const __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[k], steps[b].a[k]);
        const __m512i i1 =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[k + 1], steps[b].a[k + 1]);
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_permutexvar_ps(idx[k], f), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), _mm512_permutexvar_ps(idx[k + 1], f), acc1);
      }
    }
    y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) -
                _mm512_mask_reduce_add_ps(0xff00, mins);
  }
}

// Decode (one token) of Q6_K on AVX3_DL, one row at a time. A 256-element block is 210 bytes:
// ql (128), qh (64), 16 int8 scales (one per 16 elements), d (fp16). In each 128-element half,
// one 64-byte load of ql gives the low 4 bits of elements 0-63 (low nibbles) and 64-127 (high
// nibbles); the half's 32 qh bytes, in both halves of a vector and shifted per half, give the
// top 2 bits. Both code vectors pair with 64 consecutive activations. Codes are 0..63 around
// 32: the dot products start from -32 * (sum of each lane's four activations), laid out once
// per call with the per-lane activation scales.
struct alignas(64) Act64Step {  // per 64 activations (used by Q6_K and Q8_0)
  __m512i bias;  // -offset * (q_a[4i] + ... + q_a[4i + 3]) in lane i (offset 32 or 128)
  __m512 scale;  // d_a of the first 32-block in lanes 0-7, of the second in lanes 8-15
};

HWY_INLINE void DecodeQ6_KRow(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                              size_t t, float* y) {
  const size_t blocks = static_cast<size_t>(w.cols) / 256;
  const int8_t* q = act.Q(t);
  const float* da = act.Scale(t);
  thread_local AlignedBuffer<Act64Step> steps;
  steps.Resize(4 * blocks);
  const __m512i offset = _mm512_set1_epi8(32);
  for (size_t g = 0; g < 4 * blocks; ++g) {
    const __m512i a = _mm512_loadu_si512(q + 64 * g);
    steps[g].bias = _mm512_sub_epi32(_mm512_setzero_si512(),
                                     _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, a));
    steps[g].scale = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(da[2 * g])),
                                        _mm256_set1_ps(da[2 * g + 1]), 1);
  }
  const __m512i low4 = _mm512_set1_epi8(0x0f), top2 = _mm512_set1_epi8(0x30);
  // Top bits of elements 0-31 / 32-63 of the half: qh bits 0-1 / 2-3 moved to bits 4-5;
  // of elements 64-95 / 96-127: bits 4-5 / 6-7.
  const __m512i shl_lo = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(4)),
                                            _mm256_set1_epi16(2), 1);
  const __m512i shr_hi = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(0)),
                                            _mm256_set1_epi16(2), 1);
  const __m512i scale_idx[2][2] = {  // [half][low/high 64 elements]: four lanes per scale
      {_mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0),
       _mm512_set_epi32(7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4)},
      {_mm512_set_epi32(11, 11, 11, 11, 10, 10, 10, 10, 9, 9, 9, 9, 8, 8, 8, 8),
       _mm512_set_epi32(15, 15, 15, 15, 14, 14, 14, 14, 13, 13, 13, 13, 12, 12, 12, 12)}};
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = row + 210 * b;
      uint16_t d_bits;
      std::memcpy(&d_bits, blk + 208, 2);
      const float d = _cvtsh_ss(d_bits);
      const __m512 sc = _mm512_mul_ps(
          _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(
              reinterpret_cast<const __m128i*>(blk + 192)))),
          _mm512_set1_ps(d));
      for (size_t h = 0; h < 2; ++h) {
        const __m512i ql = _mm512_loadu_si512(blk + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h)));
        const __m512i codes_lo = _mm512_or_si512(
            _mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl_lo), top2));
        const __m512i codes_hi =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                            _mm512_and_si512(_mm512_srlv_epi16(qh, shr_hi), top2));
        const size_t g = 4 * b + 2 * h;
        const __m512i i0 =
            _mm512_dpbusd_epi32(steps[g].bias, codes_lo, _mm512_loadu_si512(q + 64 * g));
        const __m512i i1 = _mm512_dpbusd_epi32(steps[g + 1].bias, codes_hi,
                                               _mm512_loadu_si512(q + 64 * g + 64));
        const __m512 f0 = _mm512_mul_ps(_mm512_permutexvar_ps(scale_idx[h][0], sc), steps[g].scale);
        const __m512 f1 =
            _mm512_mul_ps(_mm512_permutexvar_ps(scale_idx[h][1], sc), steps[g + 1].scale);
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), f0, acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), f1, acc1);
      }
    }
    y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  }
}

// Decode (one token) of Q8_0 on AVX3_DL, one row at a time, two blocks (68 bytes) per step: two
// overlapping loads and one VBMI byte permute gather the 64 codes, which meet 64 consecutive
// activations. Codes are signed: flipped to unsigned (code + 128) for vpdpbusd, with
// -128 * (sum of each lane's four activations) as the start, from a per-call table of
// Act64Step.
// One step of DecodeQ8_0Row: blocks 2g and 2g + 1 of the row at p.
HWY_INLINE __m512 Q8_0RowStepDot(const uint8_t* p, const int8_t* a, const Act64Step& step,
                                 __m512i code_perm, __m512i d_perm, __m512 acc) {
  const __m512i l0 = _mm512_loadu_si512(p);
  const __m512i l1 = _mm512_loadu_si512(p + 4);
  const __m512i codes = _mm512_xor_si512(_mm512_permutex2var_epi8(l0, code_perm, l1),
                                         _mm512_set1_epi8(static_cast<char>(0x80)));
  const __m512i isum = _mm512_dpbusd_epi32(step.bias, codes, _mm512_loadu_si512(a));
  const __m512 d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(d_perm, l0)));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, step.scale), acc);
}

HWY_INLINE void DecodeQ8_0Row(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                              size_t t, float* y) {
  const size_t steps_n = static_cast<size_t>(w.cols) / 64;
  const int8_t* q = act.Q(t);
  const float* da = act.Scale(t);
  thread_local AlignedBuffer<Act64Step> steps;
  steps.Resize(steps_n);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (size_t g = 0; g < steps_n; ++g) {
    const __m512i a = _mm512_loadu_si512(q + 64 * g);
    steps[g].bias = _mm512_sub_epi32(_mm512_setzero_si512(),
                                     _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, a));
    steps[g].scale = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(da[2 * g])),
                                        _mm256_set1_ps(da[2 * g + 1]), 1);
  }
  // Byte j < 32: block 0's code j at p + 2 + j; byte 32 + j: block 1's at p + 36 + j, which is
  // byte 32 + j of the second load (p + 4).
  alignas(64) uint8_t perm_bytes[64];
  for (int j = 0; j < 32; ++j) {
    perm_bytes[j] = static_cast<uint8_t>(2 + j);
    perm_bytes[32 + j] = static_cast<uint8_t>(64 + 32 + j);
  }
  const __m512i code_perm = _mm512_load_si512(perm_bytes);
  const __m512i d_perm = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 17,
                                          17, 17, 17, 17, 17, 17, 0, 0, 0, 0, 0, 0, 0, 0);
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t g = 0;
    for (; g + 2 <= steps_n; g += 2) {
      acc0 = Q8_0RowStepDot(row + 68 * g, q + 64 * g, steps[g], code_perm, d_perm, acc0);
      acc1 = Q8_0RowStepDot(row + 68 * g + 68, q + 64 * g + 64, steps[g + 1], code_perm, d_perm,
                            acc1);
    }
    if (g < steps_n) {
      acc0 = Q8_0RowStepDot(row + 68 * g, q + 64 * g, steps[g], code_perm, d_perm, acc0);
    }
    y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  }
}
#endif  // GEMMA_INT8_VNNI

template <class Fmt, class Dot>
HWY_INLINE void RowsQ8(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1, size_t t0,
                       size_t t1, float* y, size_t ldy) {
#if GEMMA_INT8_VNNI
  if constexpr (std::is_same_v<Fmt, Q4_0Decoder>) {
    if (t1 - t0 == 1 && w.cols % 128 == 0) return DecodeQ4_0Vbmi(w, act, r0, r1, t0, y);
  }
  if constexpr (std::is_same_v<Fmt, Q4_KDecoder>) {
    if (t1 - t0 == 1) return DecodeQ4_KRow(w, act, r0, r1, t0, y);
  }
  if constexpr (std::is_same_v<Fmt, Q6_KDecoder>) {
    if (t1 - t0 == 1) return DecodeQ6_KRow(w, act, r0, r1, t0, y);
  }
  if constexpr (std::is_same_v<Fmt, Q8_0Decoder>) {
    if (t1 - t0 == 1 && w.cols % 64 == 0) return DecodeQ8_0Row(w, act, r0, r1, t0, y);
  }
#endif
  if (t1 - t0 == 1) {
    RowsWithTile<Fmt, Dot, kDecodeVecs, 1>(w, act, r0, r1, t0, t1, y, ldy);
#if GEMMA_HAVE_GEMM16
  } else if (t1 - t0 >= kGemm16Tokens) {
    RowsGemm16<typename Rows16Of<Fmt>::type, Dot>(w, act, r0, r1, t0, t1, y, ldy);
#endif
  } else {
    RowsWithTile<Fmt, Dot, kGemmVecs, kGemmTokens>(w, act, r0, r1, t0, t1, y, ldy);
  }
}

#if HWY_TARGET == HWY_NEON
// Armv8.2 dot product present (Linux: HWCAP_ASIMDDP, bit 20).
inline bool HasNeonDotProd() {
  static const bool has = (getauxval(AT_HWCAP) & (1ul << 20)) != 0;
  return has;
}
#endif

// Entry points used by matmul_<format>.cc, choosing the dot policy of this target.
template <class Fmt>
HWY_INLINE void PackActivations(const float* x, size_t t0, size_t t1, Q8Activations& act) {
#if HWY_TARGET == HWY_NEON
  PackQ8<Fmt, NeonDot<false>>(x, t0, t1, act);  // the offsets do not depend on the policy
#else
  PackQ8<Fmt, X86Dot>(x, t0, t1, act);
#endif
}

template <class Fmt>
HWY_INLINE void MatMulRows(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                           size_t t0, size_t t1, float* y, size_t ldy) {
#if HWY_TARGET == HWY_NEON
  if (HasNeonDotProd()) {
    RowsQ8<Fmt, NeonDot<true>>(w, act, r0, r1, t0, t1, y, ldy);
  } else {
    RowsQ8<Fmt, NeonDot<false>>(w, act, r0, r1, t0, t1, y, ldy);
  }
#else
  RowsQ8<Fmt, X86Dot>(w, act, r0, r1, t0, t1, y, ldy);
#endif
}

#else  // !GEMMA_INT8_SIMD: the scalar twin

template <class Fmt>
HWY_INLINE void PackActivations(const float* x, size_t t0, size_t t1, Q8Activations& act) {
  for (size_t t = t0; t < t1; ++t) {
    int8_t* q = act.q.data() + t * act.cols;
    QuantizeActivationsQ8(x + t * act.cols, act.cols, q, act.scale.data() + t * act.blocks);
  }
}

template <class Fmt>
HWY_INLINE void MatMulRows(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                           size_t t0, size_t t1, float* y, size_t ldy) {
  for (size_t t = t0; t < t1; ++t) {
    for (size_t r = r0; r < r1; ++r) {
      y[(t - t0) * ldy + (r - r0)] =
          static_cast<float>(DotWithQ8Activations(w.type, w.Row(static_cast<int64_t>(r)), act.Q(t),
                                                  act.Scale(t), static_cast<size_t>(w.cols))
                                 .value);
    }
  }
}

#endif  // GEMMA_INT8_SIMD

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
