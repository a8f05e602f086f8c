// The SIMD attention kernel against its scalar twin (AttentionReference), on every Highway
// target compiled into the binary: head dims 32..512, grouped KV heads, global and sliding
// masks, every cache type, ring buffers, decode (one query, key-split path) and prefill chunks.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "hwy/targets.h"
#include "kernels/attention.h"
#include "kernels/kv_format.h"

using namespace gemma;

namespace {

// A cache of `slots` slots holding positions [0, end) (the last `slots` of them when it is a
// ring), filled with unit-RMS random rows like the normalised K/V the model writes.
struct TestCache {
  KvType type;
  int n_kv_head, head_dim;
  int64_t slots;
  std::vector<uint8_t> k, v;

  TestCache(KvType t, int kv_heads, int dim, int64_t n_slots, int64_t end, uint32_t seed)
      : type(t), n_kv_head(kv_heads), head_dim(dim), slots(n_slots) {
    const size_t slot_bytes = KvRowBytes(t, static_cast<size_t>(kv_heads * dim));
    // A linear cache (slots >= end) only needs storage for the positions written.
    const size_t stored = static_cast<size_t>(std::min(slots, end));
    k.assign(stored * slot_bytes, 0);
    v.assign(stored * slot_bytes, 0);
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(kv_heads * dim));
    for (int64_t p = std::max<int64_t>(0, end - slots); p < end; ++p) {
      const size_t off = static_cast<size_t>(p % slots) * slot_bytes;
      for (float& x : row) x = normal(rng);
      EncodeKvRow(t, row.data(), row.size(), &k[off]);
      for (float& x : row) x = normal(rng);
      EncodeKvRow(t, row.data(), row.size(), &v[off]);
    }
  }

  KvView View(int64_t min_pos = 0) const {
    const size_t head_bytes = KvRowBytes(type, static_cast<size_t>(head_dim));
    const size_t slot_bytes = head_bytes * static_cast<size_t>(n_kv_head);
    KvView view;
    view.k = KvStore{type, k.data(), slot_bytes, head_bytes, slots};
    view.v = KvStore{type, v.data(), slot_bytes, head_bytes, slots};
    view.min_pos = min_pos;
    return view;
  }
};

struct Case {
  int n_head, n_kv_head, head_dim, window;
  KvType type;
  int64_t slots;                  // ring size (or >= context: linear)
  std::vector<int64_t> positions;  // query positions
  int64_t min_pos = 0;
};

std::string Describe(const Case& c) {
  return fmt::format("heads {}/{} dim {} window {} {} slots {} queries {} (first {}, last {}) min_pos {}",
                     c.n_head, c.n_kv_head, c.head_dim, c.window, KvTypeName(c.type), c.slots,
                     c.positions.size(), c.positions.front(), c.positions.back(), c.min_pos);
}

std::vector<int64_t> Range(int64_t first, int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), first);
  return p;
}

