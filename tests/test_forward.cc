// Golden tests of the forward pass against llama.cpp (tests/data/golden, made by
// scripts/make-golden-fixtures): every variant (dense, E-style with PLE + KV sharing + double-wide
// MLP, MoE with K=V global layers) and every weight type, a 40-token prompt (five sliding
// windows) and a 32-token greedy continuation decoded one token at a time.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kernels/ops.h"
#include "runtime/huge_pages.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"

using namespace gemma;
using json = nlohmann::json;

namespace {

// llama.cpp itself is ~1.5e-3 RMS from the exact math (its GELU uses an fp16 table), so 2e-2 max
// absolute difference on logits of magnitude ~10 is a tight bound for an exact fp32 runtime.
constexpr float kTol = 2e-2f;
// Argmax flips are excused only for near-ties in llama.cpp's own logits: a margin below the logit
// error accepted with llama.cpp's GELU emulated (kTol / 4). Emulating its fp16 GELU rounding
// amplifies float reordering (NEON vs AVX-512 vs AVX2): e.g. tiny-e-F16 position 3, margin 1.8e-3,
// follows llama.cpp on AVX-512 but takes the runner-up on NEON and, in the exact run, on AVX2.
constexpr float kTieMargin = kTol / 4;

size_t Argmax(const float* x, size_t n) { return static_cast<size_t>(std::max_element(x, x + n) - x); }

void CheckTop5(const json& top5, const float* ours, const std::string& where) {
  for (const auto& e : top5) {
    const int id = e[0].get<int>();
    const float ref = e[1].get<float>();
    INFO(where << " token " << id);
    CHECK(std::fabs(ours[id] - ref) < kTol);
  }
}

// Runs one fixture's prompt and greedy continuation. Returns where our choices differed from
// llama.cpp's (position index; prompt positions first, then greedy steps as prompt_len + step).
struct Outcome {
  std::vector<size_t> flips;  // decisions where our argmax differs from llama.cpp's
  size_t decided = 0;         // decisions compared (prompt positions, then greedy steps)
  float max_diff = 0.0f;      // max |logit - llama.cpp| over the fixture's full rows
};

Outcome Evaluate(const json& fx, const std::string& name, const std::vector<size_t>& excused) {
  const std::string preset = fx["model"]["preset"], type = fx["model"]["type"];
  const std::string path = test::SynthModel(preset, type);
  REQUIRE(fmt::format("{:016x}", FileFingerprint(path)) ==
          fx["model"]["fingerprint"].get<std::string>());  // else: scripts/make-golden-fixtures

  const Model model = Model::Load(path);
  const size_t V = static_cast<size_t>(model.config.n_vocab);
  SessionOptions opt;
  opt.precision = Precision::kExact;
  opt.cache_type = KvType::kF32;  // the fixtures are llama.cpp with an F32 cache
  opt.n_ctx = 128;
  Session session(model, opt);
  const std::vector<int32_t> tokens = fx["tokens"].get<std::vector<int32_t>>();
  const std::vector<float> logits = session.Evaluate(tokens, LogitsMode::kAll);
  REQUIRE(logits.size() == tokens.size() * V);

  Outcome out;
  // A differing argmax is allowed only if excused: a near-tie in llama.cpp's logits, or a
  // decision listed in `excused`; either way our choice must be llama.cpp's runner-up.
  auto decide = [&](size_t index, size_t ours, const json& top5, const std::string& where) {
    out.decided = index + 1;
    if (ours == top5[0][0].get<size_t>()) return true;
    out.flips.push_back(index);
    const float margin = top5[0][1].get<float>() - top5[1][1].get<float>();
    const bool listed = std::find(excused.begin(), excused.end(), index) != excused.end();
    INFO(where << ": argmax " << ours << " vs llama.cpp " << top5[0][0] << ", llama.cpp margin "
               << margin);
    CHECK((margin < kTieMargin || listed));
    CHECK(ours == top5[1][0].get<size_t>());
    WARN(where << ": differs from llama.cpp (llama.cpp margin " << margin << ")"
               << (listed ? "; llama.cpp's fp16 GELU reproduces its choice" : ""));
    return false;
  };

  for (size_t p = 0; p < tokens.size(); ++p) {
    const float* row = &logits[p * V];
    const std::string where = fmt::format("{} position {}", name, p);
    decide(p, Argmax(row, V), fx["top5"][p], where);
    CheckTop5(fx["top5"][p], row, where);
  }
  for (const auto& [pos, ref] : fx["rows"].items()) {
    const float* row = &logits[std::stoul(pos) * V];
    for (size_t i = 0; i < V; ++i) {
      out.max_diff = std::max(out.max_diff, std::fabs(row[i] - ref[i].get<float>()));
    }
  }

  // Greedy continuation, one token per Evaluate() call (the decode path).
  const std::vector<int32_t> greedy = fx["greedy"].get<std::vector<int32_t>>();
  int32_t next = static_cast<int32_t>(Argmax(&logits[(tokens.size() - 1) * V], V));
  CHECK(next == greedy[0]);
  for (size_t i = 0; i + 1 < greedy.size() && next == greedy[i]; ++i) {
    const std::vector<float> step =
        session.Evaluate(std::span<const int32_t>(&next, 1), LogitsMode::kLast);
    REQUIRE(step.size() == V);
    const std::string where = fmt::format("{} greedy step {}", name, i + 1);
    CheckTop5(fx["greedy_top5"][i], step.data(), where);
    const size_t choice = Argmax(step.data(), V);
    if (!decide(tokens.size() + i, choice, fx["greedy_top5"][i], where)) break;  // diverged
    next = static_cast<int32_t>(choice);
  }
  return out;
}

void RunFixture(const std::filesystem::path& file) {
  std::ifstream in(file);
  const json fx = json::parse(in);
  const std::string name = file.filename().string();
  INFO("fixture " << name);
  // First with llama.cpp's fp16-table GELU emulated: then every decision must match llama.cpp
  // (up to true near-ties), which shows the rest of the math is the same.
  SetLlamaCppGeluForTesting(true);
  const Outcome emulated = Evaluate(fx, name + " (llama.cpp GELU)", {});
  SetLlamaCppGeluForTesting(false);
  INFO("max |logit - llama.cpp| with llama.cpp's GELU: " << emulated.max_diff);
  CHECK(emulated.max_diff < kTol / 4);
  // Then with the exact GELU: a decision may differ from llama.cpp only at a near-tie or where
  // the emulation above reproduced llama.cpp's choice (so the difference is its fp16 GELU).
  std::vector<size_t> explained;
  for (size_t i = 0; i < emulated.decided; ++i) {
    if (std::find(emulated.flips.begin(), emulated.flips.end(), i) == emulated.flips.end()) {
      explained.push_back(i);
    }
  }
  const Outcome exact = Evaluate(fx, name, explained);
  INFO("max |logit - llama.cpp| with exact GELU: " << exact.max_diff);
  CHECK(exact.max_diff < kTol);
  WARN(name << ": max |logit diff| " << exact.max_diff << " (exact GELU), " << emulated.max_diff
            << " (llama.cpp's GELU emulated); " << exact.decided << " decisions, "
            << exact.flips.size() << " differ");
}

std::vector<std::filesystem::path> Fixtures(const std::string& prefix) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(test::DataPath("golden"))) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix + "-", 0) == 0 && name.find('-', prefix.size() + 1) == std::string::npos) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("golden logits: tiny dense", "[forward][golden]") {
  const auto files = Fixtures("tiny");
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) RunFixture(f);
}

