// MatMul / GeGLU on every Highway target compiled into the binary, against the scalar twins:
//   - integer weights, kFast: quant/int8_dot.h on activations from quant/q8_activations.h;
//     bit-exact on inputs where every float term is an exactly representable integer, and
//     within float reordering tolerance on gaussian data
//   - kExact and float weights: a double-precision dot of the reference-decoded weights
//   - GeGLU: gelu_tanh(gate) * up from the separately computed products
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/parallel.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/int8_dot.h"
#include "quant/q8_activations.h"
#include "quant/quantize.h"

using namespace gemma;

namespace {

const GgmlType kIntTypes[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K,
                              GgmlType::Q6_K};

// Runs `body` once per compiled target (with that target forced), then restores dispatch.
template <typename Body>
void ForEachTarget(Body&& body) {
  std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  // A CPU may support none of them (Arm without AES, e.g. a Raspberry Pi 4: Highway 1.0.3 wants
  // AES for NEON); dispatch then runs the baseline target, so test that one.
  if (targets.empty()) targets.push_back(HWY_STATIC_TARGET);
  for (int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    INFO("target " << hwy::TargetName(target));
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
}

struct Weights {
  GgmlType type;
  size_t rows, cols;
  std::vector<uint8_t> bytes;
  Matrix View() const {
    Matrix m;
    m.type = type;
    m.data = bytes.data();
    m.rows = static_cast<int64_t>(rows);
    m.cols = static_cast<int64_t>(cols);
    m.row_bytes = RowBytes(type, cols);
    return m;
  }
};

Weights GaussianWeights(GgmlType type, size_t rows, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  Weights w{type, rows, cols, std::vector<uint8_t>(rows * RowBytes(type, cols))};
  std::vector<float> row(cols);
  for (size_t r = 0; r < rows; ++r) {
    for (float& v : row) v = dist(rng) + (r % 7 == 3 ? 0.02f : 0.0f);  // some rows off-centre
    QuantizeRow(type, row.data(), cols, w.bytes.data() + r * RowBytes(type, cols));
  }
  return w;
}

// Blocks with random codes, unit fp16 scales and small integer sub-block scales: every term
// of the dot product is then an integer well below 2^24, so float sums are exact.
Weights IntegerWeights(GgmlType type, size_t rows, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  Weights w{type, rows, cols, std::vector<uint8_t>(rows * RowBytes(type, cols))};
  for (uint8_t& b : w.bytes) b = static_cast<uint8_t>(rng());
  const uint16_t one = F32ToF16(1.0f);
  const size_t n_blocks = rows * cols / Traits(type).block_size;
  for (size_t b = 0; b < n_blocks; ++b) {
    switch (type) {
      case GgmlType::Q4_0:
        reinterpret_cast<BlockQ4_0*>(w.bytes.data())[b].d = one;
        break;
      case GgmlType::Q8_0: {
        BlockQ8_0& blk = reinterpret_cast<BlockQ8_0*>(w.bytes.data())[b];
        blk.d = one;
        for (int8_t& q : blk.qs)
          q = static_cast<int8_t>(q == -128 ? 127 : q);  // ggml never writes -128
        break;
      }
      case GgmlType::Q4_K:
      case GgmlType::Q5_K: {
        // Same header layout for both: d, dmin, 12 scale bytes; 6-bit scales/mins kept < 8.
        auto* blk = reinterpret_cast<BlockQ4_K*>(w.bytes.data() + b * Traits(type).type_size);
        blk->d = one;
        blk->dmin = one;
        for (int j = 0; j < 12; ++j) blk->scales[j] &= j < 8 ? 0x07 : 0x77;
        break;
      }
      case GgmlType::Q6_K: {
        BlockQ6_K& blk = reinterpret_cast<BlockQ6_K*>(w.bytes.data())[b];
        blk.d = one;
        for (int8_t& s : blk.scales) s = static_cast<int8_t>(static_cast<int>(rng() % 17) - 8);
        break;
      }
      default:
        break;
    }
  }
  return w;
}

// Activations whose Q8 scale is exactly 1: one element of each 32-block is +-127, the others
// small integers.
std::vector<float> IntegerActivations(size_t n_tokens, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x(n_tokens * cols);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = i % 32 == (i / 32) % 32 ? (rng() % 2 ? 127.0f : -127.0f)
                                   : static_cast<float>(static_cast<int>(rng() % 7) - 3);
  }
  return x;
}

std::vector<float> GaussianActivations(size_t n_tokens, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n_tokens * cols);
  for (float& v : x) v = dist(rng);
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 8.0f;  // outliers
  return x;
}

