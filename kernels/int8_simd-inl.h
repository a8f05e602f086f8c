// Per-target primitives of the int8 matmul kernels (included once per Highway target).
//
// Highway 1.0.3 has no int8 dot-product op, so the one hot instruction is written per target:
//   AVX3_DL              vpdpbusd (AVX512-VNNI): u8 x s8 -> i32 in one instruction
//   AVX3, AVX2, SSE4/3   vpmaddubsw + vpmaddwd: u8 x s8 -> i16 pairs -> i32
//   NEON                 SDOT (vdotq_s32) when the CPU has it, else vmull_s8 + pairwise adds
// Everything else (SCALAR, EMU128, SVE, ...) uses the scalar twin (quant/int8_dot.h).
//
// Layout shared by every target: a vector of B bytes holds R = B/16 weight rows, 16 consecutive
// elements of each row per 128-bit chunk, and the activations are broadcast to every chunk
// (LoadDup128). The i32 lane i of a chunk then sums the products of elements 4i..4i+3, so no
// lane ever mixes two rows, and a chunk's four lanes add up to that row's partial dot product.
#if defined(GEMMA_KERNELS_INT8_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA_KERNELS_INT8_SIMD_INL_H_
#undef GEMMA_KERNELS_INT8_SIMD_INL_H_
#else
#define GEMMA_KERNELS_INT8_SIMD_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "hwy/highway.h"

#if HWY_TARGET == HWY_NEON
#include <arm_neon.h>
#endif

// GEMMA_INT8_SIMD: this target has the hand-written int8 kernels.
// GEMMA_INT8_VNNI: it uses vpdpbusd. Highway 1.0.3's AVX3_DL target string lacks avx512vnni, so
// files add it for their whole Highway region with GEMMA_INT8_REGION_BEGIN() (a GCC pragma,
// additive to Highway's, popped by HWY_AFTER_NAMESPACE). The same string enables avxvnni, which
// Highway does not check at run time and which CPUs may lack (this project's Zen 5 VM does):
// GCC then prefers the VEX encoding for 128/256-bit vpdpbusd, which dies with SIGILL. So
// vpdpbusd is used on 512-bit vectors only (EVEX is the only encoding there); narrower dot
// steps use maddubs on every x86 target. clang does not combine nested target pragmas, so
// clang builds use the maddubs path on AVX3_DL too.
#undef GEMMA_INT8_SIMD
#undef GEMMA_INT8_VNNI
#if HWY_TARGET == HWY_AVX3_DL && !defined(__clang__)
#define GEMMA_INT8_SIMD 1
#define GEMMA_INT8_VNNI 1
#elif HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2 || \
    HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_NEON
#define GEMMA_INT8_SIMD 1
#define GEMMA_INT8_VNNI 0
#else
#define GEMMA_INT8_SIMD 0
#define GEMMA_INT8_VNNI 0
#endif

// Use right after HWY_BEFORE_NAMESPACE() / before HWY_AFTER_NAMESPACE() in every file whose
// Highway region calls the int8 primitives.
#ifndef GEMMA_INT8_REGION_BEGIN
#define GEMMA_INT8_PRAGMA(x) _Pragma(#x)
#define GEMMA_INT8_REGION_BEGIN() \
  GEMMA_INT8_REGION_BEGIN_IMPL(GEMMA_INT8_VNNI)
#define GEMMA_INT8_REGION_BEGIN_IMPL(vnni) GEMMA_INT8_REGION_BEGIN_IMPL2(vnni)
#define GEMMA_INT8_REGION_BEGIN_IMPL2(vnni) GEMMA_INT8_REGION_BEGIN_##vnni
#define GEMMA_INT8_REGION_BEGIN_1 GEMMA_INT8_PRAGMA(GCC target("avx512vnni"))
#define GEMMA_INT8_REGION_BEGIN_0
#endif

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if GEMMA_INT8_SIMD

using DU8 = hn::ScalableTag<uint8_t>;
using DI8 = hn::ScalableTag<int8_t>;
using DI32 = hn::ScalableTag<int32_t>;
using DF32 = hn::ScalableTag<float>;
using VU8 = hn::Vec<DU8>;
using VI8 = hn::Vec<DI8>;
using VI32 = hn::Vec<DI32>;
using VF32 = hn::Vec<DF32>;

// Weight rows per vector (one per 128-bit chunk).
constexpr size_t kRowsPerVec = hn::MaxLanes(DU8()) / 16;

// ---- the dot-product step: acc + per-lane sum of 4 products ------------------------------

