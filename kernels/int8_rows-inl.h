// One-token (decode) matrix-vector kernels that read one weight row at a time, called by RowsQ8
// in int8_matmul-inl.h. Rows are read one after another, a single sequential stream: reading 8
// rows side by side (8 short streams) ran at 9.6 GB/s on E2B's 1536-column rows against 18.1
// one row at a time, and even 2 rows side by side halved the speed from memory on this
// project's Zen 4 machine (bench/kernel_bench, one thread).
//   x86 with AVX2 (and AVX-512): DecodeQ4_0Row256, DecodeQ8_0Row256, DecodeQ6_KRow256, and
//     DecodeQ4_KRow256 where the next one is not compiled, on 256-bit vectors
//   AVX3_DL (GCC, GEMMA_INT8_VNNI): DecodeQ4_KRow on 512-bit vectors (vpdpbusd)
// Each meets the row with activations laid out once per call.
#if defined(GEMMA_KERNELS_INT8_ROWS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA_KERNELS_INT8_ROWS_INL_H_
#undef GEMMA_KERNELS_INT8_ROWS_INL_H_
#else
#define GEMMA_KERNELS_INT8_ROWS_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hwy/highway.h"
#include "kernels/aligned_buffer.h"
#include "kernels/int8_simd-inl.h"
#include "kernels/matrix.h"
#include "kernels/q8_act.h"

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
// Software prefetch for the one-row decoders, on short rows only. Each step requests the cache
// lines that start in [p + kPrefetchAhead, + bytes): every line of the row stream once, 4 KiB
// ahead. bench/kernel_bench, one thread, best of 3 interleaved runs: on E2B's 1536-column rows
// (864-1632 bytes) it lifted every decoder by 10-20% (measured on the 512-bit decoders: Q4_0
// 17.4 -> 20.1 GB/s, Q4_K 17.9 -> 20.9, Q6_K 17.9 -> 19.5, Q8_0 20.4 -> 23.1); on 6144-column
// rows (3456+ bytes), which the hardware prefetcher streams well on its own, it cost 10-15%,
// hence the row length limit.
constexpr size_t kPrefetchAhead = 4096;
constexpr size_t kPrefetchMaxRowBytes = 2048;
HWY_INLINE void PrefetchAhead(const uint8_t* p, size_t bytes) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p) + kPrefetchAhead;
  for (uintptr_t line = (a + 63) / 64; line * 64 < a + bytes; ++line) {
    __builtin_prefetch(reinterpret_cast<const void*>(line * 64));
  }
}

#endif

#if GEMMA_INT8_VNNI
// Decode (one token) of Q4_K on AVX3_DL, one row at a time. A
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
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), mins = _mm512_setzero_ps();
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = row + 144 * b;
      if (prefetch) PrefetchAhead(blk, 144);
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

#endif  // GEMMA_INT8_VNNI

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
// Decode (one token) on 256-bit vectors, for every x86 target from AVX2 up. u8 x s8 products go
// through vpmaddubsw + vpmaddwd. On this project's Zen 4 machine the Q4_0, Q8_0 and Q6_K ones
// beat the 512-bit decoders they replaced (bench/kernel_bench, one thread, best of 3
// interleaved runs, E2B shapes: Q4_0 19.4-21.5 -> 21.3-22.9 GB/s, Q8_0 18.8-23.0 -> 26-27,
// Q6_K 18.4-18.7 -> 20.9-21.7 on 1536-column rows): those spent their time in byte permutes
// (gathering codes from unaligned blocks, or scales into lanes), which these need fewer of. For
// Q4_K the 512-bit VNNI decoder stays where it is compiled (it was as fast or faster). On the
// AVX2 target they replace the 8-row chunk tile (Q4_0 10.4 -> 21.4 GB/s, Q8_0 14 -> 26, Q4_K
// 4.3-5.5 -> 11-13, Q6_K 3.2-3.9 -> 9.5-9.9 measured while another build ran, so about half
// the quiet figures).

// v, hidden from the optimiser. clang fuses add(vpmaddwd(a, b), c) into vpdpwssd, and on the
// AVX3_DL target it picks the VEX (AVX-VNNI) encoding for 256-bit vectors, which AVX-512 CPUs
// such as Zen 4 lack: SIGILL (found by the clang fuzz build). Used on every such sum.
HWY_INLINE __m256i Opaque256(__m256i v) {
  __asm__("" : "+x"(v));
  return v;
}

