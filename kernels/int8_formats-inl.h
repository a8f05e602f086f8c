// Per-format decoders of the int8 kernels (included once per Highway target): they turn one
// weight block of kRowsPerVec rows, read straight from the GGUF bytes, into vectors of integer
// codes in the chunk layout of int8_simd-inl.h plus per-row float scales.
//
// Every decoder has
//   kBlockElems, kBlockBytes   the GGUF block geometry
//   kSubBlocks                 32-element sub-blocks per block (1 or 8)
//   kSigned                    codes are signed bytes (Q8_0) rather than unsigned
//   kHalfScales                one integer scale per 16 elements (Q6_K): HalfScales(s, lo, hi)
//   kMins                      a float min per sub-block (Q4_K, Q5_K): Mins()
//   Offset<Dot>()              the constant subtracted from every code (see Q8Activations)
//   Load(rows, block)          reads the block header of each row
//   Codes(s, lo, hi)           elements 0-15 and 16-31 of sub-block s, s = 0, 1, ... in order
//   Scale(s)                   the float factor of sub-block s (per row, in its chunk)
// The sub-block index s is a size_t or a std::integral_constant: the single-token tile unrolls
// the sub-blocks (compile-time shifts and table indices), the multi-token tiles loop over them
// (unrolling those 8x made the K-quant translation unit compile 7x longer).
// Structs holding vectors declare their constructor: GCC compiles implicit constructors
// without the target pragma of the Highway region, and then cannot inline the vectors'
// constructors into them (seen on NEON).
#if defined(GEMMA_KERNELS_INT8_FORMATS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA_KERNELS_INT8_FORMATS_INL_H_
#undef GEMMA_KERNELS_INT8_FORMATS_INL_H_
#else
#define GEMMA_KERNELS_INT8_FORMATS_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "hwy/highway.h"
#include "kernels/int8_simd-inl.h"
#include "quant/blocks.h"

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {

#if GEMMA_INT8_SIMD

// ---- helpers -----------------------------------------------------------------------------

HWY_INLINE VU8 LowNibbles(VU8 v) { return hn::And(v, hn::Set(DU8(), 0x0f)); }

HWY_INLINE VU8 HighNibbles(VU8 v) {
  const hn::RepartitionToWide<DU8> du16;
  return hn::And(hn::BitCast(DU8(), hn::ShiftRight<4>(hn::BitCast(du16, v))), hn::Set(DU8(), 0x0f));
}

// The nibble `high` (0 or 1) of every byte.
HWY_INLINE VU8 Nibbles(VU8 v, int high) {
  const hn::RepartitionToWide<DU8> du16;
  return hn::And(hn::BitCast(DU8(), hn::ShiftRightSame(hn::BitCast(du16, v), 4 * high)),
                 hn::Set(DU8(), 0x0f));
}

// Moves bit `from` of every byte to bit 4 (other bits are garbage; callers mask). 16-bit
// shifts: for a left shift <= 4 or a right shift <= 3 the bit landing on bit 4 of each byte
// comes from the same byte.
HWY_INLINE VU8 MoveBitTo4(VU8 v, int from) {
  const hn::RepartitionToWide<DU8> du16;
  const auto w = hn::BitCast(du16, v);
  return hn::BitCast(DU8(), hn::ShiftRightSame(hn::ShiftLeftSame(w, from < 4 ? 4 - from : 0),
                                               from > 4 ? from - 4 : 0));
}

// A vector whose every 128-bit chunk is the 16 bytes `p`.
HWY_INLINE VU8 Dup16(const uint8_t* p) { return hn::LoadDup128(DU8(), p); }
HWY_INLINE VI32 Dup4(const int32_t* p) { return hn::LoadDup128(DI32(), p); }

// Index vector for TableLookupBytesOr0 that puts byte b of each chunk into byte kAt of every
// i32 lane and zeros the others (indices with the top bit set read as zero).
template <int kAt>
HWY_INLINE VU8 SpreadByteIndex(int b) {
  alignas(16) static constexpr uint8_t kZeros[16] = {
      kAt == 0 ? 0 : 0x80, kAt == 1 ? 0 : 0x80, kAt == 2 ? 0 : 0x80, kAt == 3 ? 0 : 0x80,
      kAt == 0 ? 0 : 0x80, kAt == 1 ? 0 : 0x80, kAt == 2 ? 0 : 0x80, kAt == 3 ? 0 : 0x80,
      kAt == 0 ? 0 : 0x80, kAt == 1 ? 0 : 0x80, kAt == 2 ? 0 : 0x80, kAt == 3 ? 0 : 0x80,
      kAt == 0 ? 0 : 0x80, kAt == 1 ? 0 : 0x80, kAt == 2 ? 0 : 0x80, kAt == 3 ? 0 : 0x80};
  return hn::Or(Dup16(kZeros), hn::Set(DU8(), static_cast<uint8_t>(b)));
}

// Unsigned byte b of every chunk, as float in all four lanes of the chunk.
HWY_INLINE VF32 ChunkByteToF32(VU8 v, int b) {
  return hn::ConvertTo(DF32(),
                       hn::BitCast(DI32(), hn::TableLookupBytesOr0(v, SpreadByteIndex<0>(b))));
}

// Signed byte b of every chunk, sign-extended to all four i32 lanes of the chunk.
HWY_INLINE VI32 ChunkByteToI32Signed(VU8 v, int b) {
  return hn::ShiftRight<24>(hn::BitCast(DI32(), hn::TableLookupBytesOr0(v, SpreadByteIndex<3>(b))));
}

// ---- Q4_0 and Q8_0: 32-element blocks with an fp16 scale --------------------------------

struct Q4_0Decoder {
  static constexpr size_t kBlockElems = 32, kBlockBytes = sizeof(BlockQ4_0), kSubBlocks = 1;
  static constexpr bool kSigned = false, kHalfScales = false, kMins = false;
  template <class Dot>
  static constexpr int Offset() {
    return 8;
  }

  const uint8_t* const* rows;
  VU8 qs;
  VF32 d;

  HWY_INLINE Q4_0Decoder() {}  // explicit: see the note on constructors at the top

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    const size_t off = block * kBlockBytes;
    qs = LoadRows(DU8(), rows, off + 2);
    d = ChunkHalfToF32<0>(LoadRows(DU8(), rows, off));
  }
  // Byte j holds element j (low nibble) and j + 16 (high nibble).
  template <class SI>
  HWY_INLINE void Codes(SI /*s*/, VU8& lo, VU8& hi) {
    lo = LowNibbles(qs);
    hi = HighNibbles(qs);
  }
  template <class SI>
  HWY_INLINE VF32 Scale(SI /*s*/) const {
    return d;
  }
};

