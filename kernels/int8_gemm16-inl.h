// AVX-512 prefill tile of the int8 matmul (included once per Highway target; compiled only for
// AVX3 and AVX3_DL): 16 weight rows in the 16 lanes of a vector.
//
// The chunk layout of int8_matmul-inl.h spends float work on four partial lanes per row. Here
// each 32-element sub-block of 16 rows is transposed once in registers into 8 "step" vectors
// (lane i = four consecutive codes of row i), then every token costs 8 dot steps against its
// activations broadcast 4 bytes at a time straight from memory (vpdpbusd's {1to16} operand),
// and one float multiply-add with the per-row scale: no activation shuffles, no horizontal
// sums, and the transposition is shared by kGemm16Tokens tokens.
#if defined(GEMMA_KERNELS_INT8_GEMM16_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA_KERNELS_INT8_GEMM16_INL_H_
#undef GEMMA_KERNELS_INT8_GEMM16_INL_H_
#else
#define GEMMA_KERNELS_INT8_GEMM16_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hwy/highway.h"
#include "kernels/int8_formats-inl.h"
#include "kernels/int8_simd-inl.h"
#include "kernels/matrix.h"
#include "kernels/q8_act.h"
#include "quant/q8_activations.h"  // kQ8Block

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {

#undef GEMMA_HAVE_GEMM16
#if GEMMA_INT8_SIMD && HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
#define GEMMA_HAVE_GEMM16 1

constexpr size_t kGemm16Tokens = 12;

// ---- helpers -----------------------------------------------------------------------------

HWY_INLINE __m512i Acc512(__m512i acc, __m512i u, __m512i s) {
  return DotAcc(VI32{acc}, VU8{u}, VI8{s}).raw;
}

// Four activation codes q[0..3] in every lane.
HWY_INLINE __m512i Bcast4(const int8_t* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return _mm512_set1_epi32(v);
}

// 16 rows: pointers plus their byte offsets from the first (for gathers).
struct Rows16 {
  const uint8_t* const* rows;
  __m512i offsets;
};

// The little-endian dword at rows[i] + off, in lane i.
HWY_INLINE __m512i GatherDwords(const Rows16& r, size_t off) {
  const __m512i idx = _mm512_add_epi32(r.offsets, _mm512_set1_epi32(static_cast<int>(off)));
  return _mm512_i32gather_epi32(idx, r.rows[0], 1);
}

// fp16 in the low (kHigh false) or high half of each dword, as float.
template <bool kHigh>
HWY_INLINE __m512 HalfToF32(__m512i dwords) {
  if constexpr (kHigh) dwords = _mm512_srli_epi32(dwords, 16);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dwords));
}

// Bytes [off, off + 16) of the 16 rows, transposed: r[k] lane i = bytes 4k..4k+3 of row i.
HWY_INLINE void Load16x16(const Rows16& rs, size_t off, __m512i* r) {
  const __m512i q0 = LoadRows(DU8(), rs.rows, off).raw;       // rows 0-3, one per 128 bits
  const __m512i q1 = LoadRows(DU8(), rs.rows + 4, off).raw;   // rows 4-7
  const __m512i q2 = LoadRows(DU8(), rs.rows + 8, off).raw;   // rows 8-11
  const __m512i q3 = LoadRows(DU8(), rs.rows + 12, off).raw;  // rows 12-15
  // Lanes 0-7: dword k of rows 0-7 (of q0|q1 or q2|q3), lanes 8-15: dword k+1.
  const __m512i k01 = _mm512_set_epi32(29, 25, 21, 17, 13, 9, 5, 1, 28, 24, 20, 16, 12, 8, 4, 0);
  const __m512i k23 = _mm512_add_epi32(k01, _mm512_set1_epi32(2));
  const __m512i a01 = _mm512_permutex2var_epi32(q0, k01, q1);
  const __m512i a23 = _mm512_permutex2var_epi32(q2, k01, q3);
  const __m512i b01 = _mm512_permutex2var_epi32(q0, k23, q1);
  const __m512i b23 = _mm512_permutex2var_epi32(q2, k23, q3);
  // Halves of rows 0-7 and 8-15 side by side.
  r[0] = _mm512_shuffle_i64x2(a01, a23, 0x44);
  r[1] = _mm512_shuffle_i64x2(a01, a23, 0xee);
  r[2] = _mm512_shuffle_i64x2(b01, b23, 0x44);
  r[3] = _mm512_shuffle_i64x2(b01, b23, 0xee);
}