// Integer dot product step of unsigned weight codes (< 64, or < 256 with VNNI) with signed
// activation codes: acc[i] += sum_k u[4i+k] * s[4i+k].
#if HWY_ARCH_X86
#if GEMMA_INT8_VNNI
HWY_INLINE hn::Vec512<int32_t> DotAcc(hn::Vec512<int32_t> acc, hn::Vec512<uint8_t> u,
                                      hn::Vec512<int8_t> s) {
  return hn::Vec512<int32_t>{_mm512_dpbusd_epi32(acc.raw, u.raw, s.raw)};
}
#endif
// maddubs saturates pairs to int16: exact while 2 * u * |s| <= 32767, i.e. codes < 128 with
// |s| <= 127 (true for every format but Q8_0, which uses DotAccSigned).
template <size_t N>
HWY_INLINE hn::Vec128<int32_t, N / 4> DotAcc(hn::Vec128<int32_t, N / 4> acc,
                                             hn::Vec128<uint8_t, N> u, hn::Vec128<int8_t, N> s) {
  const __m128i pairs = _mm_maddubs_epi16(u.raw, s.raw);
  return hn::Vec128<int32_t, N / 4>{_mm_add_epi32(acc.raw, _mm_madd_epi16(pairs, _mm_set1_epi16(1)))};
}
#if HWY_TARGET <= HWY_AVX2
HWY_INLINE hn::Vec256<int32_t> DotAcc(hn::Vec256<int32_t> acc, hn::Vec256<uint8_t> u,
                                      hn::Vec256<int8_t> s) {
  const __m256i pairs = _mm256_maddubs_epi16(u.raw, s.raw);
  return hn::Vec256<int32_t>{
      _mm256_add_epi32(acc.raw, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))};
}
#endif
#if HWY_TARGET <= HWY_AVX3 && !GEMMA_INT8_VNNI
HWY_INLINE hn::Vec512<int32_t> DotAcc(hn::Vec512<int32_t> acc, hn::Vec512<uint8_t> u,
                                      hn::Vec512<int8_t> s) {
  const __m512i pairs = _mm512_maddubs_epi16(u.raw, s.raw);
  return hn::Vec512<int32_t>{
      _mm512_add_epi32(acc.raw, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)))};
}
#endif
#endif

// Signed x signed step for Q8_0 weights on targets without VNNI (see the Q8_0 decoder for the
// VNNI variant): |w| * sign(a, w) keeps maddubs exact because |w|, |a| <= 127.
#if HWY_ARCH_X86 && !GEMMA_INT8_VNNI
template <size_t N>
HWY_INLINE hn::Vec128<int32_t, N / 4> DotAccSigned(hn::Vec128<int32_t, N / 4> acc,
                                                   hn::Vec128<int8_t, N> w, hn::Vec128<int8_t, N> a) {
  return DotAcc(acc, hn::Vec128<uint8_t, N>{_mm_abs_epi8(w.raw)},
                hn::Vec128<int8_t, N>{_mm_sign_epi8(a.raw, w.raw)});
}
#if HWY_TARGET <= HWY_AVX2
HWY_INLINE hn::Vec256<int32_t> DotAccSigned(hn::Vec256<int32_t> acc, hn::Vec256<int8_t> w,
                                            hn::Vec256<int8_t> a) {
  return DotAcc(acc, hn::Vec256<uint8_t>{_mm256_abs_epi8(w.raw)},
                hn::Vec256<int8_t>{_mm256_sign_epi8(a.raw, w.raw)});
}
#endif
#if HWY_TARGET <= HWY_AVX3
HWY_INLINE hn::Vec512<int32_t> DotAccSigned(hn::Vec512<int32_t> acc, hn::Vec512<int8_t> w,
                                            hn::Vec512<int8_t> a) {
  // AVX-512 has no vpsignb: negate a where w < 0 (where w == 0 the product is 0 anyway).
  const __mmask64 neg = _mm512_movepi8_mask(w.raw);
  const __m512i signed_a = _mm512_mask_sub_epi8(a.raw, neg, _mm512_setzero_si512(), a.raw);
  return DotAcc(acc, hn::Vec512<uint8_t>{_mm512_abs_epi8(w.raw)}, hn::Vec512<int8_t>{signed_a});
}
#endif
#endif