// Max |kernel - reference| over the outputs of one case.
float RunCase(const Case& c, uint32_t seed) {
  const int64_t end = *std::max_element(c.positions.begin(), c.positions.end()) + 1;
  const TestCache cache(c.type, c.n_kv_head, c.head_dim, c.slots, end, seed);
  const size_t width = static_cast<size_t>(c.n_head * c.head_dim);
  std::vector<float> q(c.positions.size() * width);
  std::mt19937 rng(seed + 1);
  // Unit-RMS keys and queries of RMS 1/sqrt(d)*3 give scores of std ~3: softmax neither flat
  // nor one-hot, like the normalised q.k of Gemma 4.
  std::normal_distribution<float> normal(0.0f, 3.0f / std::sqrt(static_cast<float>(c.head_dim)));
  for (float& x : q) x = normal(rng);
  const AttentionShape shape{c.n_head, c.n_kv_head, c.head_dim, c.window};
  const KvView view = cache.View(c.min_pos);
  std::vector<float> got(q.size(), NAN), want(q.size(), NAN);
  Attention(shape, q.data(), c.positions.data(), c.positions.size(), view, got.data());
  AttentionReference(shape, q.data(), c.positions.data(), c.positions.size(), view, want.data());
  float max_diff = 0.0f;
  for (size_t i = 0; i < q.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    max_diff = std::max(max_diff, std::fabs(got[i] - want[i]));
  }
  // Deterministic: the same call gives the same bits.
  std::vector<float> again(q.size());
  Attention(shape, q.data(), c.positions.data(), c.positions.size(), view, again.data());
  if (again != got) return INFINITY;
  return max_diff;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  const KvType types[] = {KvType::kF32, KvType::kF16, KvType::kBF16, KvType::kQ8_0};
  for (KvType t : types) {
    // Gemma 4 shapes: E2B sliding/global (8 heads, 1 KV head), 26B sliding (2 per group),
    // E4B (4 per group); decode (one query) and a prefill chunk.
    cases.push_back({8, 1, 256, 40, t, 1 << 20, {700}});
    cases.push_back({8, 1, 512, 0, t, 1 << 20, {700}});
    cases.push_back({4, 2, 256, 0, t, 1 << 20, Range(60, 37)});
    cases.push_back({8, 1, 512, 0, t, 1 << 20, Range(0, 45)});
    cases.push_back({2, 1, 256, 33, t, 1 << 20, Range(100, 70)});
    // Small dims, many groups, a ring that wrapped (positions 300.. in 128 slots, window 50).
    cases.push_back({6, 3, 32, 50, t, 128, Range(300, 40)});
    cases.push_back({4, 4, 64, 17, t, 96, {250}});
    // Queries that are not consecutive (only the wanted rows of a chunk), and a min_pos.
    cases.push_back({4, 1, 64, 0, t, 1 << 20, {3, 9, 10, 200, 201, 530}});
    Case recompute{4, 2, 64, 30, t, 64, Range(500, 20)};
    recompute.min_pos = 495;
    cases.push_back(recompute);
  }
  return cases;
}

}  // namespace

TEST_CASE("attention kernel matches the scalar reference on every target", "[attention]") {
  const std::vector<Case> cases = Cases();
  int n_targets = 0;
  std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  // A CPU may support none of them (Arm without AES, e.g. a Raspberry Pi 4: Highway 1.0.3 wants
  // AES for NEON); dispatch then runs the baseline target, so test that one.
  if (targets.empty()) targets.push_back(HWY_STATIC_TARGET);
  for (int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    ++n_targets;
    INFO("target " << hwy::TargetName(target) << " (dispatched: " << AttentionTarget() << ")");
    CHECK(std::string(AttentionTarget()) == hwy::TargetName(target));
    uint32_t seed = 1;
    for (const Case& c : cases) {
      INFO(Describe(c));
      // Both sides decode the same stored values; only the order of float sums differs.
      CHECK(RunCase(c, seed++) < 2e-5f);
    }
  }
  hwy::SetSupportedTargetsForTest(0);
  CHECK(n_targets >= 1);
}

TEST_CASE("attention over a long context splits keys and still matches", "[attention]") {
  // One query over 5000 keys (the decode shape at depth: split into segments whose partial
  // softmax states are merged) and a sliding layer in a ring, on the dispatched target.
  for (KvType t : {KvType::kF16, KvType::kQ8_0}) {
    Case global{8, 1, 512, 0, t, 1 << 20, {4999}};
    Case sliding{8, 1, 256, 512, t, 1536, {4999}};
    INFO(KvTypeName(t));
    CHECK(RunCase(global, 11) < 2e-5f);
    CHECK(RunCase(sliding, 12) < 2e-5f);
  }
}

TEST_CASE("KV cache formats round-trip", "[attention]") {
  std::vector<float> x(64), y(64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.25f - 8.0f;  // exact in f16/bf16
  for (KvType t : {KvType::kF32, KvType::kF16, KvType::kBF16}) {
    std::vector<uint8_t> buf(KvRowBytes(t, x.size()));
    EncodeKvRow(t, x.data(), x.size(), buf.data());
    DecodeKvRow(t, buf.data(), x.size(), y.data());
    CHECK(y == x);
  }
  std::vector<uint8_t> q8(KvRowBytes(KvType::kQ8_0, x.size()));
  CHECK(q8.size() == 2 * 34);
  EncodeKvRow(KvType::kQ8_0, x.data(), x.size(), q8.data());
  DecodeKvRow(KvType::kQ8_0, q8.data(), x.size(), y.data());
  for (size_t i = 0; i < x.size(); ++i) CHECK(std::fabs(y[i] - x[i]) <= 0.05f);  // half a step of 8/127, plus the fp16 scale
  CHECK(ParseKvType("Q8_0") == KvType::kQ8_0);
  CHECK(ParseKvType("f16") == KvType::kF16);
  CHECK(!ParseKvType("q4_0").has_value());
}