HWY_INLINE __m512i Low4(__m512i v) { return _mm512_and_si512(v, _mm512_set1_epi8(0x0f)); }
HWY_INLINE __m512i High4(__m512i v) {
  return _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0f));
}

// Bit `from` of every byte moved to bit 4, masked with `mask` (one or two bits from there).
HWY_INLINE __m512i BitsTo4(__m512i v, int from, int mask) {
  v = _mm512_sll_epi16(v, _mm_cvtsi32_si128(from < 4 ? 4 - from : 0));
  v = _mm512_srl_epi16(v, _mm_cvtsi32_si128(from > 4 ? from - 4 : 0));
  return _mm512_and_si512(v, _mm512_set1_epi8(static_cast<char>(mask)));
}

// The nibble `high` (0 or 1) of every byte.
HWY_INLINE __m512i Nibble(__m512i v, int high) {
  return _mm512_and_si512(_mm512_srl_epi16(v, _mm_cvtsi32_si128(4 * high)), _mm512_set1_epi8(0x0f));
}

// Byte `b` (0-3) of every dword, zero-extended.
HWY_INLINE __m512i DwordByte(__m512i v, int b) {
  return _mm512_and_si512(_mm512_srl_epi32(v, _mm_cvtsi32_si128(8 * b)), _mm512_set1_epi32(0xff));
}

// ---- 16-row decoders ---------------------------------------------------------------------
// Same constants as the chunk decoders (int8_formats-inl.h); Steps(s, w, ws) gives the 8 step
// vectors of sub-block s (w[j] lane i = codes 4j..4j+3 of row i) and the per-row scale.

struct Q4_0Rows16 {
  static constexpr size_t kBlockElems = 32, kBlockBytes = sizeof(BlockQ4_0), kSubBlocks = 1;
  static constexpr bool kSigned = false, kHalfScales = false, kMins = false;
  template <class Dot>
  static constexpr int Offset() {
    return 8;
  }

  __m512i w[8];
  __m512 d;
  HWY_INLINE Q4_0Rows16() {}
  HWY_INLINE void Load(const Rows16& rs, size_t block) {
    const size_t off = block * kBlockBytes;
    __m512i r[4];
    Load16x16(rs, off + 2, r);  // byte j: element j (low nibble), j + 16 (high)
    for (int k = 0; k < 4; ++k) {
      w[k] = Low4(r[k]);
      w[k + 4] = High4(r[k]);
    }
    d = HalfToF32<false>(GatherDwords(rs, off));
  }
  HWY_INLINE void Steps(size_t /*s*/, __m512i* out, __m512& ws) const {
    for (int j = 0; j < 8; ++j) out[j] = w[j];
    ws = d;
  }
};

struct Q8_0Rows16 {
  static constexpr size_t kBlockElems = 32, kBlockBytes = sizeof(BlockQ8_0), kSubBlocks = 1;
  static constexpr bool kSigned = true, kHalfScales = false, kMins = false;
  template <class Dot>
  static constexpr int Offset() {
    return Dot::kSignedViaOffset ? 128 : 0;
  }

  __m512i w[8];
  __m512 d;
  HWY_INLINE Q8_0Rows16() {}
  HWY_INLINE void Load(const Rows16& rs, size_t block) {
    const size_t off = block * kBlockBytes;
    Load16x16(rs, off + 2, w);
    Load16x16(rs, off + 18, w + 4);
    d = HalfToF32<false>(GatherDwords(rs, off));
  }
  HWY_INLINE void Steps(size_t /*s*/, __m512i* out, __m512& ws) const {
    for (int j = 0; j < 8; ++j) out[j] = w[j];
    ws = d;
  }
};

// Q4_K (kHighBits false) and Q5_K: see ScaleMinDecoder for the byte layout.
template <size_t kBytes, size_t kQsOffset, bool kHighBits>
struct ScaleMinRows16 {
  static constexpr size_t kBlockElems = 256, kBlockBytes = kBytes, kSubBlocks = 8;
  static constexpr bool kSigned = false, kHalfScales = false, kMins = true;
  template <class Dot>
  static constexpr int Offset() {
    return 0;
  }

