// Byte layouts of the GGUF block formats gemma-run computes with. These structs are read
// straight out of the memory-mapped file, so their sizes are part of the file format.
#pragma once

#include <cstdint>

namespace gemma {

constexpr int kQK = 32;    // elements per Q4_0 / Q8_0 block
constexpr int kQK_K = 256; // elements per K-quant super-block
constexpr int kKScaleBytes = 12;

// Q8_0: fp16 scale d, 32 signed bytes; x = d * q.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// Q4_0: fp16 scale d, 32 nibbles; byte j holds element j (low nibble) and j+16 (high nibble);
// x = d * (nibble - 8).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// Q4_K: super-block of 256 = 8 sub-blocks of 32. fp16 d and dmin; 6-bit scale and min per
// sub-block packed in 12 bytes; 128 bytes of nibbles. x = d*sc*q - dmin*m.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};

// Q5_K: as Q4_K plus one high bit per element (qh).
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// Q6_K: 16 sub-blocks of 16; low 4 bits in ql, high 2 bits in qh, int8 scale per sub-block,
// fp16 d. x = d * scale * (q - 32).
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

}  // namespace gemma
