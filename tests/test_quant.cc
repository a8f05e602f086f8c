// Scalar reference formats: F16/BF16 conversions bit-exact, Q8_0/Q4_0 round trips and layouts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/q8_activations.h"
#include "quant/quantize.h"
#include "quant/types.h"

using namespace gemma;

// The compiler's own IEEE binary16 type, the independent check of F32ToF16. GCC 12 has no
// _Float16 in C++ on aarch64; __fp16 is the same IEEE format there (converts with fcvt, RNE).
#if defined(__aarch64__)
using CompilerHalf = __fp16;
#else
using CompilerHalf = _Float16;
#endif

TEST_CASE("F16 conversion round-trips every half value", "[quant]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      REQUIRE(std::isnan(F16ToF32(F32ToF16(f))));
      continue;
    }
    REQUIRE(F32ToF16(f) == h);
  }
}

TEST_CASE("F16 conversion rounds to nearest even", "[quant]") {
  // 1 + 2^-11 lies exactly between 1 and the next half (1 + 2^-10): ties go to even (1).
  CHECK(F32ToF16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
  CHECK(F32ToF16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // tie, rounds up to even
  CHECK(F32ToF16(65504.0f) == 0x7bff);
  CHECK(F32ToF16(65519.0f) == 0x7bff);
  CHECK(F32ToF16(65520.0f) == 0x7c00);  // overflows to inf
  CHECK(F32ToF16(std::ldexp(1.0f, -24)) == 0x0001);          // smallest subnormal
  CHECK(F32ToF16(std::ldexp(1.0f, -25)) == 0x0000);          // tie to even (0)
  CHECK(F32ToF16(std::ldexp(3.0f, -25)) == 0x0002);          // tie to even (2)
  CHECK(F32ToF16(-2.0f) == 0xc000);
  // Compare with the compiler's conversion on random floats.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-70000.0f, 70000.0f);
  for (int i = 0; i < 100000; ++i) {
    const float f = dist(rng) * std::ldexp(1.0f, -static_cast<int>(rng() % 30));
    const CompilerHalf h = static_cast<CompilerHalf>(f);
    uint16_t bits;
    std::memcpy(&bits, &h, 2);
    REQUIRE(F32ToF16(f) == bits);
  }
}

TEST_CASE("BF16 conversion rounds to nearest even", "[quant]") {
  CHECK(F32ToBF16(1.0f) == 0x3f80);
  CHECK(BF16ToF32(0x3f80) == 1.0f);
  // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: rounds to even (1.0).
  CHECK(F32ToBF16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
  CHECK(F32ToBF16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
  CHECK(std::isnan(BF16ToF32(F32ToBF16(std::nanf("")))));
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = BF16ToF32(static_cast<uint16_t>(b));
    if (!std::isnan(f)) REQUIRE(F32ToBF16(f) == b);
  }
}

TEST_CASE("type table matches the GGUF block geometry", "[quant]") {
  CHECK(RowBytes(GgmlType::Q4_0, 64) == 36);
  CHECK(RowBytes(GgmlType::Q8_0, 64) == 68);
  CHECK(RowBytes(GgmlType::F16, 10) == 20);
  CHECK(RowBytes(GgmlType::Q4_K, 512) == 288);
  CHECK(RowBytes(GgmlType::Q6_K, 256) == 210);
  CHECK(ParseTypeName("q4_0") == GgmlType::Q4_0);
  CHECK(ParseTypeName("bf16") == GgmlType::BF16);
  CHECK_FALSE(ParseTypeName("q4_9").has_value());
  CHECK_FALSE(LookupType(4).has_value());   // id 4 (old Q4_2) no longer exists
  CHECK_FALSE(LookupType(1000).has_value());
  CHECK(LookupType(30)->name == "BF16");
}

TEST_CASE("Q8_0 encodes ggml's layout and decodes within half a step", "[quant]") {
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(256), y(256);
  for (float& v : x) v = dist(rng);
  std::vector<uint8_t> q(RowBytes(GgmlType::Q8_0, 256));
  QuantizeRow(GgmlType::Q8_0, x.data(), 256, q.data());
  DequantizeRow(GgmlType::Q8_0, q.data(), 256, y.data());
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(q.data());
  for (int b = 0; b < 8; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = F16ToF32(blocks[b].d);
    CHECK(d == F16ToF32(F32ToF16(amax / 127.0f)));
    for (int j = 0; j < 32; ++j) {
      // The element of largest magnitude maps to +-127.
      if (std::fabs(x[b * 32 + j]) == amax) CHECK(std::abs(blocks[b].qs[j]) == 127);
      // Half a step of the exact scale, plus the scale's own fp16 rounding times |q| <= 127.
      const float exact = amax / 127.0f;
      CHECK(std::fabs(y[b * 32 + j] - x[b * 32 + j]) <=
            0.5f * exact + 127.0f * std::fabs(d - exact) + 1e-6f);
    }
  }
}

TEST_CASE("Q4_0 encodes ggml's nibble layout", "[quant]") {
  // Block: values chosen so the quants are known: d = max/-8 with max = -8 -> d = 1.
  std::vector<float> x(32);
  x[0] = -8.0f;  // largest magnitude, maps to nibble 0
  for (int j = 1; j < 32; ++j) x[j] = static_cast<float>((j % 16) - 8);
  std::vector<uint8_t> q(18);
  QuantizeRow(GgmlType::Q4_0, x.data(), 32, q.data());
  const auto* b = reinterpret_cast<const BlockQ4_0*>(q.data());
  CHECK(F16ToF32(b->d) == 1.0f);
  for (int j = 0; j < 16; ++j) {
    const int lo = b->qs[j] & 15, hi = b->qs[j] >> 4;
    CHECK(lo == static_cast<int>(x[j] + 8));
    CHECK(hi == static_cast<int>(x[j + 16] + 8));
  }
  std::vector<float> y(32);
  DequantizeRow(GgmlType::Q4_0, q.data(), 32, y.data());
  CHECK(y == x);
}

TEST_CASE("Q4_0 round trip error is bounded by half a step", "[quant]") {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 0.1f);
  std::vector<float> x(1024), y(1024);
  for (float& v : x) v = dist(rng);
  std::vector<uint8_t> q(RowBytes(GgmlType::Q4_0, 1024));
  QuantizeRow(GgmlType::Q4_0, x.data(), 1024, q.data());
  DequantizeRow(GgmlType::Q4_0, q.data(), 1024, y.data());
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(q.data());
  for (int i = 0; i < 1024; ++i) {
    const float d = std::fabs(F16ToF32(blocks[i / 32].d));
    // Half a step, plus the clamp at +7 for values near the positive maximum.
    CHECK(std::fabs(y[i] - x[i]) <= d * 1.0001f + 1e-7f);
  }
}

TEST_CASE("all-zero blocks encode to zero scales", "[quant]") {
  std::vector<float> x(64, 0.0f), y(64, 1.0f);
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    std::vector<uint8_t> q(RowBytes(t, 64));
    QuantizeRow(t, x.data(), 64, q.data());
    DequantizeRow(t, q.data(), 64, y.data());
    for (float v : y) CHECK(v == 0.0f);
  }
}

TEST_CASE("Q8 activation blocks are at least as accurate as ggml's Q8_0 and Q8_K", "[quant]") {
  // llama.cpp quantizes activations to Q8_0 (fp16 scale per 32) for Q4_0/Q8_0 weights and to
  // Q8_K (fp32 scale per 256, max mapped to -127) for K-quant weights; ours use an fp32 scale
  // per 32. Compare the round-trip error on activation-like data (gaussian with outliers).
  std::mt19937 rng(17);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const size_t n = 1 << 16;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = dist(rng) * (i % 61 == 0 ? 20.0f : 1.0f);
  auto rms = [&](const std::vector<float>& y) {
    double e = 0;
    for (size_t i = 0; i < n; ++i) e += (static_cast<double>(y[i]) - x[i]) * (y[i] - x[i]);
    return std::sqrt(e / n);
  };
  std::vector<int8_t> q(n);
  std::vector<float> d(n / 32), ours(n), q8_0(n), q8_k(n);
  QuantizeActivationsQ8(x.data(), n, q.data(), d.data());
  for (size_t i = 0; i < n; ++i) ours[i] = d[i / 32] * q[i];
  std::vector<uint8_t> blocks(RowBytes(GgmlType::Q8_0, n));
  QuantizeRow(GgmlType::Q8_0, x.data(), n, blocks.data());
  DequantizeRow(GgmlType::Q8_0, blocks.data(), n, q8_0.data());
  for (size_t b = 0; b < n / 256; ++b) {  // ggml's quantize_row_q8_K_ref rule
    float amax = 0, max = 0;
    for (size_t j = 0; j < 256; ++j) {
      if (std::fabs(x[256 * b + j]) > amax) {
        amax = std::fabs(x[256 * b + j]);
        max = x[256 * b + j];
      }
    }
    const float iscale = -127.f / max;
    for (size_t j = 0; j < 256; ++j) {
      const int v = std::min(127, static_cast<int>(std::nearbyint(iscale * x[256 * b + j])));
      q8_k[256 * b + j] = v / iscale;
    }
  }
  INFO("rms error: ours " << rms(ours) << ", Q8_0 " << rms(q8_0) << ", Q8_K " << rms(q8_k));
  CHECK(rms(ours) <= rms(q8_0));
  CHECK(rms(ours) < 0.5 * rms(q8_k));
}