// The scalar twin of MatMul(kFast) for integer weights.
std::vector<Q8Dot> TwinInt8(const Weights& w, const std::vector<float>& x, size_t n_tokens) {
  std::vector<int8_t> q(w.cols);
  std::vector<float> d(w.cols / 32);
  std::vector<Q8Dot> y(n_tokens * w.rows);
  for (size_t t = 0; t < n_tokens; ++t) {
    QuantizeActivationsQ8(x.data() + t * w.cols, w.cols, q.data(), d.data());
    for (size_t r = 0; r < w.rows; ++r) {
      y[t * w.rows + r] = DotWithQ8Activations(
          w.type, w.bytes.data() + r * RowBytes(w.type, w.cols), q.data(), d.data(), w.cols);
    }
  }
  return y;
}

// Double-precision product of the reference-decoded weights; magnitude = sum |w x|.
std::vector<Q8Dot> TwinExact(const Weights& w, const std::vector<float>& x, size_t n_tokens) {
  std::vector<float> row(w.cols);
  std::vector<Q8Dot> y(n_tokens * w.rows);
  for (size_t r = 0; r < w.rows; ++r) {
    DequantizeRow(w.type, w.bytes.data() + r * RowBytes(w.type, w.cols), w.cols, row.data());
    for (size_t t = 0; t < n_tokens; ++t) {
      Q8Dot& o = y[t * w.rows + r];
      for (size_t i = 0; i < w.cols; ++i) {
        const double p = static_cast<double>(row[i]) * x[t * w.cols + i];
        o.value += p;
        o.magnitude += std::fabs(p);
      }
    }
  }
  return y;
}

// Float reordering tolerance: relative to the sum of magnitudes of the terms.
void RequireClose(const std::vector<float>& y, const std::vector<Q8Dot>& ref, double rel) {
  REQUIRE(y.size() == ref.size());
  for (size_t i = 0; i < y.size(); ++i) {
    INFO("output " << i << ": " << y[i] << " vs " << ref[i].value);
    REQUIRE(std::fabs(y[i] - ref[i].value) <= rel * ref[i].magnitude + 1e-30);
  }
}

const size_t kTokenCounts[] = {1, 2, 5, 7, 13, 30};

}  // namespace

TEST_CASE("int8 kernels are bit-exact on integer-valued inputs, every target", "[matmul]") {
  const size_t rows = 37;  // not a multiple of any row tile
  // 4096 columns: long rows take other decode loops (the VBMI Q4_0 decoder).
  const size_t cols = GENERATE(512, 4096);
  INFO(cols << " columns");
  ForEachTarget([&] {
    for (GgmlType type : kIntTypes) {
      INFO(TypeName(type));
      const Weights w = IntegerWeights(type, rows, cols, 11);
      for (size_t n : kTokenCounts) {
        INFO(n << " tokens");
        const std::vector<float> x = IntegerActivations(n, cols, static_cast<uint32_t>(n));
        std::vector<float> y(n * rows);
        MatMul(w.View(), x.data(), n, y.data(), Precision::kFast);
        const std::vector<Q8Dot> ref = TwinInt8(w, x, n);
        for (size_t i = 0; i < y.size(); ++i) {
          INFO("output " << i);
          REQUIRE(static_cast<double>(y[i]) == ref[i].value);
        }
      }
    }
  });
}

TEST_CASE("int8 kernels match the scalar twin on gaussian data, every target", "[matmul]") {
  const size_t rows = 70;
  const size_t cols = GENERATE(1536, 4096);  // E2B's short rows; long rows (see above)
  INFO(cols << " columns");
  ForEachTarget([&] {
    for (GgmlType type : kIntTypes) {
      INFO(TypeName(type));
      const Weights w = GaussianWeights(type, rows, cols, 5);
      for (size_t n : {size_t{1}, size_t{8}, size_t{27}}) {
        const std::vector<float> x = GaussianActivations(n, cols, 3);
        std::vector<float> y(n * rows);
        MatMul(w.View(), x.data(), n, y.data(), Precision::kFast);
        RequireClose(y, TwinInt8(w, x, n), 1e-5);
      }
    }
  });
}