// Lane i: u[4i] * s[4i] + ... + u[4i + 3] * s[4i + 3], exact while no pair exceeds 32767.
HWY_INLINE __m256i Dot256Lanes(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

HWY_INLINE float Sum256(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// Q4_0, two blocks (36 bytes) per step: the 16 nibble bytes of blocks b and b + 1 side by side.
// Low nibbles (elements 0-15 of each block) and high nibbles (16-31) meet activations laid out
// to match, once per call; their int16 pair sums (each at most 2 * 15 * 127) are added before
// one vpmaddwd, which starts from -8 * (sum of the activations behind each lane) for the codes'
// offset of 8.
struct alignas(32) Q4_0Row256Step {
  __m256i a_lo, a_hi;  // elements 0-15 / 16-31 of blocks b (low 128 bits) and b + 1 (high)
  __m256i bias;        // -8 * (sum of the eight activations behind lane i)
  __m256 scale;        // d_a of block b in lanes 0-3, of block b + 1 in lanes 4-7
};

HWY_INLINE __m256 Q4_0Row256StepDot(const uint8_t* blk, const Q4_0Row256Step& st, __m256 acc) {
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i qs = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 20)), 1);
  const __m256i lo = _mm256_and_si256(qs, nibble);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qs, 4), nibble);
  const __m256i pairs =
      _mm256_add_epi16(_mm256_maddubs_epi16(lo, st.a_lo), _mm256_maddubs_epi16(hi, st.a_hi));
  const __m256i isum =
      _mm256_add_epi32(Opaque256(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1))), st.bias);
  uint16_t d0, d1;
  std::memcpy(&d0, blk, 2);
  std::memcpy(&d1, blk + 18, 2);
  const __m128 d01 =
      _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d0 | (uint32_t{d1} << 16))));
  const __m256 d = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d01),
                                            _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, st.scale), acc);
}

// Needs w.cols % 64 == 0.
HWY_INLINE void DecodeQ4_0Row256(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                                 size_t t, float* y) {
  const size_t n_steps = static_cast<size_t>(w.cols) / 64;
  const int8_t* q = act.Q(t);
  const float* da = act.Scale(t);
  thread_local AlignedBuffer<Q4_0Row256Step> steps;
  steps.Resize(n_steps);
  const __m256i eight = _mm256_set1_epi8(8);
  for (size_t g = 0; g < n_steps; ++g) {
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * g));
    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * g + 32));
    steps[g].a_lo = _mm256_permute2x128_si256(x0, x1, 0x20);
    steps[g].a_hi = _mm256_permute2x128_si256(x0, x1, 0x31);
    const __m256i sums = _mm256_add_epi16(_mm256_maddubs_epi16(eight, steps[g].a_lo),
                                          _mm256_maddubs_epi16(eight, steps[g].a_hi));
    steps[g].bias = _mm256_sub_epi32(_mm256_setzero_si256(),
                                     Opaque256(_mm256_madd_epi16(sums, _mm256_set1_epi16(1))));
    steps[g].scale = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(da[2 * g])),
                                          _mm_set1_ps(da[2 * g + 1]), 1);
  }
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();  // two FMA chains
    size_t g = 0;
    for (; g + 2 <= n_steps; g += 2) {
      if (prefetch) PrefetchAhead(row + 36 * g, 72);
      acc0 = Q4_0Row256StepDot(row + 36 * g, steps[g], acc0);
      acc1 = Q4_0Row256StepDot(row + 36 * g + 36, steps[g + 1], acc1);
    }
    if (g < n_steps) acc0 = Q4_0Row256StepDot(row + 36 * g, steps[g], acc0);
    y[r - r0] = Sum256(_mm256_add_ps(acc0, acc1));
  }
}

// Q8_0, one block (34 bytes) per step: its 32 signed codes meet 32 activations as
// |w| x sign(a, w) (codes are within +-127, so no pair saturates).
HWY_INLINE __m256 Q8_0Row256StepDot(const uint8_t* blk, const int8_t* a, float da, __m256 acc) {
  const __m256i codes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
  const __m256i acts = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i isum = Dot256Lanes(_mm256_abs_epi8(codes), _mm256_sign_epi8(acts, codes));
  uint16_t d_bits;
  std::memcpy(&d_bits, blk, 2);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(_cvtsh_ss(d_bits) * da), acc);
}