struct Q8_0Decoder {
  static constexpr size_t kBlockElems = 32, kBlockBytes = sizeof(BlockQ8_0), kSubBlocks = 1;
  static constexpr bool kSigned = true, kHalfScales = false, kMins = false;
  // With VNNI the signed codes are shifted to w + 128 (see Dot::kSignedViaOffset).
  template <class Dot>
  static constexpr int Offset() {
    return Dot::kSignedViaOffset ? 128 : 0;
  }

  const uint8_t* const* rows;
  size_t off;
  VF32 d;

  HWY_INLINE Q8_0Decoder() {}

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    off = block * kBlockBytes;
    d = ChunkHalfToF32<0>(LoadRows(DU8(), rows, off));
  }
  template <class SI>
  HWY_INLINE void Codes(SI /*s*/, VU8& lo, VU8& hi) {
    lo = LoadRows(DU8(), rows, off + 2);
    hi = LoadRows(DU8(), rows, off + 18);
  }
  template <class SI>
  HWY_INLINE VF32 Scale(SI /*s*/) const {
    return d;
  }
};

// ---- Q4_K and Q5_K: 256-element blocks, 6-bit scale and min per 32 -----------------------

// The 12 packed scale bytes of every row's block (bytes 4-15 of its chunk, after d and dmin),
// unpacked to scales in bytes 0-7 and mins in bytes 8-15 (the rule of UnpackKScales, done on
// 32-bit words w0 w1 w2 = packed bytes 0-3, 4-7, 8-11):
//   scales 0-3 = w0 & 0x3f..   scales 4-7 = (w2 & 0x0f..) | ((w0 >> 2) & 0x30..)
//   mins 0-3   = w1 & 0x3f..   mins 4-7   = ((w2 >> 4) & 0x0f..) | ((w1 >> 2) & 0x30..)
HWY_INLINE VU8 UnpackKScalesVec(VU8 header) {
  const hn::RepartitionToWide<hn::RepartitionToWide<DU8>> du32;
  alignas(16) static constexpr uint8_t kW0W2W1W2[16] = {4, 5, 6,  7,  12, 13, 14, 15,
                                                        8, 9, 10, 11, 12, 13, 14, 15};
  alignas(16) static constexpr uint8_t kW0W0W1W1[16] = {4, 5, 6,  7,  4, 5, 6,  7,
                                                        8, 9, 10, 11, 8, 9, 10, 11};
  alignas(16) static constexpr uint32_t kLowMask[4] = {0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0};
  alignas(16) static constexpr uint32_t kShiftedMask[4] = {0, 0, 0, 0x0f0f0f0f};
  alignas(16) static constexpr uint32_t kTopMask[4] = {0, 0x30303030, 0, 0x30303030};
  const auto p = hn::BitCast(du32, hn::TableLookupBytes(header, Dup16(kW0W2W1W2)));
  const auto q = hn::BitCast(du32, hn::TableLookupBytes(header, Dup16(kW0W0W1W1)));
  const auto low = hn::Or(hn::And(p, hn::LoadDup128(du32, kLowMask)),
                          hn::And(hn::ShiftRight<4>(p), hn::LoadDup128(du32, kShiftedMask)));
  const auto top = hn::And(hn::ShiftRight<2>(q), hn::LoadDup128(du32, kTopMask));
  return hn::BitCast(DU8(), hn::Or(low, top));
}