TEST_CASE("golden logits: tiny E-style (PLE, KV sharing, double-wide MLP)", "[forward][golden]") {
  const auto files = Fixtures("tiny-e");
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) RunFixture(f);
}

TEST_CASE("golden logits: tiny MoE (experts, K=V global layers)", "[forward][golden]") {
  const auto files = Fixtures("tiny-moe");
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) RunFixture(f);
}

TEST_CASE("decode token by token equals prefill logits", "[forward]") {
  for (const char* preset : {"tiny", "tiny-e", "tiny-moe"}) {
    const Model model = Model::Load(test::SynthModel(preset, "Q8_0"));
    const size_t V = static_cast<size_t>(model.config.n_vocab);
    std::vector<int32_t> tokens = {2};
    for (int i = 0; i < 20; ++i) tokens.push_back(17 + (i * 37) % 1000);
    SessionOptions opt;
    opt.precision = Precision::kExact;
    opt.cache_type = KvType::kF32;  // f16 rounding would amplify ulp-level differences
    Session prefill(model, opt);
    const std::vector<float> all = prefill.Evaluate(tokens, LogitsMode::kAll);
    Session decode(model, opt);
    for (size_t p = 0; p < tokens.size(); ++p) {
      const std::vector<float> one = decode.Evaluate(std::span<const int32_t>(&tokens[p], 1), LogitsMode::kLast);
      float diff = 0.0f;
      for (size_t i = 0; i < V; ++i) diff = std::max(diff, std::fabs(one[i] - all[p * V + i]));
      INFO(preset << " position " << p);
      CHECK(diff < 1e-4f);
    }
    // Prefill in small chunks, and logits of only the last position, agree too.
    SessionOptions chunked = opt;
    chunked.batch = 3;
    Session c(model, chunked);
    const std::vector<float> last = c.Evaluate(tokens, LogitsMode::kLast);
    REQUIRE(last.size() == V);
    for (size_t i = 0; i < V; ++i) CHECK(std::fabs(last[i] - all[(tokens.size() - 1) * V + i]) < 1e-4f);
  }
}

