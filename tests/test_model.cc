// ModelConfig and weight binding on synthetic files of every variant, and files whose metadata
// or tensors lie: each must fail with one line naming the key or tensor.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "quant/quantize.h"
#include "runtime/error.h"
#include "runtime/model.h"
#include "runtime/synth.h"
#include "test_util.h"

using namespace gemma;
using V = GgufWriteValue;

namespace {

ModelConfig ConfigOf(const std::string& path) { return ReadModelConfig(GgufFile::Open(path)); }

// The config of a preset's shapes. ReadModelConfig looks only at the shape of token_embd and at
// which other tensors exist, so every other tensor is replaced by a 1-element stand-in (this
// keeps even the 31B shape cheap).
ModelConfig PresetConfig(const std::string& preset, const std::vector<std::string>& sets = {"n_vocab=1024"}) {
  SynthSpec spec = SynthPreset(preset);
  for (const std::string& s : sets) {
    if (s != "--set") ApplySynthOverride(spec, s);
  }
  GgufWriter w = BuildSynthWriter(spec, SynthOptions{});
  std::vector<std::string> names;
  w.RemoveTensorsIf([&](std::string_view n) {
    if (n == "token_embd.weight") return false;
    names.emplace_back(n);
    return true;
  });
  for (const std::string& n : names) w.AddTensorData(n, GgmlType::F32, {1}, std::vector<uint8_t>(4));
  return ReadModelConfig(GgufFile::FromBytes(w.WriteToBytes(), preset));
}

std::string LoadError(GgufWriter& w) {
  const std::string path = test::ScratchPath("broken.gguf");
  w.Write(path);
  try {
    Model::Load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("tiny dense config", "[model]") {
  const Model m = Model::Load(test::SynthModel("tiny"));
  const ModelConfig& c = m.config;
  CHECK(c.n_layer == 6);
  CHECK(c.n_embd == 128);
  CHECK(c.n_vocab == 1024);
  CHECK(c.head_dim_swa == 32);
  CHECK(c.head_dim_full == 64);
  CHECK(c.sliding_window == 8);
  CHECK(c.final_softcap == 30.0f);
  CHECK(c.rope_base_full == 1e6f);
  CHECK(c.rope_base_swa == 1e4f);
  CHECK(c.norm_eps == 1e-6f);
  CHECK(c.tied_lm_head);
  CHECK(c.Variant() == "custom");
  for (const LayerConfig& l : c.layers) {
    CHECK(l.sliding == (l.index % 3 != 2));
    CHECK(l.head_dim == (l.sliding ? 32 : 64));
    CHECK(l.window == (l.sliding ? 8 : 0));
    CHECK(l.n_head == 4);
    CHECK(l.n_kv_head == 2);
    CHECK(l.ffn_dim == 512);
    CHECK(l.OwnsKv());
    CHECK(l.has_v);
    CHECK_FALSE(l.moe);
    CHECK(l.has_output_scale);
    CHECK(m.weights.layers[l.index].output_scale >= 0.8f);
    CHECK(m.weights.layers[l.index].output_scale <= 1.2f);
  }
  REQUIRE(m.weights.rope_freqs);
  CHECK(m.weights.rope_freqs[7] == 1.0f);   // 25% of 32 pairs rotate
  CHECK(m.weights.rope_freqs[8] == 1e30f);
  CHECK(m.weights.token_embd.rows == 1024);
  CHECK(m.weights.token_embd.cols == 128);
}

TEST_CASE("tiny E-style config: PLE, KV sharing, double-wide MLP", "[model]") {
  const Model m = Model::Load(test::SynthModel("tiny-e"));
  const ModelConfig& c = m.config;
  CHECK(c.shared_kv_layers == 5);
  CHECK(c.n_embd_per_layer == 32);
  const int src[10] = {0, 1, 2, 3, 4, 3, 3, 3, 3, 4};
  for (int i = 0; i < 10; ++i) {
    CHECK(c.layers[i].kv_source == src[i]);
    CHECK(c.layers[i].ffn_dim == (i < 5 ? 256 : 512));
  }
  CHECK(m.weights.ple_token_embd.rows == 1024);
  CHECK(m.weights.ple_token_embd.cols == 320);
  CHECK(m.weights.layers[9].ple_gate.rows == 32);
}

TEST_CASE("tiny MoE config: experts and K=V global layers", "[model]") {
  const Model m = Model::Load(test::SynthModel("tiny-moe"));
  const ModelConfig& c = m.config;
  CHECK(c.n_expert == 8);
  CHECK(c.n_expert_used == 2);
  CHECK(c.expert_ffn_dim == 64);
  for (const LayerConfig& l : c.layers) {
    CHECK(l.moe);
    CHECK(l.has_v == l.sliding);
    CHECK(l.n_kv_head == (l.sliding ? 2 : 1));
  }
  const ExpertWeights& ex = m.weights.layers[0].experts;
  CHECK(ex.gate_up != nullptr);
  CHECK(ex.Gate(3).rows == 64);
  CHECK(ex.Up(3).data == ex.Gate(3).data + 64 * ex.Gate(3).row_bytes);
  CHECK(ex.Down(7).rows == 128);
  CHECK(ex.Down(7).cols == 64);
}

TEST_CASE("MoE with separate gate and up expert tensors", "[model]") {
  const Model m = Model::Load(test::SynthModel("tiny-moe", "F32", {"fused_gate_up=false"}));
  const ExpertWeights& ex = m.weights.layers[1].experts;
  CHECK(ex.gate_up == nullptr);
  CHECK(ex.Gate(5).rows == 64);
  CHECK(ex.Up(5).rows == 64);
}

TEST_CASE("shared layers without their own K/V weights load", "[model]") {
  const Model m = Model::Load(test::SynthModel("tiny-e", "Q8_0", {"shared_kv_weights=false"}));
  CHECK_FALSE(m.weights.layers[7].attn_k.Valid());
  CHECK(m.weights.layers[2].attn_k.Valid());
}

TEST_CASE("real variant shapes give the published structure", "[model]") {
  SECTION("E2B") {
    const ModelConfig c = PresetConfig("e2b");
    CHECK(c.Variant() == "E2B");
    CHECK(c.n_layer == 35);
    CHECK(c.FirstSharedLayer() == 15);
    for (const LayerConfig& l : c.layers) {
      CHECK(l.sliding == (l.index % 5 != 4));
      CHECK(l.head_dim == (l.sliding ? 256 : 512));
      CHECK(l.n_kv_head == 1);
      CHECK(l.ffn_dim == (l.index < 15 ? 6144 : 12288));
      if (l.index >= 15) CHECK(l.kv_source == (l.sliding ? 13 : 14));
    }
  }
  SECTION("E4B") {
    const ModelConfig c = PresetConfig("e4b");
    CHECK(c.Variant() == "E4B");
    for (const LayerConfig& l : c.layers) {
      CHECK(l.sliding == (l.index % 6 != 5));
      if (l.index >= 24) CHECK(l.kv_source == (l.sliding ? 22 : 23));
      CHECK(l.n_kv_head == 2);
    }
  }
  SECTION("26B-A4B") {
    const ModelConfig c = PresetConfig("26b-a4b");
    CHECK(c.Variant() == "26B-A4B");
    CHECK(c.n_expert == 128);
    CHECK(c.n_expert_used == 8);
    CHECK(c.expert_ffn_dim == 704);
    CHECK(c.sliding_window == 1024);
    for (const LayerConfig& l : c.layers) {
      CHECK(l.moe);
      CHECK(l.n_kv_head == (l.sliding ? 8 : 2));
      CHECK(l.has_v == l.sliding);
      CHECK(l.ffn_dim == 2112);
    }
  }
  SECTION("31B") {
    const ModelConfig c = PresetConfig("31b");
    CHECK(c.Variant() == "31B");
    CHECK(c.n_ctx_train == 262144);
    for (const LayerConfig& l : c.layers) {
      CHECK(l.n_kv_head == (l.sliding ? 16 : 4));
      CHECK(l.QDim() == (l.sliding ? 8192 : 16384));
      CHECK_FALSE(l.moe);
    }
  }
}

TEST_CASE("every variant and weight type round-trips through writer and reader", "[model]") {
  for (const char* preset : {"tiny", "tiny-e", "tiny-moe"}) {
    for (const char* type : {"F32", "F16", "BF16", "Q8_0", "Q4_0"}) {
      INFO(preset << " " << type);
      SynthSpec spec = SynthPreset(preset);
      SynthOptions opt;
      opt.type = type;
      const std::vector<uint8_t> bytes = BuildSynthWriter(spec, opt).WriteToBytes();
      // Deterministic: the same spec gives the same bytes.
      REQUIRE(BuildSynthWriter(spec, opt).WriteToBytes() == bytes);
      const GgufFile f = GgufFile::FromBytes(bytes, "synth.gguf");
      const ModelConfig c = ReadModelConfig(f);
      const ModelWeights w = BindWeights(f, c);
      CHECK(w.layers[0].attn_q.type == (std::string(type) == "F32" ? GgmlType::F32 : *ParseTypeName(type)));
      CHECK(f.FindTensor("blk.0.attn_norm.weight")->type == GgmlType::F32);
      // Copying every value and tensor reproduces the file byte for byte.
      CHECK(test::CopyOf(f).WriteToBytes() == bytes);
    }
  }
}

TEST_CASE("the F32 twin holds exactly the decoded quantized weights", "[model]") {
  const GgufFile q = GgufFile::Open(test::SynthModel("tiny", "Q4_0"));
  const GgufFile t = GgufFile::Open(test::SynthModel("tiny", "Q4_0", {}, true));
  REQUIRE(q.Tensors().size() == t.Tensors().size());
  const GgufTensor* qa = q.FindTensor("blk.3.attn_q.weight");
  const GgufTensor* ta = t.FindTensor("blk.3.attn_q.weight");
  CHECK(qa->type == GgmlType::Q4_0);
  CHECK(ta->type == GgmlType::F32);
  std::vector<float> dq(qa->n_elements);
  for (uint64_t r = 0; r < qa->Rows(); ++r) {
    DequantizeRow(GgmlType::Q4_0, qa->data + r * qa->RowBytes(), qa->ne[0], dq.data() + r * qa->ne[0]);
  }
  CHECK(std::memcmp(dq.data(), ta->data, ta->n_bytes) == 0);
}

TEST_CASE("broken metadata fails with the key named", "[model][bad]") {
  const GgufFile good = GgufFile::Open(test::SynthModel("tiny-e"));
  auto expect = [&](const std::function<void(GgufWriter&)>& edit, const std::string& needle) {
    GgufWriter w = test::CopyOf(good);
    edit(w);
    const std::string err = LoadError(w);
    INFO(err);
    CHECK_THAT(err, Catch::Contains(needle));
    CHECK(err.find('\n') == std::string::npos);
  };
  expect([](GgufWriter& w) { w.Set("general.architecture", V::String("llama")); },
         "architecture 'llama' is not supported");
  expect([](GgufWriter& w) { w.Remove("gemma4.block_count"); },
         "required key 'gemma4.block_count' is missing");
  expect([](GgufWriter& w) { w.Set("gemma4.block_count", V::String("10")); },
         "key 'gemma4.block_count' has type STRING");
  expect([](GgufWriter& w) { w.Set("gemma4.block_count", V::F32(10)); },
         "key 'gemma4.block_count' has type FLOAT32");
  expect([](GgufWriter& w) { w.Set("gemma4.block_count", V::I32(-3)); },
         "key 'gemma4.block_count' is -3");
  expect([](GgufWriter& w) { w.Set("gemma4.embedding_length", V::U64(1ull << 40)); },
         "key 'gemma4.embedding_length' is 1099511627776");
  expect([](GgufWriter& w) { w.Set("gemma4.attention.sliding_window_pattern", V::ArrayBool({true, false})); },
         "has 2 entries, expected 10 (one per layer)");
  expect([](GgufWriter& w) { w.Set("gemma4.attention.sliding_window_pattern", V::U32(5)); },
         "expected an array of BOOL");
  expect([](GgufWriter& w) { w.Set("gemma4.feed_forward_length", V::ArrayI32({256, 256})); },
         "'gemma4.feed_forward_length' has 2 entries");
  expect([](GgufWriter& w) { w.Set("gemma4.feed_forward_length", V::ArrayString({"a"})); },
         "expected integers");
  expect([](GgufWriter& w) { w.Set("gemma4.attention.head_count_kv", V::U32(3)); },
         "not a multiple of 3 KV heads");
  expect([](GgufWriter& w) { w.Set("gemma4.attention.value_length_swa", V::U32(16)); },
         "key and value head dims differ");
  expect([](GgufWriter& w) { w.Set("gemma4.attention.layer_norm_rms_epsilon", V::U32(1)); },
         "has type UINT32, expected FLOAT32");
  expect([](GgufWriter& w) { w.Set("gemma4.attention.shared_kv_layers", V::U32(9)); },
         "no earlier global layer owns a cache");
  expect([](GgufWriter& w) { w.Set("gemma4.embedding_length", V::U32(64)); },
         "tensor 'token_embd.weight' has shape [128, 1024], expected [64, n_vocab]");
  expect([](GgufWriter& w) { w.Set("gemma4.feed_forward_length", V::U32(256)); },
         "tensor 'blk.5.ffn_gate.weight' has shape [128, 512], expected [128, 256]");
  expect([](GgufWriter& w) { w.Set("gemma4.rope.freq_base", V::F32(std::nanf(""))); },
         "expected a finite number");
}

TEST_CASE("missing, mis-shaped and unusable tensors fail with the tensor named", "[model][bad]") {
  const GgufFile good = GgufFile::Open(test::SynthModel("tiny-e", "Q8_0"));
  auto expect_without = [&](std::string_view drop, const std::string& needle) {
    GgufWriter w = test::CopyOf(good, [&](std::string_view n) { return n != drop; });
    const std::string err = LoadError(w);
    INFO(err);
    CHECK_THAT(err, Catch::Contains(needle));
  };
  expect_without("blk.3.attn_q.weight", "required tensor 'blk.3.attn_q.weight' is missing");
  expect_without("blk.0.attn_k.weight", "required tensor 'blk.0.attn_k.weight' is missing");
  expect_without("output_norm.weight", "required tensor 'output_norm.weight' is missing");
  expect_without("per_layer_proj_norm.weight", "'per_layer_proj_norm.weight' is missing");
  expect_without("blk.9.proj.weight", "'blk.9.proj.weight' is missing");
  // Unused K/V weights on a shared layer may be absent.
  {
    GgufWriter w = test::CopyOf(good, [](std::string_view n) { return n != "blk.7.attn_k.weight"; });
    CHECK(LoadError(w).empty());
  }
  // A tensor of the right name with the wrong shape.
  {
    GgufWriter w = test::CopyOf(good, [](std::string_view n) { return n != "blk.2.attn_q_norm.weight"; });
    w.AddTensorData("blk.2.attn_q_norm.weight", GgmlType::F32, {16}, std::vector<uint8_t>(64));
    CHECK_THAT(LoadError(w), Catch::Contains("'blk.2.attn_q_norm.weight' has shape [16], expected [32]"));
  }
  // A type gemma-run cannot compute with.
  {
    GgufWriter w = test::CopyOf(good, [](std::string_view n) { return n != "blk.1.ffn_up.weight"; });
    w.AddTensorData("blk.1.ffn_up.weight", GgmlType::Q2_K, {256, 256}, std::vector<uint8_t>(84 * 256));
    CHECK_THAT(LoadError(w), Catch::Contains("'blk.1.ffn_up.weight' has shape [256, 256], expected [128, 256]"));
  }
  {
    GgufWriter w = test::CopyOf(good, [](std::string_view n) { return n != "token_embd.weight"; });
    w.AddTensorData("token_embd.weight", GgmlType::IQ2_XS, {256, 1024}, std::vector<uint8_t>(74 * 1024));
    CHECK_THAT(LoadError(w), Catch::Contains("shape [256, 1024], expected [128, n_vocab]"));
  }
  {
    GgufWriter w = test::CopyOf(good, [](std::string_view n) { return n != "blk.0.ffn_down.weight"; });
    w.AddTensorData("blk.0.ffn_down.weight", GgmlType::Q5_1, {256, 128}, std::vector<uint8_t>(24 * 8 * 128));
    CHECK_THAT(LoadError(w), Catch::Contains("'blk.0.ffn_down.weight' has type Q5_1, which gemma-run cannot compute with"));
  }
  // A norm holding NaN.
  {
    GgufWriter w = test::CopyOf(good, [](std::string_view n) { return n != "blk.4.ffn_norm.weight"; });
    std::vector<uint8_t> bytes(128 * 4, 0);
    const float nan = std::nanf("");
    std::memcpy(bytes.data() + 4 * 17, &nan, 4);
    w.AddTensorData("blk.4.ffn_norm.weight", GgmlType::F32, {128}, bytes);
    CHECK_THAT(LoadError(w), Catch::Contains("'blk.4.ffn_norm.weight' holds a non-finite value (nan) at index 17"));
  }
}

TEST_CASE("--info summary names the structure", "[model]") {
  const Model m = Model::Load(test::SynthModel("tiny-moe", "Q4_0"));
  const std::string s = DescribeModel(m);
  CHECK_THAT(s, Catch::Contains("experts:         8 (top 2), expert FFN 64"));
  CHECK_THAT(s, Catch::Contains("tensors:         133"));
  CHECK_THAT(s, Catch::Contains("Q4_0"));
  CHECK_THAT(s, Catch::Contains("    2  global         64      4         1     128  own         V=K   dense+moe"));
}

// llama.cpp's own reading of the same files (tests/data/llama_load.json, made by
// scripts/make-llama-load-fixture from its `print_info` log): our config, which --info prints,
// must describe the same structure.
TEST_CASE("config matches llama.cpp's reading of the same files", "[model][llama]") {
  std::ifstream in(test::DataPath("llama_load.json"));
  REQUIRE(in.good());
  const nlohmann::json fx = nlohmann::json::parse(in);
  REQUIRE(fx["entries"].size() >= 20);
  auto ints = [](const std::string& s) {  // "4" or "[2, 2, 1]"
    std::vector<int> v;
    for (size_t i = 0; i < s.size();) {
      if (std::isdigit(static_cast<unsigned char>(s[i]))) {
        size_t used = 0;
        v.push_back(std::stoi(s.substr(i), &used));
        i += used;
      } else {
        ++i;
      }
    }
    return v;
  };
  auto per_layer = [&](const std::string& s, int n) {
    std::vector<int> v = ints(s);
    if (v.size() == 1) v.assign(static_cast<size_t>(n), v[0]);
    return v;
  };
  for (const auto& e : fx["entries"]) {
    const std::string preset = e["preset"], type = e["type"];
    const std::vector<std::string> sets = e["sets"].get<std::vector<std::string>>();
    INFO(preset << " " << type);
    ModelConfig c;
    if (preset.rfind("tiny", 0) == 0) {
      const std::string path = test::SynthModel(preset, type, sets);
      CHECK(fmt::format("{:016x}", FileFingerprint(path)) == e["fingerprint"].get<std::string>());
      c = Model::Load(path).config;
    } else {
      c = PresetConfig(preset, sets);
    }
    const auto& l = e["llama_cpp"];
    CHECK(l["arch"] == "gemma4");
    CHECK(std::stoi(l["n_layer"].get<std::string>()) == c.n_layer);
    CHECK(std::stoi(l["n_embd"].get<std::string>()) == c.n_embd);
    CHECK(std::stoi(l["n_ctx_train"].get<std::string>()) == c.n_ctx_train);
    CHECK(std::stoi(l["n_vocab"].get<std::string>()) == c.n_vocab);
    CHECK(std::stoi(l["n_embd_head_k"].get<std::string>()) == c.head_dim_full);
    CHECK(std::stoi(l["n_embd_head_k_swa"].get<std::string>()) == c.head_dim_swa);
    CHECK(std::stoi(l["n_swa"].get<std::string>()) == c.sliding_window);
    CHECK(std::stoi(l["n_expert"].get<std::string>()) == c.n_expert);
    CHECK(std::stoi(l["n_expert_used"].get<std::string>()) == c.n_expert_used);
    CHECK(std::stof(l["freq_base_train"].get<std::string>()) == c.rope_base_full);
    CHECK(std::stof(l["freq_base_swa"].get<std::string>()) == c.rope_base_swa);
    const std::vector<int> heads = per_layer(l["n_head"], c.n_layer);
    const std::vector<int> kv = per_layer(l["n_head_kv"], c.n_layer);
    const std::vector<int> ff = per_layer(l["n_ff"], c.n_layer);
    REQUIRE(kv.size() == c.layers.size());
    REQUIRE(ff.size() == c.layers.size());
    for (const LayerConfig& lc : c.layers) {
      CHECK(heads[lc.index] == lc.n_head);
      CHECK(kv[lc.index] == lc.n_kv_head);
      CHECK(ff[lc.index] == lc.ffn_dim);
      CHECK(lc.rope_dims == (lc.sliding ? std::stoi(l["n_rot_swa"].get<std::string>())
                                        : std::stoi(l["n_rot"].get<std::string>())));
    }
    // llama.cpp names the published shapes by layer count: E2B, E4B, 26B.A4B, 31B.
    const std::string type_name = l["model type"];
    if (c.Variant() == "custom") {
      CHECK(type_name == "?B");
    } else {
      std::string v = c.Variant();
      std::replace(v.begin(), v.end(), '-', '.');
      CHECK(type_name == v);
    }
  }
}
