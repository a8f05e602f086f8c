// Per-format decoders of the int8 kernels (included once per Highway target): they turn one
// weight block of kRowsPerVec rows, read straight from the GGUF bytes, into vectors of integer
// codes in the chunk layout of int8_simd-inl.h plus per-row float scales.
//
// Every decoder has
//   kBlockElems, kBlockBytes   the GGUF block geometry
//   kSubBlocks                 32-element sub-blocks per block (1 or 8)
//   kSigned                    codes are signed bytes (Q8_0) rather than unsigned
//   kHalfScales                one integer scale per 16 elements (Q6_K): HalfScales<S>()
//   kMins                      a float min per sub-block (Q4_K, Q5_K): Mins()
//   Offset<Dot>()              the constant subtracted from every code (see Q8Activations)
//   Load(rows, block)          reads the block header of each row
//   Codes<S>(lo, hi)           elements 0-15 and 16-31 of sub-block S, S = 0, 1, ... in order
//   Scale<S>()                 the float factor of sub-block S (per row, in its chunk)
#if defined(GEMMA_KERNELS_INT8_FORMATS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA_KERNELS_INT8_FORMATS_INL_H_
#undef GEMMA_KERNELS_INT8_FORMATS_INL_H_
#else
#define GEMMA_KERNELS_INT8_FORMATS_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "kernels/int8_simd-inl.h"
#include "quant/blocks.h"
#include "hwy/highway.h"

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

// Moves bit kFrom of every byte to bit kTo (other bits are garbage; callers mask).
template <int kFrom, int kTo>
HWY_INLINE VU8 MoveBit(VU8 v) {
  const hn::RepartitionToWide<DU8> du16;
  const auto w = hn::BitCast(du16, v);
  // 16-bit shifts: for kTo - kFrom <= 4 (left) or kFrom - kTo <= 3 (right) the bit that lands
  // on kTo of each byte comes from the same byte.
  if constexpr (kFrom < kTo) return hn::BitCast(DU8(), hn::ShiftLeft<kTo - kFrom>(w));
  else if constexpr (kFrom > kTo) return hn::BitCast(DU8(), hn::ShiftRight<kFrom - kTo>(w));
  else return v;
}

// A vector whose every 128-bit chunk is the 16 bytes `p`.
HWY_INLINE VU8 Dup16(const uint8_t* p) { return hn::LoadDup128(DU8(), p); }
HWY_INLINE VI32 Dup4(const int32_t* p) { return hn::LoadDup128(DI32(), p); }

// Index vector for TableLookupBytesOr0 that puts byte `b` of each chunk into the byte `at` of
// every i32 lane and zeros the rest (0x80 = zero).
template <int b, int at>
HWY_INLINE VU8 SpreadByteIndex() {
  alignas(16) static constexpr uint8_t kIdx[16] = {
      at == 0 ? b : 0x80, at == 1 ? b : 0x80, at == 2 ? b : 0x80, at == 3 ? b : 0x80,
      at == 0 ? b : 0x80, at == 1 ? b : 0x80, at == 2 ? b : 0x80, at == 3 ? b : 0x80,
      at == 0 ? b : 0x80, at == 1 ? b : 0x80, at == 2 ? b : 0x80, at == 3 ? b : 0x80,
      at == 0 ? b : 0x80, at == 1 ? b : 0x80, at == 2 ? b : 0x80, at == 3 ? b : 0x80};
  return Dup16(kIdx);
}

// Unsigned byte `b` of every chunk, as float in all four lanes of the chunk.
template <int b>
HWY_INLINE VF32 ChunkByteToF32(VU8 v) {
  return hn::ConvertTo(DF32(), hn::BitCast(DI32(), hn::TableLookupBytesOr0(v, SpreadByteIndex<b, 0>())));
}

// Signed byte `b` of every chunk, sign-extended to all four i32 lanes of the chunk.
template <int b>
HWY_INLINE VI32 ChunkByteToI32Signed(VU8 v) {
  return hn::ShiftRight<24>(hn::BitCast(DI32(), hn::TableLookupBytesOr0(v, SpreadByteIndex<b, 3>())));
}

// ---- Q4_0 and Q8_0: 32-element blocks with an fp16 scale --------------------------------

struct Q4_0Decoder {
  static constexpr size_t kBlockElems = 32, kBlockBytes = sizeof(BlockQ4_0), kSubBlocks = 1;
  static constexpr bool kSigned = false, kHalfScales = false, kMins = false;
  template <class Dot>
  static constexpr int Offset() { return 8; }

