// One-token (decode) matrix-vector kernels for AVX3_DL that read one weight row at a time:
// DecodeQ4_0Vbmi, DecodeQ8_0Row, DecodeQ4_KRow and DecodeQ6_KRow, called by RowsQ8 in
// int8_matmul-inl.h. Each fills a 512-bit vector from one row (VBMI byte permutes or whole
// 64-byte loads) and meets it with activations laid out once per call; rows are read one after
// another, a single sequential stream. Compiled only where GEMMA_INT8_VNNI (GCC, AVX3_DL).
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

#if GEMMA_INT8_VNNI
// Software prefetch for the one-row decoders, on short rows only. Each step requests the cache
// lines that start in [p + kPrefetchAhead, + bytes): every line of the row stream once, 4 KiB
// ahead. bench/kernel_bench, one thread, best of 3 interleaved runs: on E2B's 1536-column rows
// (864-1632 bytes) it lifts every decoder by 10-20% (Q4_0 17.4 -> 20.1 GB/s, Q4_K 17.9 -> 20.9,
// Q6_K 17.9 -> 19.5, Q8_0 20.4 -> 23.1); on 6144-column rows (3456+ bytes), which the hardware
// prefetcher streams well on its own, it cost 10-15%, hence the row length limit.
constexpr size_t kPrefetchAhead = 4096;
constexpr size_t kPrefetchMaxRowBytes = 2048;
HWY_INLINE void PrefetchAhead(const uint8_t* p, size_t bytes) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p) + kPrefetchAhead;
  for (uintptr_t line = (a + 63) / 64; line * 64 < a + bytes; ++line) {
    __builtin_prefetch(reinterpret_cast<const void*>(line * 64));
  }
}

// Decode (one token) of Q4_0 on AVX3_DL: one row at a time, four blocks (72 bytes) per step.
// Rows are read one after another, a single sequential stream that the hardware prefetcher
// follows (with the software prefetch above on short rows). (Reading 8 rows side by side, 8
// short streams, ran at 9.6 GB/s on E2B's 1536-column rows against 18.1 one row at a time:
// bench/kernel_bench, one thread.)
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
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();  // two FMA chains
    size_t g = 0;
    for (; g + 2 <= groups; g += 2) {
      if (prefetch) PrefetchAhead(row + 72 * g, 144);
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
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = row + 210 * b;
      if (prefetch) PrefetchAhead(blk, 210);
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
  const bool prefetch = w.row_bytes <= kPrefetchMaxRowBytes;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.Row(static_cast<int64_t>(r));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t g = 0;
    for (; g + 2 <= steps_n; g += 2) {
      if (prefetch) PrefetchAhead(row + 68 * g, 136);
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

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