// Shared by Q4_K (kHighBits false) and Q5_K: header d, dmin, scales at 0..15; Q5_K's qh (32
// bytes, bit j of qh[l] is bit 4 of element 32j + l) at 16; nibbles at kQsOffset. Nibble bytes
// 32k + l hold element l of sub-block 2k (low) and of sub-block 2k + 1 (high).
template <size_t kBytes, size_t kQsOffset, bool kHighBits>
struct ScaleMinDecoder {
  static constexpr size_t kBlockElems = 256, kBlockBytes = kBytes, kSubBlocks = 8;
  static constexpr bool kSigned = false, kHalfScales = false, kMins = true;
  template <class Dot>
  static constexpr int Offset() {
    return 0;
  }

  const uint8_t* const* rows;
  size_t off;
  VF32 d, dmin;
  VU8 scales_mins;
  VU8 q0, q1;    // nibbles of elements 0-15 and 16-31 of the current sub-block pair
  VU8 qh0, qh1;  // high bits of elements 0-15 and 16-31 (Q5_K)

  HWY_INLINE ScaleMinDecoder() {}

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    off = block * kBlockBytes;
    const VU8 header = LoadRows(DU8(), rows, off);
    d = ChunkHalfToF32<0>(header);
    dmin = ChunkHalfToF32<1>(header);
    scales_mins = UnpackKScalesVec(header);
    if constexpr (kHighBits) {
      qh0 = LoadRows(DU8(), rows, off + 16);
      qh1 = LoadRows(DU8(), rows, off + 32);
    }
  }
  template <class SI>
  HWY_INLINE void Codes(SI s_index, VU8& lo, VU8& hi) {
    const size_t s = s_index;
    if (s % 2 == 0) {
      q0 = LoadRows(DU8(), rows, off + kQsOffset + 32 * (s / 2));
      q1 = LoadRows(DU8(), rows, off + kQsOffset + 32 * (s / 2) + 16);
    }
    lo = Nibbles(q0, static_cast<int>(s % 2));
    hi = Nibbles(q1, static_cast<int>(s % 2));
    if constexpr (kHighBits) {
      const VU8 bit4 = hn::Set(DU8(), 0x10);
      lo = hn::Or(lo, hn::And(MoveBitTo4(qh0, static_cast<int>(s)), bit4));
      hi = hn::Or(hi, hn::And(MoveBitTo4(qh1, static_cast<int>(s)), bit4));
    }
  }
  template <class SI>
  HWY_INLINE VF32 Scale(SI s) const {
    return hn::Mul(ChunkByteToF32(scales_mins, static_cast<int>(s)), d);
  }
  // dmin * min_j for sub-blocks 0-3 (m0) and 4-7 (m1), one per lane of each row's chunk.
  HWY_INLINE void Mins(VF32& m0, VF32& m1) const {
    alignas(16) static constexpr uint8_t kMins03[16] = {8,  0x80, 0x80, 0x80, 9,  0x80, 0x80, 0x80,
                                                        10, 0x80, 0x80, 0x80, 11, 0x80, 0x80, 0x80};
    alignas(16) static constexpr uint8_t kMins47[16] = {12, 0x80, 0x80, 0x80, 13, 0x80, 0x80, 0x80,
                                                        14, 0x80, 0x80, 0x80, 15, 0x80, 0x80, 0x80};
    m0 = hn::Mul(hn::ConvertTo(DF32(), hn::BitCast(DI32(), hn::TableLookupBytesOr0(
                                                               scales_mins, Dup16(kMins03)))),
                 dmin);
    m1 = hn::Mul(hn::ConvertTo(DF32(), hn::BitCast(DI32(), hn::TableLookupBytesOr0(
                                                               scales_mins, Dup16(kMins47)))),
                 dmin);
  }
};

