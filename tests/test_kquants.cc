// K-quant formats (Q4_K, Q5_K, Q6_K): hand-built blocks decode to known values, round trips stay
// within the format's step, and encoder and decoder agree bit for bit with llama.cpp's ggml
// (tests/data/ggml_quant_blocks.bin, made by tests/tools/ggml_quant_fixture.cc).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kquants.h"
#include "quant/quantize.h"
#include "quant/types.h"
#include "test_util.h"

using namespace gemma;

namespace {

struct FixtureRecord {
  GgmlType type;
  std::vector<float> input;
  std::vector<uint8_t> bytes;
  std::vector<float> decoded;
};

std::vector<FixtureRecord> ReadFixture() {
  const std::string path = test::DataPath("ggml_quant_blocks.bin");
  FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  auto u32 = [&] {
    uint32_t v = 0;
    REQUIRE(std::fread(&v, 4, 1, f) == 1);
    return v;
  };
  char magic[4];
  REQUIRE(std::fread(magic, 1, 4, f) == 4);
  REQUIRE(std::memcmp(magic, "GQFX", 4) == 0);
  std::vector<FixtureRecord> records(u32());
  for (FixtureRecord& r : records) {
    r.type = static_cast<GgmlType>(u32());
    const uint32_t n = u32();
    r.input.resize(n);
    REQUIRE(std::fread(r.input.data(), 4, n, f) == n);
    r.bytes.resize(u32());
    REQUIRE(std::fread(r.bytes.data(), 1, r.bytes.size(), f) == r.bytes.size());
    r.decoded.resize(n);
    REQUIRE(std::fread(r.decoded.data(), 4, n, f) == n);
  }
  std::fclose(f);
  return records;
}

// Bit equality of floats (so -0 vs 0 or NaN payloads would show).
bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

}  // namespace

TEST_CASE("encoders and decoders match ggml bit for bit", "[quant][kquant]") {
  const std::vector<FixtureRecord> records = ReadFixture();
  REQUIRE(records.size() == 30);
  for (const FixtureRecord& r : records) {
    INFO("type " << TypeName(r.type));
    const size_t n = r.input.size();
    REQUIRE(RowBytes(r.type, n) == r.bytes.size());
    std::vector<uint8_t> ours(r.bytes.size());
    QuantizeRow(r.type, r.input.data(), n, ours.data());
    CHECK(ours == r.bytes);
    std::vector<float> decoded(n);
    DequantizeRow(r.type, r.bytes.data(), n, decoded.data());
    CHECK(SameBits(decoded, r.decoded));
  }
}

TEST_CASE("K scale packing round-trips every 6-bit scale and min", "[quant][kquant]") {
  // Pack through the encoder's layout by hand: byte j<4 = scale j | top2(scale j+4) << 6, etc.
  std::mt19937 rng(5);
  for (int trial = 0; trial < 1000; ++trial) {
    uint8_t sc[8], mn[8], packed[12] = {};
    for (int j = 0; j < 8; ++j) {
      sc[j] = rng() % 64;
      mn[j] = rng() % 64;
    }
    for (int j = 0; j < 4; ++j) {
      packed[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
      packed[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
      packed[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
    }
    const KScales k = UnpackKScales(packed);
    for (int j = 0; j < 8; ++j) {
      REQUIRE(k.scale[j] == sc[j]);
      REQUIRE(k.min[j] == mn[j]);
    }
  }
}

TEST_CASE("hand-built Q4_K block decodes to d*scale*q - dmin*min", "[quant][kquant]") {
  BlockQ4_K b{};
  b.d = F32ToF16(0.5f);
  b.dmin = F32ToF16(0.25f);
  // Sub-block j: scale j+1, min 2j (both < 16, so only bytes 0-7 and the low nibbles matter).
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<uint8_t>(j + 1);
    b.scales[j + 4] = static_cast<uint8_t>(2 * j);
    b.scales[j + 8] = static_cast<uint8_t>((j + 5) | ((2 * (j + 4)) << 4));
  }
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | (((i + 3) % 16) << 4));
  float y[256];
  DequantizeRow(GgmlType::Q4_K, &b, 256, y);
  for (int i = 0; i < 256; ++i) {
    const int j = i / 32, chunk = i / 64, l = i % 32;
    const int byte = b.qs[32 * chunk + l];
    const int q = (i % 64) < 32 ? byte & 15 : byte >> 4;
    REQUIRE(Q4_KCode(b, i) == q);
    REQUIRE(y[i] == 0.5f * (j + 1) * q - 0.25f * (2 * j));
  }
}

TEST_CASE("hand-built Q5_K block adds bit j of qh as 16", "[quant][kquant]") {
  BlockQ5_K b{};
  b.d = F32ToF16(1.0f);
  b.dmin = F32ToF16(0.0f);
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = 1;
    b.scales[j + 8] = 1;  // scales 4-7 = 1, mins 0
  }
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i % 16 | ((15 - i % 16) << 4));
  for (int l = 0; l < 32; ++l) b.qh[l] = static_cast<uint8_t>(l * 37);
  float y[256];
  DequantizeRow(GgmlType::Q5_K, &b, 256, y);
  for (int i = 0; i < 256; ++i) {
    const int j = i / 32, l = i % 32;
    const int byte = b.qs[32 * (i / 64) + l];
    const int lo = (i % 64) < 32 ? byte & 15 : byte >> 4;
    const int q = lo + (((l * 37) & 255) >> j & 1) * 16;
    REQUIRE(y[i] == static_cast<float>(q));
  }
}