  const Rows16* rs;
  size_t off;
  __m512 d, dmin;
  __m512i packed[3];  // scale bytes 0-3, 4-7, 8-11 of each row
  __m512i qs[8];      // nibble bytes of the current sub-block pair, transposed
  __m512i qh[8];      // Q5_K high bits, transposed

  HWY_INLINE ScaleMinRows16() {}
  HWY_INLINE void Load(const Rows16& rows, size_t block) {
    rs = &rows;
    off = block * kBlockBytes;
    const __m512i d_dmin = GatherDwords(rows, off);
    d = HalfToF32<false>(d_dmin);
    dmin = HalfToF32<true>(d_dmin);
    for (int i = 0; i < 3; ++i) packed[i] = GatherDwords(rows, off + 4 + 4 * i);
    if constexpr (kHighBits) {
      Load16x16(rows, off + 16, qh);
      Load16x16(rows, off + 32, qh + 4);
    }
  }
  // 6-bit scale (kMin false) or min j of every row (the rule of UnpackKScales).
  template <bool kMin>
  HWY_INLINE __m512 ScaleOrMin(int j) const {
    const __m512i w = packed[kMin ? 1 : 0];
    __m512i v;
    if (j < 4) {
      v = _mm512_and_si512(DwordByte(w, j), _mm512_set1_epi32(63));
    } else {
      const __m512i low = _mm512_and_si512(
          _mm512_srl_epi32(DwordByte(packed[2], j - 4), _mm_cvtsi32_si128(kMin ? 4 : 0)),
          _mm512_set1_epi32(15));
      const __m512i top = _mm512_srli_epi32(DwordByte(w, j - 4), 6);
      v = _mm512_or_si512(low, _mm512_slli_epi32(top, 4));
    }
    return _mm512_cvtepi32_ps(v);
  }
  HWY_INLINE void Steps(size_t s, __m512i* out, __m512& ws) {
    if (s % 2 == 0) {
      Load16x16(*rs, off + kQsOffset + 32 * (s / 2), qs);
      Load16x16(*rs, off + kQsOffset + 32 * (s / 2) + 16, qs + 4);
    }
    for (int j = 0; j < 8; ++j) {
      out[j] = Nibble(qs[j], static_cast<int>(s % 2));
      if constexpr (kHighBits) {
        out[j] = _mm512_or_si512(out[j], BitsTo4(qh[j], static_cast<int>(s), 0x10));
      }
    }
    ws = _mm512_mul_ps(d, ScaleOrMin<false>(static_cast<int>(s)));
  }
  HWY_INLINE void Mins(__m512* m) const {
    for (int j = 0; j < 8; ++j) m[j] = _mm512_mul_ps(dmin, ScaleOrMin<true>(j));
  }
};

using Q4_KRows16 = ScaleMinRows16<sizeof(BlockQ4_K), 16, false>;
using Q5_KRows16 = ScaleMinRows16<sizeof(BlockQ5_K), 48, true>;

// Q6_K: see Q6_KDecoder for the byte layout.
struct Q6_KRows16 {
  static constexpr size_t kBlockElems = 256, kBlockBytes = sizeof(BlockQ6_K), kSubBlocks = 8;
  static constexpr bool kSigned = false, kHalfScales = true, kMins = false;
  template <class Dot>
  static constexpr int Offset() {
    return 32;
  }

  const Rows16* rs;
  size_t off;
  __m512 d;
  __m512i scales[4];  // the 16 int8 scales of each row, 4 per dword
  __m512i ql[16];     // the current half's 64 ql bytes, transposed
  __m512i qh[8];      // and its 32 qh bytes