  // User-provided: GCC 12 on aarch64 compiles implicit constructors without Highway's target
  // pragma, and they then cannot inline the NEON vector members' constructors.
  HWY_INLINE Q4_0Decoder() {}
  const uint8_t* const* rows;
  VU8 qs;
  VF32 d;

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    const size_t off = block * kBlockBytes;
    qs = LoadRows(DU8(), rows, off + 2);
    d = LoadRowHalfScales(DF32(), rows, off);
  }
  // Byte j holds element j (low nibble) and j + 16 (high nibble).
  template <size_t S>
  HWY_INLINE void Codes(VU8& lo, VU8& hi) {
    lo = LowNibbles(qs);
    hi = HighNibbles(qs);
  }
  template <size_t S>
  HWY_INLINE VF32 Scale() const { return d; }
};

struct Q8_0Decoder {
  static constexpr size_t kBlockElems = 32, kBlockBytes = sizeof(BlockQ8_0), kSubBlocks = 1;
  static constexpr bool kSigned = true, kHalfScales = false, kMins = false;
  // With VNNI the signed codes are shifted to w + 128 (see Dot::kSignedViaOffset).
  template <class Dot>
  static constexpr int Offset() { return Dot::kSignedViaOffset ? 128 : 0; }

  // User-provided: GCC 12 on aarch64 compiles implicit constructors without Highway's target
  // pragma, and they then cannot inline the NEON vector members' constructors.
  HWY_INLINE Q8_0Decoder() {}
  const uint8_t* const* rows;
  size_t off;
  VF32 d;

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    off = block * kBlockBytes;
    d = LoadRowHalfScales(DF32(), rows, off);
  }
  template <size_t S>
  HWY_INLINE void Codes(VU8& lo, VU8& hi) {
    lo = LoadRows(DU8(), rows, off + 2);
    hi = LoadRows(DU8(), rows, off + 18);
  }
  template <size_t S>
  HWY_INLINE VF32 Scale() const { return d; }
};

// ---- Q4_K and Q5_K: 256-element blocks, 6-bit scale and min per 32 -----------------------