TEST_CASE("hand-built Q6_K block decodes to d*scale*(q-32)", "[quant][kquant]") {
  BlockQ6_K b{};
  b.d = F32ToF16(0.125f);
  for (int k = 0; k < 16; ++k) b.scales[k] = static_cast<int8_t>(k - 8);
  // Element codes q(i) = (i * 7) % 64 placed by the documented bit layout.
  auto code = [](int i) { return (i * 7) % 64; };
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const int base = 128 * h;
      b.ql[64 * h + l] = static_cast<uint8_t>((code(base + l) & 15) | ((code(base + l + 64) & 15) << 4));
      b.ql[64 * h + l + 32] =
          static_cast<uint8_t>((code(base + l + 32) & 15) | ((code(base + l + 96) & 15) << 4));
      b.qh[32 * h + l] = static_cast<uint8_t>((code(base + l) >> 4) | ((code(base + l + 32) >> 4) << 2) |
                                              ((code(base + l + 64) >> 4) << 4) |
                                              ((code(base + l + 96) >> 4) << 6));
    }
  }
  float y[256];
  DequantizeRow(GgmlType::Q6_K, &b, 256, y);
  for (int i = 0; i < 256; ++i) {
    REQUIRE(Q6_KCode(b, i) == code(i));
    REQUIRE(y[i] == 0.125f * (i / 16 - 8) * (code(i) - 32));
  }
}

TEST_CASE("K-quant round trips stay within the format's step", "[quant][kquant]") {
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  const size_t n = 4096;
  std::vector<float> x(n), y(n);
  for (float& v : x) v = dist(rng);
  // Relative RMS error bounds, loose versions of what these formats achieve on gaussian data
  // (ggml's own quantize-fns test uses similar magnitudes).
  const struct {
    GgmlType type;
    double max_rel_rms;
  } cases[] = {{GgmlType::Q4_K, 0.12}, {GgmlType::Q5_K, 0.06}, {GgmlType::Q6_K, 0.03}};
  double rms_x = 0;
  for (float v : x) rms_x += static_cast<double>(v) * v;
  rms_x = std::sqrt(rms_x / n);
  for (const auto& c : cases) {
    INFO(TypeName(c.type));
    std::vector<uint8_t> q(RowBytes(c.type, n));
    QuantizeRow(c.type, x.data(), n, q.data());
    DequantizeRow(c.type, q.data(), n, y.data());
    double err = 0;
    for (size_t i = 0; i < n; ++i) err += (static_cast<double>(y[i]) - x[i]) * (y[i] - x[i]);
    CHECK(std::sqrt(err / n) / rms_x < c.max_rel_rms);
  }
}

TEST_CASE("K-quant all-zero blocks encode to zero", "[quant][kquant]") {
  std::vector<float> x(512, 0.0f), y(512, 1.0f);
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    std::vector<uint8_t> q(RowBytes(t, 512));
    QuantizeRow(t, x.data(), 512, q.data());
    DequantizeRow(t, q.data(), 512, y.data());
    for (float v : y) CHECK(v == 0.0f);
  }
}
