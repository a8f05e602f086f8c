// The KV cache as the session uses it: sliding-window rings that wrap, rewinds inside and past
// what the rings hold (recomputed exactly), context shift, cache types, and memory that is
// committed only as positions are written. The truth is always a fresh session that evaluated
// the same tokens from scratch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"

using namespace gemma;

namespace {

std::vector<int32_t> Tokens(size_t n, int seed) {
  std::vector<int32_t> t = {2};
  for (size_t i = 1; i < n; ++i) t.push_back(17 + static_cast<int32_t>((i * 37 + static_cast<size_t>(seed) * 101) % 1000));
  return t;
}

float MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

SessionOptions Exact(int64_t n_ctx, int batch, int64_t margin) {
  SessionOptions o;
  o.precision = Precision::kExact;
  o.cache_type = KvType::kF32;
  o.n_ctx = n_ctx;
  o.batch = batch;
  o.rewind_margin = margin;
  return o;
}

// Logits of `next` after `history`, from a fresh session.
std::vector<float> Fresh(const Model& model, const SessionOptions& o, const std::vector<int32_t>& history,
                         const std::vector<int32_t>& next) {
  Session s(model, o);
  s.Evaluate(history, LogitsMode::kNone);
  return s.Evaluate(next, LogitsMode::kAll);
}

}  // namespace

TEST_CASE("sliding rings wrap, and rewinds inside and past them are exact", "[kv]") {
  // Window 40 in SSFSSF: the rings (256 slots with batch 16 and no margin) wrap after 256
  // tokens, well before the 700-token history.
  for (const char* preset : {"tiny", "tiny-e"}) {
    INFO(preset);
    const Model model = Model::Load(test::SynthModel(preset, "F32", {"sliding_window=40"}));
    const SessionOptions o = Exact(1024, 16, 0);
    Session s(model, o);
    REQUIRE(s.cache().Slots(0) == 256);
    const std::vector<int32_t> all = Tokens(700, 1), more = Tokens(20, 2);
    s.Evaluate(all, LogitsMode::kNone);
    CHECK(s.cache().OldestStored(0) == 700 - 256);

    // A short rewind: the ring still holds the window, nothing is recomputed.
    s.Rewind(650);
    CHECK(s.RecomputedTokens() == 0);
    std::vector<int32_t> head(all.begin(), all.begin() + 650);
    CHECK(MaxDiff(s.Evaluate(more, LogitsMode::kAll), Fresh(model, o, head, more)) < 1e-4f);

    // A rewind past the ring: the sliding caches are rebuilt from RecomputeSpan() tokens back.
    s.Rewind(300);
    CHECK(s.RecomputedTokens() == s.RecomputeSpan());
    CHECK(s.RecomputeSpan() > 39);
    head.resize(300);
    CHECK(s.Tokens() == head);
    CHECK(MaxDiff(s.Evaluate(more, LogitsMode::kAll), Fresh(model, o, head, more)) < 1e-4f);

    // Rewinding to near the start recomputes from position 0.
    s.Rewind(50);
    head.resize(50);
    CHECK(MaxDiff(s.Evaluate(more, LogitsMode::kAll), Fresh(model, o, head, more)) < 1e-4f);
  }
}

TEST_CASE("context shift drops a range of tokens exactly", "[kv]") {
  const Model model = Model::Load(test::SynthModel("tiny-moe", "F32", {"sliding_window=24"}));
  const SessionOptions o = Exact(512, 32, 64);
  Session s(model, o);
  const std::vector<int32_t> system = Tokens(60, 3), old_turn = Tokens(200, 4), recent = Tokens(150, 5);
  std::vector<int32_t> all = system;
  all.insert(all.end(), old_turn.begin(), old_turn.end());
  all.insert(all.end(), recent.begin(), recent.end());
  s.Evaluate(all, LogitsMode::kNone);
  CHECK_THROWS_WITH(s.ShiftContext(60, 400), Catch::Contains("cannot drop tokens [60, 460)"));
  CHECK(s.Position() == 410);

  const std::vector<float> last = s.ShiftContext(60, 200, LogitsMode::kLast);
  std::vector<int32_t> kept = system;
  kept.insert(kept.end(), recent.begin(), recent.end());
  CHECK(s.Position() == 210);
  CHECK(s.Tokens() == kept);
  const std::vector<int32_t> next = Tokens(8, 6);
  const std::vector<float> fresh = Fresh(model, o, kept, next);
  CHECK(MaxDiff(s.Evaluate(next, LogitsMode::kAll), fresh) < 1e-4f);

  // The returned logits are those of the last kept token.
  Session t(model, o);
  const std::vector<float> want = t.Evaluate(kept, LogitsMode::kLast);
  CHECK(MaxDiff(last, want) < 1e-4f);
}