  HWY_INLINE Q6_KRows16() {}
  HWY_INLINE void Load(const Rows16& rows, size_t block) {
    rs = &rows;
    off = block * kBlockBytes;
    for (int i = 0; i < 4; ++i) scales[i] = GatherDwords(rows, off + 192 + 4 * i);
    d = HalfToF32<true>(GatherDwords(rows, off + 206));  // scales[14], scales[15], d
  }
  HWY_INLINE void Steps(size_t s, __m512i* out, __m512& ws) {
    const size_t h = s / 4, k = s % 4;
    if (k == 0) {
      for (int i = 0; i < 4; ++i) Load16x16(*rs, off + 64 * h + 16 * i, ql + 4 * i);
      Load16x16(*rs, off + 128 + 32 * h, qh);
      Load16x16(*rs, off + 128 + 32 * h + 16, qh + 4);
    }
    for (int j = 0; j < 8; ++j) {
      const __m512i low = Nibble(ql[8 * (k & 1) + j], k < 2 ? 0 : 1);
      out[j] = _mm512_or_si512(low, BitsTo4(qh[j], static_cast<int>(2 * k), 0x30));
    }
    ws = d;
  }
  // Scales of elements 0-15 and 16-31 of sub-block s, sign-extended.
  HWY_INLINE void HalfScales(size_t s, __m512i& lo, __m512i& hi) const {
    lo = SignedByte(2 * s);
    hi = SignedByte(2 * s + 1);
  }

 private:
  HWY_INLINE __m512i SignedByte(size_t b) const {
    const __m512i shifted =
        _mm512_sll_epi32(scales[b / 4], _mm_cvtsi32_si128(static_cast<int>(24 - 8 * (b % 4))));
    return _mm512_srai_epi32(shifted, 24);
  }
};

// ---- the tile ----------------------------------------------------------------------------

// Per-token pointers into the packed activations, computed once per tile.
template <size_t kT>
struct TokenPtrs {
  const int8_t* q[kT];
  const float* scale[kT];
  const float* sum[kT];
  const int32_t* bias[kT];
  HWY_INLINE TokenPtrs(const Q8Activations& act, const size_t* tok) {
    for (size_t t = 0; t < kT; ++t) {
      q[t] = act.Q(tok[t]);
      scale[t] = act.Scale(tok[t]);
      sum[t] = act.Sum(tok[t]);
      bias[t] = act.BiasHalf(tok[t]);
    }
  }
};

template <class Fmt, class Dot, size_t kT>
struct Gemm16Tile {
  __m512 acc[kT];
  HWY_INLINE Gemm16Tile() {}

  HWY_INLINE void SubBlock(Fmt& dec, size_t wb, size_t s, const TokenPtrs<kT>& tp) {
    __m512i w[8];
    __m512 ws;
    dec.Steps(s, w, ws);
    __m512i sc_lo, sc_hi;
    if constexpr (Fmt::kHalfScales) dec.HalfScales(s, sc_lo, sc_hi);
    if constexpr (Fmt::kSigned && Dot::kSignedViaOffset) {
      for (int j = 0; j < 8; ++j) w[j] = _mm512_xor_si512(w[j], _mm512_set1_epi8(-128));
    }
    const size_t ab = wb * Fmt::kSubBlocks + s;
    // Fully unrolled so that the accumulators stay in registers and the tokens' dot-product
    // chains interleave.
#pragma GCC unroll 16
    for (size_t t = 0; t < kT; ++t) {
      const int8_t* q = tp.q[t] + kQ8Block * ab;
      const int32_t* bias = tp.bias[t] + 2 * ab;
      __m512i isum;
      if constexpr (Fmt::kHalfScales) {
        __m512i lo = _mm512_set1_epi32(bias[0]), hi = _mm512_set1_epi32(bias[1]);
#pragma GCC unroll 8
        for (int j = 0; j < 4; ++j) {
          lo = Acc512(lo, w[j], Bcast4(q + 4 * j));
          hi = Acc512(hi, w[j + 4], Bcast4(q + 16 + 4 * j));
        }
        isum = _mm512_add_epi32(_mm512_mullo_epi32(lo, sc_lo), _mm512_mullo_epi32(hi, sc_hi));
      } else {
        // Two chains of four dot steps each (elements 0-15 and 16-31).
        __m512i a = Fmt::template Offset<Dot>() != 0 ? _mm512_set1_epi32(bias[0] + bias[1])
                                                     : _mm512_setzero_si512();
        __m512i b = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int j = 0; j < 4; ++j) {
          if constexpr (Fmt::kSigned && !Dot::kSignedViaOffset) {
            a = Dot::AccSigned(VI32{a}, VI8{w[j]}, VI8{Bcast4(q + 4 * j)}).raw;
            b = Dot::AccSigned(VI32{b}, VI8{w[j + 4]}, VI8{Bcast4(q + 16 + 4 * j)}).raw;
          } else {
            a = Acc512(a, w[j], Bcast4(q + 4 * j));
            b = Acc512(b, w[j + 4], Bcast4(q + 16 + 4 * j));
          }
        }
        isum = _mm512_add_epi32(a, b);
      }
      const __m512 scale = _mm512_mul_ps(ws, _mm512_set1_ps(tp.scale[t][ab]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, acc[t]);
    }
  }