// The 12 packed scale bytes of every row's block (bytes 4-15 of its chunk, after d and dmin),
// unpacked to scales in bytes 0-7 and mins in bytes 8-15 (the rule of UnpackKScales, done on
// 32-bit words w0 w1 w2 = packed bytes 0-3, 4-7, 8-11):
//   scales 0-3 = w0 & 0x3f..   scales 4-7 = (w2 & 0x0f..) | ((w0 >> 2) & 0x30..)
//   mins 0-3   = w1 & 0x3f..   mins 4-7   = ((w2 >> 4) & 0x0f..) | ((w1 >> 2) & 0x30..)
HWY_INLINE VU8 UnpackKScalesVec(VU8 header) {
  const hn::RepartitionToWide<hn::RepartitionToWide<DU8>> du32;
  alignas(16) static constexpr uint8_t kW0W2W1W2[16] = {4, 5, 6, 7, 12, 13, 14, 15,
                                                        8, 9, 10, 11, 12, 13, 14, 15};
  alignas(16) static constexpr uint8_t kW0W0W1W1[16] = {4, 5, 6, 7, 4, 5, 6, 7,
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
  static constexpr int Offset() { return 0; }

  // User-provided: GCC 12 on aarch64 compiles implicit constructors without Highway's target
  // pragma, and they then cannot inline the NEON vector members' constructors.
  HWY_INLINE ScaleMinDecoder() {}
  const uint8_t* const* rows;
  size_t off;
  VF32 d, dmin;
  VU8 scales_mins;
  VU8 q0, q1;    // nibbles of elements 0-15 and 16-31 of the current sub-block pair
  VU8 qh0, qh1;  // high bits of elements 0-15 and 16-31 (Q5_K)

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    off = block * kBlockBytes;
    const VU8 header = LoadRows(DU8(), rows, off);
    const VI32 d_dmin = hn::Broadcast<0>(hn::BitCast(DI32(), header));
    d = HalfBitsToF32(DF32(), hn::And(d_dmin, hn::Set(DI32(), 0xffff)));
    dmin = HalfBitsToF32(
        DF32(), hn::BitCast(DI32(), hn::ShiftRight<16>(hn::BitCast(DU32(), d_dmin))));
    scales_mins = UnpackKScalesVec(header);
    if constexpr (kHighBits) {
      qh0 = LoadRows(DU8(), rows, off + 16);
      qh1 = LoadRows(DU8(), rows, off + 32);
    }
  }
  template <size_t S>
  HWY_INLINE void Codes(VU8& lo, VU8& hi) {
    if constexpr (S % 2 == 0) {
      q0 = LoadRows(DU8(), rows, off + kQsOffset + 32 * (S / 2));
      q1 = LoadRows(DU8(), rows, off + kQsOffset + 32 * (S / 2) + 16);
      lo = LowNibbles(q0);
      hi = LowNibbles(q1);
    } else {
      lo = HighNibbles(q0);
      hi = HighNibbles(q1);
    }
    if constexpr (kHighBits) {
      const VU8 bit4 = hn::Set(DU8(), 0x10);
      lo = hn::Or(lo, hn::And(MoveBit<S, 4>(qh0), bit4));
      hi = hn::Or(hi, hn::And(MoveBit<S, 4>(qh1), bit4));
    }
  }
  template <size_t S>
  HWY_INLINE VF32 Scale() const { return hn::Mul(ChunkByteToF32<S>(scales_mins), d); }
  // dmin * min_j for sub-blocks 0-3 (m0) and 4-7 (m1), one per lane of each row's chunk.
  HWY_INLINE void Mins(VF32& m0, VF32& m1) const {
    alignas(16) static constexpr uint8_t kMins03[16] = {8, 0x80, 0x80, 0x80, 9, 0x80, 0x80, 0x80,
                                                        10, 0x80, 0x80, 0x80, 11, 0x80, 0x80, 0x80};
    alignas(16) static constexpr uint8_t kMins47[16] = {12, 0x80, 0x80, 0x80, 13, 0x80, 0x80, 0x80,
                                                        14, 0x80, 0x80, 0x80, 15, 0x80, 0x80, 0x80};
    m0 = hn::Mul(hn::ConvertTo(DF32(), hn::BitCast(DI32(), hn::TableLookupBytesOr0(scales_mins, Dup16(kMins03)))), dmin);
    m1 = hn::Mul(hn::ConvertTo(DF32(), hn::BitCast(DI32(), hn::TableLookupBytesOr0(scales_mins, Dup16(kMins47)))), dmin);
  }

 private:
  using DU32 = hn::RepartitionToWide<hn::RepartitionToWide<DU8>>;
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
  static constexpr int Offset() { return 32; }

  // User-provided: GCC 12 on aarch64 compiles implicit constructors without Highway's target
  // pragma, and they then cannot inline the NEON vector members' constructors.
  HWY_INLINE Q6_KDecoder() {}
  const uint8_t* const* rows;
  size_t off;
  VF32 d;
  VU8 scales;
  VU8 ql[4];  // ql bytes 0-15, 16-31, 32-47, 48-63 of the current half
  VU8 qh0, qh1;

  HWY_INLINE void Load(const uint8_t* const* row_ptrs, size_t block) {
    rows = row_ptrs;
    off = block * kBlockBytes;
    scales = LoadRows(DU8(), rows, off + 192);
    d = LoadRowHalfScales(DF32(), rows, off + 208);
  }
  template <size_t S>
  HWY_INLINE void Codes(VU8& lo, VU8& hi) {
    constexpr size_t h = S / 4, k = S % 4;
    if constexpr (k == 0) {
      for (size_t i = 0; i < 4; ++i) ql[i] = LoadRows(DU8(), rows, off + 64 * h + 16 * i);
      qh0 = LoadRows(DU8(), rows, off + 128 + 32 * h);
      qh1 = LoadRows(DU8(), rows, off + 128 + 32 * h + 16);
    }
    constexpr size_t i = 2 * (k & 1);
    lo = k < 2 ? LowNibbles(ql[i]) : HighNibbles(ql[i]);
    hi = k < 2 ? LowNibbles(ql[i + 1]) : HighNibbles(ql[i + 1]);
    const VU8 top = hn::Set(DU8(), 0x30);
    lo = hn::Or(lo, hn::And(MoveBit<2 * k, 4>(qh0), top));
    hi = hn::Or(hi, hn::And(MoveBit<2 * k, 4>(qh1), top));
  }
  template <size_t S>
  HWY_INLINE VF32 Scale() const { return d; }
  template <size_t S>
  HWY_INLINE void HalfScales(VI32& lo, VI32& hi) const {
    lo = ChunkByteToI32Signed<2 * S>(scales);
    hi = ChunkByteToI32Signed<2 * S + 1>(scales);
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