TEST_CASE("kExact and float weights match a double-precision reference, every target", "[matmul]") {
  const size_t rows = 21, cols = 256;
  const GgmlType types[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                            GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
  ForEachTarget([&] {
    for (GgmlType type : types) {
      INFO(TypeName(type));
      const Weights w = GaussianWeights(type, rows, cols, 9);
      for (size_t n : kTokenCounts) {
        const std::vector<float> x = GaussianActivations(n, cols, 4);
        std::vector<float> y(n * rows);
        MatMul(w.View(), x.data(), n, y.data(), Precision::kExact);
        RequireClose(y, TwinExact(w, x, n), 2e-6);
        if (Traits(type).block_size == 1) {  // kFast is the same float path for float weights
          std::vector<float> y_fast(n * rows);
          MatMul(w.View(), x.data(), n, y_fast.data(), Precision::kFast);
          CHECK(y_fast == y);
        }
      }
    }
  });
}

TEST_CASE("GeGLU equals gelu_tanh(gate x) * (up x), every target", "[matmul]") {
  const size_t rows = 45, cols = 512;
  ForEachTarget([&] {
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::F16}) {
      INFO(TypeName(type));
      const Weights gate = GaussianWeights(type, rows, cols, 21);
      const Weights up = GaussianWeights(type, rows, cols, 22);
      for (Precision p : {Precision::kFast, Precision::kExact}) {
        for (size_t n : {size_t{1}, size_t{9}}) {
          const std::vector<float> x = GaussianActivations(n, cols, 23);
          std::vector<float> g(n * rows), u(n * rows), out(n * rows);
          MatMul(gate.View(), x.data(), n, g.data(), p);
          MatMul(up.View(), x.data(), n, u.data(), p);
          GeGLU(gate.View(), up.View(), x.data(), n, out.data(), p);
          for (size_t i = 0; i < out.size(); ++i) {
            const float expected = GeluTanh(g[i]) * u[i];
            INFO("output " << i << ": " << out[i] << " vs " << expected);
            // tanh to a few ulp, applied to bit-identical products.
            REQUIRE(std::fabs(out[i] - expected) <=
                    1e-6f * std::fabs(u[i]) + 1e-6f * std::fabs(expected));
          }
        }
      }
    }
  });
}

TEST_CASE("GeGLU with gate and up in different formats", "[matmul]") {
  const size_t rows = 20, cols = 256, n = 3;
  const Weights gate = GaussianWeights(GgmlType::Q4_K, rows, cols, 31);
  const Weights up = GaussianWeights(GgmlType::Q6_K, rows, cols, 32);
  const std::vector<float> x = GaussianActivations(n, cols, 33);
  std::vector<float> g(n * rows), u(n * rows), out(n * rows);
  MatMul(gate.View(), x.data(), n, g.data());
  MatMul(up.View(), x.data(), n, u.data());
  GeGLU(gate.View(), up.View(), x.data(), n, out.data());
  for (size_t i = 0; i < out.size(); ++i) {
    REQUIRE(std::fabs(out[i] - GeluTanh(g[i]) * u[i]) <=
            1e-6f * (std::fabs(u[i]) + std::fabs(out[i])));
  }
}

TEST_CASE("results do not depend on the thread count or backend", "[matmul][parallel]") {
  const size_t rows = 300, cols = 768, n = 20;
  const Weights w = GaussianWeights(GgmlType::Q4_0, rows, cols, 41);
  const std::vector<float> x = GaussianActivations(n, cols, 42);
  std::vector<float> y1(n * rows), y1_decode(rows), y(n * rows);
  SetNumThreads(1);
  MatMul(w.View(), x.data(), n, y1.data());
  MatMul(w.View(), x.data(), 1, y1_decode.data());
  for (ParallelBackend backend : {ParallelBackend::kPool, ParallelBackend::kTbb}) {
    SetParallelBackend(backend);
    for (int threads : {2, 3, 8}) {
      SetNumThreads(threads);
      MatMul(w.View(), x.data(), n, y.data());
      CHECK(y == y1);
      MatMul(w.View(), x.data(), 1, y.data());
      CHECK(std::equal(y1_decode.begin(), y1_decode.end(), y.begin()));
    }
  }
  SetParallelBackend(ParallelBackend::kPool);
  SetNumThreads(0);
}