TEST_CASE("every cache type runs every variant; f16 stays close to f32", "[kv]") {
  for (const char* preset : {"tiny", "tiny-e", "tiny-moe"}) {
    const Model model = Model::Load(test::SynthModel(preset, "Q8_0", {"sliding_window=16"}));
    const std::vector<int32_t> tokens = Tokens(300, 7);
    std::vector<float> ref;
    for (KvType t : {KvType::kF32, KvType::kF16, KvType::kBF16, KvType::kQ8_0}) {
      INFO(preset << " " << KvTypeName(t));
      SessionOptions o = Exact(512, 64, 0);
      o.cache_type = t;
      Session s(model, o);
      const std::vector<float> logits = s.Evaluate(tokens, LogitsMode::kAll);
      CHECK(std::all_of(logits.begin(), logits.end(), [](float x) { return std::isfinite(x); }));
      if (t == KvType::kF32) {
        ref = logits;
        continue;
      }
      // Rounding K/V moves logits (std ~3) by far less than their spread. Per position: the
      // max |diff| and whether the argmax agrees (the MoE router is discontinuous, so a few
      // positions may jump when a rounding flips an expert choice).
      const size_t V = static_cast<size_t>(model.config.n_vocab);
      std::vector<float> diffs;
      size_t same = 0;
      for (size_t p = 0; p < tokens.size(); ++p) {
        const float* a = &logits[p * V];
        const float* b = &ref[p * V];
        float d = 0.0f;
        for (size_t i = 0; i < V; ++i) d = std::max(d, std::fabs(a[i] - b[i]));
        diffs.push_back(d);
        same += std::max_element(a, a + V) - a == std::max_element(b, b + V) - b;
      }
      std::sort(diffs.begin(), diffs.end());
      const float median = diffs[diffs.size() / 2];
      const double agree = static_cast<double>(same) / static_cast<double>(tokens.size());
      WARN(preset << " " << KvTypeName(t) << " cache vs f32: argmax agrees at " << agree * 100
                  << "% of positions, median max|diff| " << median << ", worst " << diffs.back());
      // Relative rounding error per element: f16 2^-11, bf16 2^-8, q8_0 about 0.7% (a step of
      // amax/127 over unit-RMS rows); the bounds keep that ordering with headroom.
      CHECK(median < (t == KvType::kF16 ? 0.03f : t == KvType::kBF16 ? 0.2f : 0.5f));
      CHECK(agree > 0.9);
    }
  }
}

TEST_CASE("cache memory is reserved, not committed, until positions are written", "[kv]") {
  const Model model = Model::Load(test::SynthModel("tiny-e", "Q8_0", {"n_ctx=131072"}));
  SessionOptions o;
  o.n_ctx = 131072;
  o.cache_type = KvType::kF16;
  Session s(model, o);
  const ModelConfig& c = model.config;
  // Layout: global KV-owning layers x positions, plus a ring per sliding KV-owning layer.
  uint64_t want = 0;
  for (const LayerConfig& l : c.layers) {
    if (!l.OwnsKv()) continue;
    const uint64_t slots = l.sliding ? static_cast<uint64_t>(s.cache().Slots(l.index)) : 131072u;
    want += 2 * slots * static_cast<uint64_t>(l.KvDim()) * 2;
  }
  CHECK(s.cache().Bytes() == want);
  CHECK(s.cache().ResidentBytes() == 0);
  s.Evaluate(Tokens(2000, 8), LogitsMode::kNone);
  const uint64_t resident = s.cache().ResidentBytes();
  CHECK(resident > 0);
  CHECK(resident < want / 16);  // ~2000 of 131072 positions
}