  HWY_INLINE void Mins(const Fmt& dec, size_t wb, const TokenPtrs<kT>& tp) {
    __m512 m[8];
    dec.Mins(m);
#pragma GCC unroll 16
    for (size_t t = 0; t < kT; ++t) {
      const float* s = tp.sum[t] + 8 * wb;
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) acc[t] = _mm512_fnmadd_ps(m[j], _mm512_set1_ps(s[j]), acc[t]);
    }
  }

  HWY_INLINE void Run(const Rows16& rs, size_t n_blocks, const Q8Activations& act,
                      const size_t* tok, float (*out)[16]) {
    const TokenPtrs<kT> tp(act, tok);
#pragma GCC unroll 16
    for (size_t t = 0; t < kT; ++t) acc[t] = _mm512_setzero_ps();
    Fmt dec;
    for (size_t wb = 0; wb < n_blocks; ++wb) {
      dec.Load(rs, wb);
#pragma GCC unroll 1
      for (size_t s = 0; s < Fmt::kSubBlocks; ++s) SubBlock(dec, wb, s, tp);
      if constexpr (Fmt::kMins) Mins(dec, wb, tp);
    }
#pragma GCC unroll 16
    for (size_t t = 0; t < kT; ++t) _mm512_storeu_ps(out[t], acc[t]);
  }
};

// Rows [r0, r1) by tokens [t0, t1) (at least kGemm16Tokens of them): y[(t - t0) * ldy + r - r0].
// Tails are padded by repeating the last row / token; only real outputs are stored.
template <class Fmt, class Dot>
HWY_INLINE void RowsGemm16(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                           size_t t0, size_t t1, float* y, size_t ldy) {
  const size_t n_blocks = static_cast<size_t>(w.cols) / Fmt::kBlockElems;
  Gemm16Tile<Fmt, Dot, kGemm16Tokens> tile;
  alignas(64) float out[kGemm16Tokens][16];
  for (size_t r = r0; r < r1; r += 16) {
    const size_t nr = std::min<size_t>(16, r1 - r);
    const uint8_t* rows[16];
    alignas(64) int32_t offsets[16];
    for (size_t i = 0; i < 16; ++i) {
      rows[i] = w.Row(static_cast<int64_t>(r + std::min(i, nr - 1)));
      offsets[i] = static_cast<int32_t>(rows[i] - rows[0]);
    }
    const Rows16 rs{rows, _mm512_load_si512(offsets)};
    for (size_t t = t0; t < t1; t += kGemm16Tokens) {
      const size_t nt = std::min(kGemm16Tokens, t1 - t);
      size_t tok[kGemm16Tokens];
      for (size_t i = 0; i < kGemm16Tokens; ++i) tok[i] = t + std::min(i, nt - 1);
      tile.Run(rs, n_blocks, act, tok, out);
      for (size_t i = 0; i < nt; ++i) {
        std::copy(out[i], out[i] + nr, y + (t + i - t0) * ldy + (r - r0));
      }
    }
  }
}

// The 16-row decoder of each chunk decoder.
template <class Fmt>
struct Rows16Of;
template <>
struct Rows16Of<Q4_0Decoder> {
  using type = Q4_0Rows16;
};
template <>
struct Rows16Of<Q8_0Decoder> {
  using type = Q8_0Rows16;
};
template <>
struct Rows16Of<Q4_KDecoder> {
  using type = Q4_KRows16;
};
template <>
struct Rows16Of<Q5_KDecoder> {
  using type = Q5_KRows16;
};
template <>
struct Rows16Of<Q6_KDecoder> {
  using type = Q6_KRows16;
};

#endif  // GEMMA_INT8_SIMD && x86 AVX-512

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