TEST_CASE("rewinding and re-evaluating reproduces the same logits", "[forward]") {
  const Model model = Model::Load(test::SynthModel("tiny-e", "Q4_0"));
  SessionOptions opt;
  opt.precision = Precision::kExact;
  Session s(model, opt);
  std::vector<int32_t> a = {2}, b, c;
  for (int i = 0; i < 15; ++i) a.push_back(30 + 7 * i);
  for (int i = 0; i < 12; ++i) b.push_back(100 + 11 * i);
  for (int i = 0; i < 12; ++i) c.push_back(400 + 13 * i);
  s.Evaluate(a, LogitsMode::kNone);
  const std::vector<float> first = s.Evaluate(b, LogitsMode::kAll);
  CHECK(s.Position() == 28);
  CHECK(s.Tokens().size() == 28);
  s.Rewind(16);
  CHECK(s.Tokens() == a);
  s.Evaluate(c, LogitsMode::kNone);  // overwrite the cache past the rewind point
  s.Rewind(16);
  const std::vector<float> again = s.Evaluate(b, LogitsMode::kAll);
  REQUIRE(again.size() == first.size());
  for (size_t i = 0; i < first.size(); ++i) REQUIRE(again[i] == first[i]);
  CHECK_THROWS_WITH(s.Rewind(99), Catch::Contains("cannot rewind to position 99"));
  s.Reset();
  CHECK(s.Position() == 0);
}

TEST_CASE("bad tokens and context overflow are refused cleanly", "[forward][bad]") {
  const Model model = Model::Load(test::SynthModel("tiny"));
  SessionOptions opt;
  opt.n_ctx = 8;
  Session s(model, opt);
  const std::vector<int32_t> bad = {2, 5000};
  CHECK_THROWS_WITH(s.Evaluate(bad, LogitsMode::kLast),
                    Catch::Contains("token id 5000 at index 1 is out of range (the vocabulary has 1024 tokens)"));
  const std::vector<int32_t> negative = {-1};
  CHECK_THROWS_WITH(s.Evaluate(negative, LogitsMode::kLast), Catch::Contains("out of range"));
  CHECK(s.Position() == 0);
  const std::vector<int32_t> nine(9, 20);
  CHECK_THROWS_WITH(s.Evaluate(nine, LogitsMode::kLast), Catch::Contains("context full"));
  const std::vector<int32_t> eight(8, 20);
  CHECK(s.Evaluate(eight, LogitsMode::kLast).size() == 1024);
  CHECK(s.Position() == 8);
  const std::vector<int32_t> one = {20};
  CHECK_THROWS_WITH(s.Evaluate(one, LogitsMode::kLast), Catch::Contains("context full: 8 tokens"));
}

TEST_CASE("weights copied into huge pages give the logits of the file mapping", "[forward]") {
  const std::string path = test::SynthModel("tiny-e", "Q4_0");
  LoadOptions mapped_only;
  mapped_only.huge_pages = false;
  const Model mapped = Model::Load(path, mapped_only);
  const Model copied = Model::Load(path);
  CHECK(mapped.huge_page_bytes == 0);
  // Copies are made whenever the kernel offers transparent huge pages (and memory suffices).
  if (TransparentHugePageSize() == 0) {
    CHECK(copied.huge_page_bytes == 0);
  } else {
    CHECK(copied.huge_page_bytes > 0);
  }
  // Where the data section of `copied` is mapped, from a 1-D tensor (never copied).
  const std::vector<GgufTensor>& a = mapped.file.Tensors();
  const std::vector<GgufTensor>& b = copied.file.Tensors();
  REQUIRE(a.size() == b.size());
  const auto vec = std::find_if(b.begin(), b.end(), [](const GgufTensor& t) { return t.n_dims == 1; });
  REQUIRE(vec != b.end());
  const uint8_t* section = vec->data - vec->offset;
  uint64_t moved = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].name);
    REQUIRE(a[i].n_bytes == b[i].n_bytes);
    CHECK(std::equal(a[i].data, a[i].data + a[i].n_bytes, b[i].data));
    const bool stays = b[i].n_dims < 2 || b[i].name == "per_layer_token_embd.weight";
    if (stays || copied.huge_page_bytes == 0) {
      CHECK(b[i].data == section + b[i].offset);
    } else {
      CHECK(b[i].data != section + b[i].offset);
      moved += (b[i].n_bytes + 63) / 64 * 64;
    }
  }
  CHECK(moved == copied.huge_page_bytes);

  std::vector<int32_t> tokens = {2};
  for (int i = 0; i < 20; ++i) tokens.push_back(40 + 9 * i);
  Session s_mapped(mapped, SessionOptions{});
  Session s_copied(copied, SessionOptions{});
  const std::vector<float> la = s_mapped.Evaluate(tokens, LogitsMode::kAll);
  const std::vector<float> lb = s_copied.Evaluate(tokens, LogitsMode::kAll);
  REQUIRE(la.size() == lb.size());
  for (size_t i = 0; i < la.size(); ++i) REQUIRE(la[i] == lb[i]);
}