// ---- dot policies: how a kernel multiplies codes with activations -------------------------
//   Acc(acc, u, s)        acc + lane sums of u8 weight codes x s8 activations
//   AccSigned(acc, w, a)  the same for s8 weights (Q8_0), when kSignedViaOffset is false
//   kSignedViaOffset      Q8_0 weights are made unsigned (w + 128) and corrected by the
//                         activation offset lanes instead (VNNI has only u8 x s8)
#if HWY_ARCH_X86
struct X86Dot {
  static constexpr bool kSignedViaOffset = GEMMA_INT8_VNNI;
  template <class VI, class VU, class VS>
  static HWY_INLINE VI Acc(VI acc, VU u, VS s) {
    return DotAcc(acc, u, s);
  }
#if !GEMMA_INT8_VNNI
  template <class VI, class VS>
  static HWY_INLINE VI AccSigned(VI acc, VS w, VS a) {
    return DotAccSigned(acc, w, a);
  }
#endif
};
#elif HWY_TARGET == HWY_NEON
// kSdot: the Armv8.2 dot-product instruction (chosen at run time, see HasNeonDotProd). Without
// it: widening multiplies and pairwise adds. Both give each i32 lane its own four products.
// The asm form lets one generic kernel template use SDOT without compiling the whole target
// for Armv8.2 (GCC only accepts vdotq_s32 in functions built for armv8.2-a+dotprod).
template <bool kSdot>
struct NeonDot {
  static constexpr bool kSignedViaOffset = false;
  static HWY_INLINE int32x4_t Dot4(int32x4_t acc, int8x16_t a, int8x16_t b) {
    if constexpr (kSdot) {
#if defined(__ARM_FEATURE_DOTPROD)
      return vdotq_s32(acc, a, b);
#else
      __asm__(".arch armv8.2-a+dotprod\n\tsdot %0.4s, %1.16b, %2.16b" : "+w"(acc) : "w"(a), "w"(b));
      return acc;
#endif
    } else {
      const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
      const int16x8_t hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
      return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
    }
  }
  // Codes below 128 are the same as signed bytes.
  static HWY_INLINE hn::Vec128<int32_t> Acc(hn::Vec128<int32_t> acc, hn::Vec128<uint8_t> u,
                                            hn::Vec128<int8_t> s) {
    return hn::Vec128<int32_t>{Dot4(acc.raw, vreinterpretq_s8_u8(u.raw), s.raw)};
  }
  static HWY_INLINE hn::Vec128<int32_t> AccSigned(hn::Vec128<int32_t> acc, hn::Vec128<int8_t> w,
                                                  hn::Vec128<int8_t> a) {
    return hn::Vec128<int32_t>{Dot4(acc.raw, w.raw, a.raw)};
  }
};
#endif

// ---- loads -------------------------------------------------------------------------------

// 16 bytes from each of kRowsPerVec row pointers (plus a common byte offset), row c in chunk c.
template <class D>
HWY_INLINE hn::Vec<D> LoadRows(D d, const uint8_t* const* rows, size_t offset) {
  if constexpr (hn::MaxLanes(D()) <= 16) {
    return hn::LoadU(d, rows[0] + offset);
  } else {
    const hn::Half<D> dh;
    constexpr size_t kHalfRows = hn::MaxLanes(D()) / 32;
    return hn::Combine(d, LoadRows(dh, rows + kHalfRows, offset), LoadRows(dh, rows, offset));
  }
}

// Sum of the four i32/f32 lanes of every 128-bit chunk, written to out[chunk].
template <class D>
HWY_INLINE void StoreChunkSums(D d, hn::Vec<D> v, hn::TFromD<D>* out) {
  v = hn::Add(v, hn::Shuffle2301(v));
  v = hn::Add(v, hn::Shuffle1032(v));
  alignas(64) hn::TFromD<D> lanes[hn::MaxLanes(D())];
  hn::Store(v, d, lanes);
  for (size_t c = 0; c < hn::MaxLanes(D()) / 4; ++c) out[c] = lanes[4 * c];
}

// Little-endian u16 loaded from an arbitrary address.
HWY_INLINE uint32_t LoadU16(const uint8_t* p) { return p[0] | (uint32_t{p[1]} << 8); }

// fp16 values (bit patterns in the low half of u32 lanes) converted to float.
template <class DF>
HWY_INLINE hn::Vec<DF> HalfBitsToF32(DF df, hn::Vec<hn::RebindToSigned<DF>> bits) {
  const hn::Rebind<uint16_t, DF> du16;
  const hn::Rebind<hwy::float16_t, DF> df16;
  return hn::PromoteTo(df, hn::BitCast(df16, hn::DemoteTo(du16, bits)));
}

// Per-row float scales stored as fp16 at rows[c] + offset, broadcast to row c's chunk.
template <class DF>
HWY_INLINE hn::Vec<DF> LoadRowHalfScales(DF df, const uint8_t* const* rows, size_t offset) {
  const hn::RebindToSigned<DF> di;
  alignas(64) int32_t bits[hn::MaxLanes(DF())];
  for (size_t c = 0; c < hn::MaxLanes(DF()) / 4; ++c) {
    const int32_t h = static_cast<int32_t>(LoadU16(rows[c] + offset));
    for (size_t k = 0; k < 4; ++k) bits[4 * c + k] = h;
  }
  return HalfBitsToF32(df, hn::Load(di, bits));
}

#endif  // GEMMA_INT8_SIMD

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