HWY_INLINE void DecodeQ8_0Row256(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                                 size_t t, float* y) {
  const size_t blocks = static_cast<size_t>(w.cols) / 32;
  const int8_t* q = act.Q(t);
  const float* da = act.Scale(t);
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
      if (prefetch) PrefetchAhead(row + 34 * b, 68);
      acc0 = Q8_0Row256StepDot(row + 34 * b, q + 32 * b, da[b], acc0);
      acc1 = Q8_0Row256StepDot(row + 34 * b + 34, q + 32 * b + 32, da[b + 1], acc1);
    }
    if (b < blocks) acc0 = Q8_0Row256StepDot(row + 34 * b, q + 32 * b, da[b], acc0);
    y[r - r0] = Sum256(_mm256_add_ps(acc0, acc1));
  }
}
// Q6_K, one 32-element chunk per step. A 256-element block is 210 bytes: ql (128: low 4 bits),
// qh (64: top 2 bits), 16 int8 scales (one per 16 elements), d (fp16). In half h of a block
// (128 elements), ql[64h + l] holds elements l (low nibble) and l + 64 (high) of the half,
// ql[64h + 32 + l] elements l + 32 and l + 96, and bits 0-1, 2-3, 4-5, 6-7 of qh[32h + l] top
// elements l, l + 32, l + 64, l + 96. So three 32-byte loads give the codes (0-63) of four
// chunks. Each chunk's u8 x s8 pair sums, minus 32 * (sum of the pair's activations) for the
// codes' offset of 32 (laid out once per call), meet the chunk's two scales in vpmaddwd: lanes
// 0-3 take elements 0-15 (scale 2k), lanes 4-7 elements 16-31 (scale 2k + 1). Every int16 stays
// within 2 * 63 * 127 + 32 * 254 = 24130.
HWY_INLINE __m256 Q6_KRow256ChunkDot(__m256i codes, const int8_t* a, const int16_t* offset,
                                     __m128i scales16, __m128i scale_idx, __m256 factors,
                                     __m256i lane, __m256 acc) {
  const __m256i pairs = _mm256_sub_epi16(
      _mm256_maddubs_epi16(codes, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a))),
      _mm256_load_si256(reinterpret_cast<const __m256i*>(offset)));
  const __m256i scale = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales16, scale_idx));
  const __m256i isum = _mm256_madd_epi16(pairs, scale);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_permutevar8x32_ps(factors, lane), acc);
}

HWY_INLINE void DecodeQ6_KRow256(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                                 size_t t, float* y) {
  const size_t blocks = static_cast<size_t>(w.cols) / 256;
  const int8_t* q = act.Q(t);
  const float* da = act.Scale(t);
  // offsets[c]: 32 * (a[2j] + a[2j + 1]) of chunk c, as int16 pair lanes.
  thread_local AlignedBuffer<int16_t> offsets;
  offsets.Resize(16 * 8 * blocks);
  for (size_t c = 0; c < 8 * blocks; ++c) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * c));
    _mm256_store_si256(reinterpret_cast<__m256i*>(offsets.data() + 16 * c),
                       _mm256_maddubs_epi16(_mm256_set1_epi8(32), a));
  }
  const __m256i low4 = _mm256_set1_epi8(0x0f), top2 = _mm256_set1_epi8(0x30);
  __m128i scale_idx[8];  // chunk k: byte 2k into bytes 0-7, byte 2k + 1 into bytes 8-15
  __m256i lane[8];
  for (int k = 0; k < 8; ++k) {
    scale_idx[k] = _mm_unpacklo_epi64(_mm_set1_epi8(static_cast<char>(2 * k)),
                                      _mm_set1_epi8(static_cast<char>(2 * k + 1)));
    lane[k] = _mm256_set1_epi32(k);
  }
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = row + 210 * b;
      if (prefetch) PrefetchAhead(blk, 210);
      uint16_t d_bits;
      std::memcpy(&d_bits, blk + 208, 2);
      const __m256 factors = _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(d_bits)),
                                           _mm256_loadu_ps(da + 8 * b));
      const __m128i scales16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192));
      const int8_t* ab = q + 256 * b;
      const int16_t* ob = offsets.data() + 16 * 8 * b;
      for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h));
        const __m256i ql1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h + 32));
        const __m256i qh =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
        // 16-bit shifts: the bits that cross into a neighbouring byte are masked off.
        const __m256i c0 = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                                           _mm256_and_si256(_mm256_slli_epi16(qh, 4), top2));
        const __m256i c1 = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                           _mm256_and_si256(_mm256_slli_epi16(qh, 2), top2));
        const __m256i c2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                           _mm256_and_si256(qh, top2));
        const __m256i c3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                           _mm256_and_si256(_mm256_srli_epi16(qh, 2), top2));
        const int k = 4 * h;
        acc0 = Q6_KRow256ChunkDot(c0, ab + 32 * k, ob + 16 * k, scales16, scale_idx[k], factors,
                                  lane[k], acc0);
        acc1 = Q6_KRow256ChunkDot(c1, ab + 32 * (k + 1), ob + 16 * (k + 1), scales16,
                                  scale_idx[k + 1], factors, lane[k + 1], acc1);
        acc0 = Q6_KRow256ChunkDot(c2, ab + 32 * (k + 2), ob + 16 * (k + 2), scales16,
                                  scale_idx[k + 2], factors, lane[k + 2], acc0);
        acc1 = Q6_KRow256ChunkDot(c3, ab + 32 * (k + 3), ob + 16 * (k + 3), scales16,
                                  scale_idx[k + 3], factors, lane[k + 3], acc1);
      }
    }
    y[r - r0] = Sum256(_mm256_add_ps(acc0, acc1));
  }
}
// Q4_K, one 32-element sub-block per step. A 256-element block is 144 bytes: d, dmin (fp16),
// 12 bytes of 6-bit sub-block scales and mins, 128 nibble bytes; nibble byte 32k + l holds
// element l of sub-block 2k (low) and of 2k + 1 (high), so one 32-byte load gives the codes of
// two sub-blocks. Per block, d * scale_s * d_a,s for the eight sub-blocks come from one vector
// product, and the mins term dmin * min_s * d_a,s * sum(q_a,s) is one multiply-add, subtracted
// at the end of the row.
HWY_INLINE __m256 Q4_KRow256SubBlockDot(__m256i codes, const int8_t* a, __m256 factors,
                                        __m256i lane, __m256 acc) {
  const __m256i isum =
      Dot256Lanes(codes, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_permutevar8x32_ps(factors, lane), acc);
}

