// The int8 matmul kernel, generic over weight format and target (included once per Highway
// target by each kernels/matmul_<format>.cc):
//
//   PackQ8<Fmt, Dot>   quantizes activations to Q8 blocks (bit-identical to the scalar
//                      reference QuantizeActivationsQ8) and fills the per-block side tables
//   RowsQ8<Fmt, Dot>   y[t][r] for a range of rows and every token
//
// RowsQ8 picks one of three loops:
//   - one token of Q4_0, Q8_0, Q4_K or Q6_K on x86 from AVX2 up: a decoder of
//     int8_rows-inl.h that reads one row at a time: a single sequential memory stream, about
//     twice as fast on E2B's short rows as several rows side by side
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
#include <type_traits>
#include <utility>

#include "hwy/highway.h"
#include "kernels/int8_formats-inl.h"
#include "kernels/int8_gemm16-inl.h"
#include "kernels/int8_rows-inl.h"
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


template <class Fmt, class Dot>
HWY_INLINE void RowsQ8(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1, size_t t0,
                       size_t t1, float* y, size_t ldy) {
  // One token: the one-row decoders of int8_rows-inl.h (Q5_K and non-x86 run the tile below).
  // On AVX3_DL with GCC, Q4_K takes the 512-bit decoder before the 256-bit one.
#if GEMMA_INT8_VNNI
  if constexpr (std::is_same_v<Fmt, Q4_KDecoder>) {
    if (t1 - t0 == 1) return DecodeQ4_KRow(w, act, r0, r1, t0, y);
  }
#endif
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  if constexpr (std::is_same_v<Fmt, Q4_0Decoder>) {
    if (t1 - t0 == 1 && w.cols % 64 == 0) return DecodeQ4_0Row256(w, act, r0, r1, t0, y);
  }
  if constexpr (std::is_same_v<Fmt, Q8_0Decoder>) {
    if (t1 - t0 == 1) return DecodeQ8_0Row256(w, act, r0, r1, t0, y);
  }
  if constexpr (std::is_same_v<Fmt, Q4_KDecoder>) {
    if (t1 - t0 == 1) return DecodeQ4_KRow256(w, act, r0, r1, t0, y);
  }
  if constexpr (std::is_same_v<Fmt, Q6_KDecoder>) {
    if (t1 - t0 == 1) return DecodeQ6_KRow256(w, act, r0, r1, t0, y);
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