using Q4_KDecoder = ScaleMinDecoder<sizeof(BlockQ4_K), 16, false>;
using Q5_KDecoder = ScaleMinDecoder<sizeof(BlockQ5_K), 48, true>;

// ---- Q6_K: 256-element blocks, int8 scale per 16, codes 0..63 -----------------------------

// ql at 0 (128 bytes), qh at 128 (64), scales at 192 (16), d at 208. In each 128-element half
// h, sub-block k (0-3) takes its low 4 bits from ql bytes 64h + 32(k&1) + l (low nibble for
// k < 2, high for k >= 2) and its top 2 bits from bits 2k, 2k+1 of qh byte 32h + l.
struct Q6_KDecoder {
  static constexpr size_t kBlockElems = 256, kBlockBytes = sizeof(BlockQ6_K), kSubBlocks = 8;
  static constexpr bool kSigned = false, kHalfScales = true, kMins = false;
  template <class Dot>
  static constexpr int Offset() {
    return 32;
  }

  const uint8_t* const* rows;
  size_t off;
  VF32 d;
  VU8 scales;
  VU8 ql[4];  // ql bytes 0-15, 16-31, 32-47, 48-63 of the current half
  VU8 qh0, qh1;

  HWY_INLINE Q6_KDecoder() {}

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    off = block * kBlockBytes;
    scales = LoadRows(DU8(), rows, off + 192);
    d = ChunkHalfToF32<7>(LoadRows(DU8(), rows, off + 194));  // 16 bytes ending with d
  }
  template <class SI>
  HWY_INLINE void Codes(SI s_index, VU8& lo, VU8& hi) {
    const size_t s = s_index;
    const size_t h = s / 4, k = s % 4;
    if (k == 0) {
      for (size_t i = 0; i < 4; ++i) ql[i] = LoadRows(DU8(), rows, off + 64 * h + 16 * i);
      qh0 = LoadRows(DU8(), rows, off + 128 + 32 * h);
      qh1 = LoadRows(DU8(), rows, off + 128 + 32 * h + 16);
    }
    const size_t i = 2 * (k & 1);
    const int high = k < 2 ? 0 : 1;
    const VU8 top = hn::Set(DU8(), 0x30);
    lo = hn::Or(Nibbles(ql[i], high), hn::And(MoveBitTo4(qh0, static_cast<int>(2 * k)), top));
    hi = hn::Or(Nibbles(ql[i + 1], high), hn::And(MoveBitTo4(qh1, static_cast<int>(2 * k)), top));
  }
  template <class SI>
  HWY_INLINE VF32 Scale(SI /*s*/) const {
    return d;
  }
  template <class SI>
  HWY_INLINE void HalfScales(SI s, VI32& lo, VI32& hi) const {
    lo = ChunkByteToI32Signed(scales, static_cast<int>(2 * s));
    hi = ChunkByteToI32Signed(scales, static_cast<int>(2 * s + 1));
  }
};

#else  // !GEMMA_INT8_SIMD: names only, the scalar twin reads w.type instead.

struct Q4_0Decoder {};
struct Q8_0Decoder {};
struct Q4_KDecoder {};
struct Q5_KDecoder {};
struct Q6_KDecoder {};

#endif  // GEMMA_INT8_SIMD

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#endif  // include guard