HWY_INLINE void DecodeQ4_KRow256(const Matrix& w, const Q8Activations& act, size_t r0, size_t r1,
                                 size_t t, float* y) {
  const size_t blocks = static_cast<size_t>(w.cols) / 256;
  const int8_t* q = act.Q(t);
  const float* da = act.Scale(t);
  const float* dsum = act.Sum(t);  // d_a * sum(q_a) per sub-block
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  __m256i lane[8];
  for (int k = 0; k < 8; ++k) lane[k] = _mm256_set1_epi32(k);
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = row + 144 * b;
      if (prefetch) PrefetchAhead(blk, 144);
      uint16_t d_bits, dmin_bits;
      uint32_t u0, u1, u2;
      std::memcpy(&d_bits, blk, 2);
      std::memcpy(&dmin_bits, blk + 2, 2);
      std::memcpy(&u0, blk + 4, 4);
      std::memcpy(&u1, blk + 8, 4);
      std::memcpy(&u2, blk + 12, 4);
      // Scales 0-3, 4-7 and mins 0-3, 4-7 as bytes (quant/kquants.cc UnpackKScales, per word).
      const uint32_t sc_lo = u0 & 0x3f3f3f3fu, min_lo = u1 & 0x3f3f3f3fu;
      const uint32_t sc_hi = (u2 & 0x0f0f0f0fu) | ((u0 >> 2) & 0x30303030u);
      const uint32_t min_hi = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 2) & 0x30303030u);
      const __m128i sc_min = _mm_set_epi32(static_cast<int>(min_hi), static_cast<int>(min_lo),
                                           static_cast<int>(sc_hi), static_cast<int>(sc_lo));
      const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sc_min));
      const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sc_min, 8)));
      const __m256 factors = _mm256_mul_ps(_mm256_mul_ps(sc, _mm256_set1_ps(_cvtsh_ss(d_bits))),
                                           _mm256_loadu_ps(da + 8 * b));
      mins = _mm256_fmadd_ps(_mm256_mul_ps(mn, _mm256_set1_ps(_cvtsh_ss(dmin_bits))),
                             _mm256_loadu_ps(dsum + 8 * b), mins);
      const int8_t* ab = q + 256 * b;
      for (int k = 0; k < 4; ++k) {
        const __m256i v =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * k));
        const __m256i lo = _mm256_and_si256(v, nibble);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
        acc0 = Q4_KRow256SubBlockDot(lo, ab + 64 * k, factors, lane[2 * k], acc0);
        acc1 = Q4_KRow256SubBlockDot(hi, ab + 64 * k + 32, factors, lane[2 * k + 1], acc1);
      }
    }
    y[r - r0] = Sum256(_mm256_sub_ps(_mm256_add_ps(acc0, acc1), mins));
  }
}
#endif  // HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
