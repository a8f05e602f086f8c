// Sampler: each stage keeps exactly the candidates its definition names (checked against a
// brute-force full sort), and draws follow the stated distribution (chi-square with fixed seeds,
// so the outcome is deterministic).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "runtime/error.h"
#include "runtime/gguf.h"
#include "runtime/gguf_writer.h"
#include "runtime/sampler.h"
#include "test_util.h"

using namespace gemma;

namespace {

std::vector<float> RandomRow(size_t n, uint64_t seed, float scale = 3.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> row(n);
  for (float& x : row) x = d(rng);
  return row;
}

// Ids sorted best first (higher logit, then lower id): the reference order.
std::vector<int32_t> SortedIds(const std::vector<float>& row) {
  std::vector<int32_t> ids(row.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
  return ids;
}

// Softmax probabilities of the whole row at temperature 1, in double.
std::vector<double> Softmax(const std::vector<float>& row, double temp = 1.0) {
  const double max = *std::max_element(row.begin(), row.end());
  std::vector<double> p(row.size());
  double z = 0.0;
  for (size_t i = 0; i < row.size(); ++i) z += p[i] = std::exp((row[i] - max) / temp);
  for (double& x : p) x /= z;
  return p;
}

std::vector<int32_t> Ids(const std::vector<TokenProb>& c) {
  std::vector<int32_t> ids;
  for (const TokenProb& t : c) ids.push_back(t.id);
  return ids;
}

SamplerParams Plain() {
  SamplerParams p;
  p.temp = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.repeat_penalty = 1.0f;
  return p;
}

}  // namespace

TEST_CASE("temperature 0 is the argmax (lowest id on ties), after the repeat penalty", "[sampler]") {
  SamplerParams p = Plain();
  p.temp = 0.0f;
  Sampler s(p);
  std::vector<float> row = RandomRow(1000, 1);
  const int32_t best = SortedIds(row)[0];
  for (int i = 0; i < 5; ++i) CHECK(s.Sample(row) == best);
  row[10] = row[20] = 100.0f;
  CHECK(s.Sample(row) == 10);
  // A penalty on 10 (positive logit: divided) hands the win to 20.
  p.repeat_penalty = 2.0f;
  s.SetParams(p);
  const std::vector<int32_t> recent = {10};
  CHECK(s.Sample(row, recent) == 20);
  const auto c = s.Candidates(row, recent);
  REQUIRE(c.size() == 1);
  CHECK(c[0].p == 1.0f);
}

TEST_CASE("repeat penalty divides positive logits and multiplies negative ones, once per token",
          "[sampler]") {
  std::vector<float> row = {2.0f, -2.0f, 0.0f, 4.0f, -1.0f};
  const std::vector<int32_t> recent = {0, 1, 0, 0, 2, 99, -5};  // repeats, out-of-range ids
  ApplyRepeatPenalty(row, recent, 2.0f);
  CHECK(row == std::vector<float>{1.0f, -4.0f, 0.0f, 4.0f, -1.0f});

  // The sampler looks only at the last repeat_last_n tokens of the context.
  SamplerParams p = Plain();
  p.temp = 0.0f;
  p.repeat_penalty = 10.0f;
  p.repeat_last_n = 2;
  Sampler s(p);
  const std::vector<float> r2 = {5.0f, 4.0f, 1.0f};
  CHECK(s.Sample(r2, std::vector<int32_t>{0, 2, 2}) == 0);  // 0 is outside the window
  CHECK(s.Sample(r2, std::vector<int32_t>{2, 0}) == 1);
  p.repeat_last_n = 0;  // off
  s.SetParams(p);
  CHECK(s.Sample(r2, std::vector<int32_t>{0}) == 0);
}

TEST_CASE("top-k keeps exactly the k best, in order", "[sampler]") {
  for (size_t n : {5u, 1000u, 262144u}) {
    std::vector<float> row = RandomRow(n, n);
    // Ties across the cut: the lower id must win, as in the reference order.
    if (n >= 1000) row[700] = row[701] = row[SortedIds(row)[30]];
    const std::vector<int32_t> ref = SortedIds(row);
    for (int k : {1, 2, 3, 31, 64, 1000}) {
      SamplerParams p = Plain();
      p.top_k = k;
      Sampler s(p);
      const auto c = s.Candidates(row);
      const size_t want = std::min<size_t>(static_cast<size_t>(k), n);
      INFO("n " << n << " k " << k);
      REQUIRE(c.size() == want);
      CHECK(Ids(c) == std::vector<int32_t>(ref.begin(), ref.begin() + static_cast<ptrdiff_t>(want)));
      // Probabilities: softmax over the kept logits.
      double z = 0.0;
      for (size_t i = 0; i < want; ++i) z += std::exp(row[ref[i]] - row[ref[0]]);
      for (size_t i = 0; i < want; ++i) {
        CHECK(c[i].p == Approx(std::exp(row[ref[i]] - row[ref[0]]) / z).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("top-p keeps the smallest best-first prefix holding mass p", "[sampler]") {
  for (size_t n : {10u, 5000u, 262144u}) {
    for (float scale : {0.5f, 3.0f, 8.0f}) {  // flat to peaked
      const std::vector<float> row = RandomRow(n, 7 * n + static_cast<uint64_t>(scale), scale);
      const std::vector<int32_t> ref = SortedIds(row);
      const std::vector<double> prob = Softmax(row);
      for (float top_p : {0.1f, 0.5f, 0.9f, 0.95f, 0.999f}) {
        for (int top_k : {0, 64}) {
          SamplerParams p = Plain();
          p.top_p = top_p;
          p.top_k = top_k;
          Sampler s(p);
          const auto c = s.Candidates(row);
          // Reference: renormalise over the top-k (if any), then cut where the mass reaches p.
          const size_t k = top_k > 0 ? std::min<size_t>(static_cast<size_t>(top_k), n) : n;
          double z = 0.0;
          for (size_t i = 0; i < k; ++i) z += prob[ref[i]];
          size_t keep = 0;
          double cum = 0.0;
          while (keep < k) {
            cum += prob[ref[keep++]] / z;
            if (cum >= top_p) break;
          }
          INFO("n " << n << " scale " << scale << " top_p " << top_p << " top_k " << top_k);
          // The cut is decided in double on both sides; a candidate whose cumulative mass lies
          // within rounding of p could fall either way, which these seeds avoid.
          REQUIRE(c.size() == keep);
          CHECK(Ids(c) == std::vector<int32_t>(ref.begin(), ref.begin() + static_cast<ptrdiff_t>(keep)));
        }
      }
    }
  }
}

TEST_CASE("min-p keeps exactly the tokens with p >= min_p * p_max", "[sampler]") {
  for (size_t n : {50u, 262144u}) {
    const std::vector<float> row = RandomRow(n, 99 + n, 2.0f);
    const std::vector<double> prob = Softmax(row);
    const double pmax = *std::max_element(prob.begin(), prob.end());
    for (float min_p : {0.01f, 0.05f, 0.3f, 1.0f}) {
      for (float top_p : {1.0f, 0.9f}) {
        SamplerParams p = Plain();
        p.min_p = min_p;
        p.top_p = top_p;
        Sampler s(p);
        const auto c = s.Candidates(row);
        std::vector<int32_t> want;
        for (int32_t id : SortedIds(row)) {
          if (prob[id] >= min_p * pmax * (1 - 1e-6)) want.push_back(id);
        }
        // With top-p too, the result is the shorter of the two prefixes.
        if (top_p < 1.0f) {
          double cum = 0.0;
          size_t keep = 0;
          for (int32_t id : SortedIds(row)) {
            cum += prob[id];
            ++keep;
            if (cum >= top_p) break;
          }
          if (keep < want.size()) want.resize(keep);
        }
        INFO("n " << n << " min_p " << min_p << " top_p " << top_p);
        CHECK(Ids(c) == want);
      }
    }
  }
}

TEST_CASE("temperature reshapes the kept candidates as softmax(logit / T)", "[sampler]") {
  const std::vector<float> row = RandomRow(300, 5);
  for (float t : {0.25f, 0.7f, 1.0f, 2.0f}) {
    SamplerParams p = Plain();
    p.temp = t;
    p.top_k = 20;
    Sampler s(p);
    const auto c = s.Candidates(row);
    REQUIRE(c.size() == 20);
    double z = 0.0;
    for (const auto& e : c) z += std::exp((row[e.id] - row[c[0].id]) / t);
    double sum = 0.0;
    for (const auto& e : c) {
      CHECK(e.p == Approx(std::exp((row[e.id] - row[c[0].id]) / t) / z).epsilon(1e-5));
      sum += e.p;
    }
    CHECK(sum == Approx(1.0).epsilon(1e-5));
  }
}

// Pearson's chi-square statistic of observed counts against expected probabilities.
double ChiSquare(const std::map<int32_t, int>& counts, const std::vector<TokenProb>& expected,
                 int draws) {
  double chi = 0.0;
  for (const TokenProb& e : expected) {
    const double exp_n = e.p * draws;
    const auto it = counts.find(e.id);
    const double obs = it == counts.end() ? 0.0 : it->second;
    chi += (obs - exp_n) * (obs - exp_n) / exp_n;
  }
  return chi;
}

// The chi-square critical value for `df` degrees of freedom at significance 0.001, by the
// Wilson-Hilferty approximation (within 1% for df >= 3).
double ChiSquareCritical001(double df) {
  const double z = 3.0902;  // the standard normal's 0.999 quantile
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

TEST_CASE("draws follow the candidate distribution (chi-square, fixed seeds)", "[sampler]") {
  const std::vector<float> row = RandomRow(2000, 11, 1.5f);
  struct Case {
    float temp;
    int top_k;
    float top_p;
    float min_p;
  };
  for (const Case& k : {Case{1.0f, 8, 1.0f, 0.0f}, Case{0.7f, 16, 0.9f, 0.0f},
                        Case{1.5f, 10, 1.0f, 0.1f}, Case{1.0f, 0, 0.5f, 0.0f}}) {
    SamplerParams p = Plain();
    p.temp = k.temp;
    p.top_k = k.top_k;
    p.top_p = k.top_p;
    p.min_p = k.min_p;
    p.seed = 1234;
    Sampler s(p);
    const auto expected = s.Candidates(row);
    REQUIRE(expected.size() >= 3);
    REQUIRE(expected.size() <= 200);
    const int draws = 40000;
    std::map<int32_t, int> counts;
    for (int i = 0; i < draws; ++i) {
      const int32_t id = s.Sample(row);
      ++counts[id];
    }
    // Only kept candidates are ever drawn.
    for (const auto& [id, n] : counts) {
      INFO("drew " << id);
      CHECK(std::any_of(expected.begin(), expected.end(), [&](const TokenProb& e) { return e.id == id; }));
    }
    // A correct sampler exceeds the p = 0.001 critical value with probability 0.1%; the fixed
    // seed makes the outcome deterministic.
    const double chi = ChiSquare(counts, expected, draws);
    const double crit = ChiSquareCritical001(static_cast<double>(expected.size() - 1));
    INFO("temp " << k.temp << " top_k " << k.top_k << " top_p " << k.top_p << " min_p " << k.min_p
                 << " candidates " << expected.size() << " chi2 " << chi << " critical " << crit);
    CHECK(chi < crit);
    // A sampler that ignored the distribution (uniform over the candidates) would fail.
    std::vector<TokenProb> uniform = expected;
    for (auto& e : uniform) e.p = 1.0f / static_cast<float>(uniform.size());
    CHECK(ChiSquare(counts, uniform, draws) > 200.0);
  }
}

TEST_CASE("the same seed gives the same draws", "[sampler]") {
  const std::vector<float> row = RandomRow(262144, 3, 1.0f);
  SamplerParams p;  // Gemma 4 defaults
  p.seed = 77;
  Sampler a(p), b(p);
  std::vector<int32_t> da, db;
  for (int i = 0; i < 50; ++i) {
    da.push_back(a.Sample(row));
    db.push_back(b.Sample(row));
  }
  CHECK(da == db);
  CHECK(std::set<int32_t>(da.begin(), da.end()).size() > 5);  // it does sample
  a.Reseed(77);
  for (int i = 0; i < 50; ++i) CHECK(a.Sample(row) == da[static_cast<size_t>(i)]);
  p.seed = 78;
  Sampler c(p);
  std::vector<int32_t> dc;
  for (int i = 0; i < 50; ++i) dc.push_back(c.Sample(row));
  CHECK(dc != da);
}

TEST_CASE("defaults come from general.sampling.* and bad values are refused", "[sampler]") {
  const GgufFile synth = GgufFile::Open(test::SynthModel("tiny", "Q8_0"));
  const SamplerParams d = SamplerParams::FromGguf(synth);
  CHECK(d.temp == 1.0f);
  CHECK(d.top_k == 64);
  CHECK(d.top_p == Approx(0.95f));
  CHECK(d.min_p == 0.0f);

  GgufWriter w;
  w.Set("general.architecture", GgufWriteValue::String("gemma4"));
  w.Set("general.sampling.temp", GgufWriteValue::F32(0.6f));
  w.Set("general.sampling.top_k", GgufWriteValue::I32(20));
  w.Set("general.sampling.min_p", GgufWriteValue::F32(0.05f));
  w.Set("general.sampling.penalty_repeat", GgufWriteValue::F32(1.1f));
  w.Set("general.sampling.penalty_last_n", GgufWriteValue::I32(128));
  const GgufFile f = GgufFile::FromBytes(w.WriteToBytes(), "s.gguf");
  const SamplerParams q = SamplerParams::FromGguf(f);
  CHECK(q.temp == 0.6f);
  CHECK(q.top_k == 20);
  CHECK(q.top_p == Approx(0.95f));  // absent: Gemma 4's default
  CHECK(q.min_p == 0.05f);
  CHECK(q.repeat_penalty == 1.1f);
  CHECK(q.repeat_last_n == 128);

  GgufWriter bad;
  bad.Set("general.sampling.temp", GgufWriteValue::String("hot"));
  const GgufFile fb = GgufFile::FromBytes(bad.WriteToBytes(), "bad.gguf");
  CHECK_THROWS_AS(SamplerParams::FromGguf(fb), Error);

  SamplerParams p;
  p.top_p = 2.0f;
  CHECK_THROWS_WITH(p.Validate(), Catch::Contains("--top-p"));
  p = {};
  p.temp = -1.0f;
  CHECK_THROWS_WITH(Sampler(p), Catch::Contains("--temp"));
  p = {};
  p.repeat_penalty = 0.0f;
  CHECK_THROWS_WITH(p.Validate(), Catch::Contains("--repeat-penalty"));
}
