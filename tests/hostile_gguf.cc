#include "tests/hostile_gguf.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "runtime/gguf.h"
#include "runtime/gguf_writer.h"
#include "runtime/synth.h"
#include "tests/fuzz/seeds.h"
#include "tests/gguf_layout.h"

namespace gemma::test {

namespace {

using V = GgufWriteValue;
using Stage = HostileFile::Stage;

// The three small models everything starts from: dense (Q8_0), E-style with per-layer
// embeddings and KV sharing (Q4_0), MoE with K=V global layers (Q8_0).
GgufWriter Base(const std::string& preset) {
  SynthOptions opt;
  opt.type = preset == "tiny-e" ? "Q4_0" : "Q8_0";
  return BuildSynthWriter(fuzz::SmallSpec(preset), opt);
}

std::vector<uint8_t> BaseBytes(const std::string& preset) { return Base(preset).WriteToBytes(); }

template <typename T>
std::vector<uint8_t> Poke(std::vector<uint8_t> b, size_t pos, T v) {
  std::memcpy(b.data() + pos, &v, sizeof(T));
  return b;
}

std::vector<uint8_t> F32Bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

class Corpus {
 public:
  void Add(std::string name, std::vector<uint8_t> bytes, std::vector<std::string> expect,
           Stage stage = Stage::kLoad) {
    files_.push_back({std::move(name) + ".gguf", std::move(bytes), std::move(expect), stage});
  }
  // A base model with `edit` applied to its writer.
  void Edit(std::string name, const std::string& preset, const std::function<void(GgufWriter&)>& edit,
            std::vector<std::string> expect, Stage stage = Stage::kLoad) {
    GgufWriter w = Base(preset);
    edit(w);
    Add(std::move(name), w.WriteToBytes(), std::move(expect), stage);
  }
  // A base model with tensor `name` replaced by F32 `values` of shape `ne`.
  void ReplaceTensor(std::string file, const std::string& preset, const std::string& tensor,
                     GgmlType type, std::vector<uint64_t> ne, std::vector<uint8_t> data,
                     std::vector<std::string> expect, Stage stage = Stage::kLoad) {
    Edit(std::move(file), preset, [&](GgufWriter& w) {
      w.RemoveTensorsIf([&](std::string_view n) { return n == tensor; });
      w.AddTensorData(tensor, type, ne, data);
    }, std::move(expect), stage);
  }
  std::vector<HostileFile> Take() { return std::move(files_); }

 private:
  std::vector<HostileFile> files_;
};

// ---- the file as a whole: header, counts, truncation ------------------------------------------

void Header(Corpus& c) {
  const std::vector<uint8_t> good = BaseBytes("tiny");
  c.Add("empty", {}, {"truncated"});
  c.Add("three-bytes", {'G', 'G', 'U'}, {"truncated"});
  c.Add("magic-ggml", Poke<uint32_t>(good, 0, 0x4c4d4747), {"not a GGUF file"});
  c.Add("magic-big-endian", Poke<uint32_t>(good, 0, 0x47475546), {"big-endian"});
  c.Add("version-1", Poke<uint32_t>(good, 4, 1), {"GGUF version 1 is not supported"});
  c.Add("version-4", Poke<uint32_t>(good, 4, 4), {"GGUF version 4 is not supported"});
  c.Add("tensor-count-2^63", Poke<uint64_t>(good, 8, 1ull << 63), {"tensor count 9223372036854775808 exceeds"});
  c.Add("metadata-count-2^62", Poke<uint64_t>(good, 16, 1ull << 62), {"metadata count 4611686018427387904 exceeds"});
  const GgufLayout l = LayoutOf(good);
  uint64_t n_tensors, n_kv;
  std::memcpy(&n_tensors, &good[8], 8);
  std::memcpy(&n_kv, &good[16], 8);
  // Counts off by one: records are read as the wrong kind; any clean error will do.
  c.Add("tensor-count-plus-1", Poke<uint64_t>(good, 8, n_tensors + 1), {});
  // (Minus one would drop only the optional last tensor and shift the data section: that
  // file is well-formed and cannot be told from an honest one.)
  c.Add("tensor-count-minus-2", Poke<uint64_t>(good, 8, n_tensors - 2), {});
  c.Add("metadata-count-plus-1", Poke<uint64_t>(good, 16, n_kv + 1), {});
  c.Add("metadata-count-minus-1", Poke<uint64_t>(good, 16, n_kv - 1), {});
  c.Add("key-length-2^63", Poke<uint64_t>(good, l.kvs[0].key_len_pos, 1ull << 63), {"truncated"});
  c.Add("key-length-past-end", Poke<uint64_t>(good, l.kvs[0].key_len_pos, good.size()), {"truncated"});
  c.Add("key-length-0", Poke<uint64_t>(good, l.kvs[0].key_len_pos, 0), {});
  c.Add("value-type-13", Poke<uint32_t>(good, l.FindKv("gemma4.block_count").type_pos, 13),
        {"key 'gemma4.block_count': unknown value type 13"});
  c.Add("value-type-2^32-1", Poke<uint32_t>(good, l.FindKv("gemma4.block_count").type_pos, ~0u),
        {"unknown value type 4294967295"});
  c.Add("string-length-2^62", Poke<uint64_t>(good, l.FindKv("general.architecture").value_pos, 1ull << 62),
        {"truncated: general.architecture needs 4611686018427387904 bytes"});
  const auto& tokens = l.FindKv("tokenizer.ggml.tokens");
  c.Add("array-elem-type-13", Poke<uint32_t>(good, tokens.value_pos, 13), {"unknown array element type 13"});
  c.Add("array-count-2^63", Poke<uint64_t>(good, tokens.value_pos + 4, 1ull << 63),
        {"array of 9223372036854775808 STRING runs past the end"});
  c.Add("array-count-2^64-1", Poke<uint64_t>(good, tokens.value_pos + 4, ~0ull), {"runs past the end"});
  c.Add("array-string-length-2^63", Poke<uint64_t>(good, tokens.value_pos + 12, 1ull << 63),
        {"truncated: tokenizer.ggml.tokens needs"});
  // count * 4 wraps to a small number of bytes.
  c.Add("array-count-times-4-wraps", Poke<uint64_t>(good, l.FindKv("tokenizer.ggml.scores").value_pos + 4,
                                                    (1ull << 62) + 1), {"FLOAT32 runs past the end"});
  c.Add("bool-array-longer", Poke<uint64_t>(good, l.FindKv("gemma4.attention.sliding_window_pattern").value_pos + 4, 1000), {});
  // Nested arrays deeper than the reader follows.
  V deep = V::ArrayI32({1});
  for (int i = 0; i < 12; ++i) deep = V::Array(GgufType::ARRAY, {deep});
  c.Edit("arrays-nested-13-deep", "tiny", [&](GgufWriter& w) { w.Set("gemma4.deep", deep); }, {"nested too deeply"});
  // Two keys of equal length: rename one into the other.
  std::vector<uint8_t> dup = good;
  dup[l.FindKv("tokenizer.ggml.bos_token_id").key_len_pos + 8 + 15] = 'e';
  c.Add("duplicate-key", dup, {"metadata key 'tokenizer.ggml.eos_token_id' appears twice"});
}

void Truncations(Corpus& c) {
  const std::vector<uint8_t> good = BaseBytes("tiny-e");
  const GgufLayout l = LayoutOf(good);
  const GgufFile f = GgufFile::FromBytes(good, "x");
  const GgufTensor& last = f.Tensors().back();
  const size_t data_end = f.DataOffset() + last.offset + last.n_bytes;
  std::vector<size_t> cuts = {1, 4, 7, 8, 15, 23, 24, 31};
  for (int i = 0; i < 32; ++i) cuts.push_back(32 + (l.header_end - 32) * i / 32);  // metadata, infos
  for (size_t k : {l.header_end - 1, l.header_end, f.DataOffset()}) cuts.push_back(k);
  for (int i = 1; i < 12; ++i) cuts.push_back(f.DataOffset() + (data_end - f.DataOffset()) * i / 12);
  cuts.push_back(data_end - 1);
  for (size_t n : cuts) {
    c.Add("truncated-at-" + std::to_string(n), std::vector<uint8_t>(good.begin(), good.begin() + n),
          {"truncated | runs past the end"});
  }
}

// ---- tensor records: lying offsets, sizes, dims and types ------------------------------------

void TensorRecords(Corpus& c) {
  const std::vector<uint8_t> good = BaseBytes("tiny");
  const GgufLayout l = LayoutOf(good);
  const auto& q = l.FindTensor("blk.0.attn_q.weight");       // Q8_0 [32, 32]
  const auto& last = l.tensors.back();
  c.Add("offset-past-end", Poke<uint64_t>(good, last.offset_pos, good.size()), {"runs past the end of the file"});
  c.Add("offset-near-2^64", Poke<uint64_t>(good, q.offset_pos, ~0ull - 31), {"runs past the end of the file"});
  c.Add("offset-misaligned", Poke<uint64_t>(good, q.offset_pos, 33), {"not a multiple of the alignment 32"});
  c.Add("size-lie-last-tensor", Poke<uint64_t>(good, last.ne_pos, 1ull << 20), {"runs past the end of the file"});
  c.Add("size-lie-rows", Poke<uint64_t>(good, q.ne_pos + 8, 64), {"'blk.0.attn_q.weight' has shape [32, 64], expected [32, 32]"});
  c.Add("dims-product-overflows-2^64", Poke<uint64_t>(Poke<uint64_t>(good, q.ne_pos, 1ull << 32), q.ne_pos + 8, 1ull << 32),
        {"tensor 'blk.0.attn_q.weight': element count overflows"});
  c.Add("dims-product-2^62", Poke<uint64_t>(Poke<uint64_t>(good, q.ne_pos, 1ull << 31), q.ne_pos + 8, 1ull << 31),
        {"element count overflows"});
  c.Add("dim-2^40", Poke<uint64_t>(good, q.ne_pos, 1ull << 40), {"runs past the end of the file"});
  c.Add("dim-0", Poke<uint64_t>(good, q.ne_pos + 8, 0), {"tensor 'blk.0.attn_q.weight': dimension 1 is 0"});
  c.Add("row-not-whole-blocks", Poke<uint64_t>(good, q.ne_pos, 33), {"row length 33 is not a multiple of the Q8_0 block size 32"});
  c.Add("n-dims-5", Poke<uint32_t>(good, q.n_dims_pos, 5), {"5 dimensions, expected 1 to 4"});
  c.Add("n-dims-0", Poke<uint32_t>(good, q.n_dims_pos, 0), {"0 dimensions, expected 1 to 4"});
  c.Add("tensor-name-empty", Poke<uint64_t>(good, q.name_len_pos, 0), {"a tensor has an empty name"});
  c.Add("tensor-name-length-2^63", Poke<uint64_t>(good, q.name_len_pos, 1ull << 63), {"truncated"});
  c.Add("weight-type-99", Poke<uint32_t>(good, q.type_pos, 99), {"tensor 'blk.0.attn_q.weight': unknown weight type 99"});
  c.Add("weight-type-4-removed", Poke<uint32_t>(good, q.type_pos, 4), {"unknown weight type 4"});
  c.Add("weight-type-2^31", Poke<uint32_t>(good, q.type_pos, 1u << 31), {"unknown weight type 2147483648"});
  // Same-length names: the second becomes a copy of the first.
  std::vector<uint8_t> dup = good;
  dup[l.FindTensor("blk.1.attn_q.weight").name_len_pos + 8 + 4] = '0';
  c.Add("duplicate-tensor-name", dup, {"tensor 'blk.0.attn_q.weight' appears twice"});
}

void Alignment(Corpus& c) {
  c.Edit("alignment-48", "tiny", [](GgufWriter& w) { w.Set("general.alignment", V::U32(48)); },
         {"key 'general.alignment' is 48, expected a power of two"});
  c.Edit("alignment-0", "tiny", [](GgufWriter& w) { w.Set("general.alignment", V::U32(0)); },
         {"key 'general.alignment' is 0"});
  c.Edit("alignment-2^30", "tiny", [](GgufWriter& w) { w.Set("general.alignment", V::U64(1ull << 30)); },
         {"key 'general.alignment' is 1073741824"});
  c.Edit("alignment-string", "tiny", [](GgufWriter& w) { w.Set("general.alignment", V::String("32")); },
         {"key 'general.alignment' has type STRING, expected UINT32"});
  c.Edit("alignment-float", "tiny", [](GgufWriter& w) { w.Set("general.alignment", V::F32(32)); },
         {"key 'general.alignment' has type FLOAT32, expected UINT32"});
  c.Edit("alignment-2", "tiny", [](GgufWriter& w) {
    w.SetAlignment(2);
    w.Set("general.alignment", V::U32(2));
  }, {"key 'general.alignment' is 2, expected a power of two from 8"});
  c.Edit("alignment-2^21", "tiny", [](GgufWriter& w) { w.Set("general.alignment", V::U32(1u << 21)); },
         {"key 'general.alignment' is 2097152"});
}

// ---- metadata: every gemma4 key with a wrong type, and bad values ----------------------------

enum class Kind { kInt, kPerLayer, kFloat, kBoolArray, kString };

struct KeySpec {
  const char* key;
  Kind kind;
  const char* preset;  // a model where the key is read
};

const KeySpec kKeys[] = {
    {"general.architecture", Kind::kString, "tiny"},
    {"gemma4.context_length", Kind::kInt, "tiny"},
    {"gemma4.embedding_length", Kind::kInt, "tiny"},
    {"gemma4.block_count", Kind::kInt, "tiny"},
    {"gemma4.feed_forward_length", Kind::kPerLayer, "tiny"},
    {"gemma4.attention.head_count", Kind::kPerLayer, "tiny"},
    {"gemma4.attention.head_count_kv", Kind::kPerLayer, "tiny"},
    {"gemma4.attention.key_length", Kind::kInt, "tiny"},
    {"gemma4.attention.value_length", Kind::kInt, "tiny"},
    {"gemma4.attention.key_length_swa", Kind::kInt, "tiny"},
    {"gemma4.attention.value_length_swa", Kind::kInt, "tiny"},
    {"gemma4.attention.layer_norm_rms_epsilon", Kind::kFloat, "tiny"},
    {"gemma4.attention.sliding_window", Kind::kInt, "tiny"},
    {"gemma4.attention.sliding_window_pattern", Kind::kBoolArray, "tiny"},
    {"gemma4.attention.shared_kv_layers", Kind::kInt, "tiny-e"},
    {"gemma4.embedding_length_per_layer_input", Kind::kInt, "tiny-e"},
    {"gemma4.rope.dimension_count", Kind::kInt, "tiny"},
    {"gemma4.rope.dimension_count_swa", Kind::kInt, "tiny"},
    {"gemma4.rope.freq_base", Kind::kFloat, "tiny"},
    {"gemma4.rope.freq_base_swa", Kind::kFloat, "tiny"},
    {"gemma4.final_logit_softcapping", Kind::kFloat, "tiny"},
    {"gemma4.expert_count", Kind::kInt, "tiny-moe"},
    {"gemma4.expert_used_count", Kind::kInt, "tiny-moe"},
    {"gemma4.expert_feed_forward_length", Kind::kPerLayer, "tiny-moe"},
};

void WrongKeyTypes(Corpus& c) {
  for (const KeySpec& k : kKeys) {
    const std::string key = k.key;
    const std::string named = "key '" + key + "'";
    auto add = [&](const char* what, V v, std::string expect) {
      c.Edit(key + "-as-" + what, k.preset, [&](GgufWriter& w) { w.Set(key, v); }, {named, expect});
    };
    switch (k.kind) {
      case Kind::kInt:
        add("string", V::String("7"), "has type STRING");
        add("float", V::F32(7), "has type FLOAT32");
        add("bool", V::Bool(true), "has type BOOL");
        add("array", V::ArrayI32({7}), "has type ARRAY");
        break;
      case Kind::kPerLayer:
        add("string", V::String("7"), "has type STRING");
        add("float", V::F32(7), "has type FLOAT32");
        add("string-array", V::ArrayString({"7", "7", "7"}), "is an array of STRING, expected integers");
        add("float-array", V::ArrayF32({7, 7, 7}), "is an array of FLOAT32, expected integers");
        add("nested-array", V::Array(GgufType::ARRAY, {V::ArrayI32({7}), V::ArrayI32({7}), V::ArrayI32({7})}),
            "is an array of ARRAY, expected integers");
        break;
      case Kind::kFloat:
        add("string", V::String("1"), "has type STRING, expected FLOAT32");
        add("uint32", V::U32(1), "has type UINT32, expected FLOAT32");
        add("bool", V::Bool(true), "has type BOOL, expected FLOAT32");
        add("array", V::ArrayF32({1}), "has type ARRAY, expected FLOAT32");
        break;
      case Kind::kBoolArray:
        add("uint32", V::U32(5), "has type UINT32, expected an array of BOOL");
        add("bool", V::Bool(true), "has type BOOL, expected an array of BOOL");
        add("int-array", V::ArrayI32({1, 1, 0}), "has type ARRAY of INT32, expected an array of BOOL");
        break;
      case Kind::kString:
        add("uint32", V::U32(4), "has type UINT32, expected STRING");
        add("string-array", V::ArrayString({"gemma4"}), "has type ARRAY, expected STRING");
        break;
    }
  }
}

void BadKeyValues(Corpus& c) {
  auto set = [&](std::string name, const char* preset, const std::string& key, V v, std::vector<std::string> expect) {
    c.Edit(std::move(name), preset, [&](GgufWriter& w) { w.Set(key, v); }, std::move(expect));
  };
  const std::string a = "gemma4.";
  set("architecture-llama", "tiny", "general.architecture", V::String("llama"), {"architecture 'llama' is not supported"});
  set("architecture-empty", "tiny", "general.architecture", V::String(""), {"architecture '' is not supported"});
  c.Edit("architecture-missing", "tiny", [](GgufWriter& w) { w.Remove("general.architecture"); },
         {"required key 'general.architecture' is missing"});
  for (const char* k : {"block_count", "embedding_length", "context_length", "attention.key_length_swa",
                        "attention.sliding_window", "attention.layer_norm_rms_epsilon"}) {
    c.Edit(std::string(k) + "-missing", "tiny", [&](GgufWriter& w) { w.Remove(a + k); },
           {"required key '" + a + k + "' is missing"});
  }
  set("block_count-0", "tiny", a + "block_count", V::U32(0), {"key 'gemma4.block_count' is 0, expected a value in [1, 1024]"});
  set("block_count-5000", "tiny", a + "block_count", V::U32(5000), {"key 'gemma4.block_count' is 5000"});
  set("block_count-negative", "tiny", a + "block_count", V::I32(-1), {"key 'gemma4.block_count' is -1"});
  set("block_count-2^63", "tiny", a + "block_count", V::U64(1ull << 63), {"key 'gemma4.block_count' is 9223372036854775808"});
  set("block_count-more-than-tensors", "tiny", a + "block_count", V::U32(4), {"has 3 entries, expected 4"});
  set("embedding_length-0", "tiny", a + "embedding_length", V::U32(0), {"key 'gemma4.embedding_length' is 0"});
  set("embedding_length-wrong", "tiny", a + "embedding_length", V::U32(64), {"tensor 'token_embd.weight' has shape [32, 400], expected [64, n_vocab]"});
  set("context_length-0", "tiny", a + "context_length", V::U32(0), {"key 'gemma4.context_length' is 0"});
  set("head_count-0", "tiny", a + "attention.head_count", V::U32(0), {"key 'gemma4.attention.head_count' is 0"});
  set("head_count_kv-0", "tiny", a + "attention.head_count_kv", V::U32(0), {"key 'gemma4.attention.head_count_kv' is 0"});
  set("head_count_kv-not-divisor", "tiny", a + "attention.head_count_kv", V::U32(3), {"query heads are not a multiple of 3 KV heads"});
  set("key_length-differs-from-value", "tiny", a + "attention.key_length", V::U32(64), {"key and value head dims differ"});
  c.Edit("head-dim-odd", "tiny", [&](GgufWriter& w) {
    w.Set(a + "attention.key_length", V::U32(31));
    w.Set(a + "attention.value_length", V::U32(31));
  }, {"must be even"});
  c.Edit("head-dim-swa-wrong", "tiny", [&](GgufWriter& w) {
    w.Set(a + "attention.key_length_swa", V::U32(64));
    w.Set(a + "attention.value_length_swa", V::U32(64));
  }, {"tensor 'blk.0.attn_q.weight' has shape [32, 32], expected [32, 128]"});
  for (float eps : {0.0f, -1.0f, 1.0f}) {
    set("eps-" + std::to_string(static_cast<int>(eps)), "tiny", a + "attention.layer_norm_rms_epsilon", V::F32(eps),
        {"key 'gemma4.attention.layer_norm_rms_epsilon' is", "expected a small positive number"});
  }
  set("eps-nan", "tiny", a + "attention.layer_norm_rms_epsilon", V::F32(std::nanf("")), {"is nan, expected a finite number"});
  set("eps-inf", "tiny", a + "attention.layer_norm_rms_epsilon", V::F32(INFINITY), {"is inf, expected a finite number"});
  set("eps-f64-huge", "tiny", a + "attention.layer_norm_rms_epsilon", V::F64(1e300), {"'gemma4.attention.layer_norm_rms_epsilon' is 1e+300, expected a finite number"});
  set("sliding_window-0", "tiny", a + "attention.sliding_window", V::U32(0), {"key 'gemma4.attention.sliding_window' is 0"});
  set("rope-dims-0", "tiny", a + "rope.dimension_count", V::U32(0), {"key 'gemma4.rope.dimension_count' is 0, expected a value in [2, 32]"});
  set("rope-dims-above-head-dim", "tiny", a + "rope.dimension_count_swa", V::U32(1000), {"'gemma4.rope.dimension_count_swa' is 1000"});
  set("rope-base-1", "tiny", a + "rope.freq_base", V::F32(1), {"RoPE bases 1 / 10000 must be greater than 1"});
  set("rope-base-negative", "tiny", a + "rope.freq_base_swa", V::F32(-5), {"must be greater than 1"});
  set("rope-base-nan", "tiny", a + "rope.freq_base", V::F32(std::nanf("")), {"'gemma4.rope.freq_base' is nan"});
  set("rope-base-inf", "tiny", a + "rope.freq_base_swa", V::F32(INFINITY), {"'gemma4.rope.freq_base_swa' is inf"});
  set("softcap-negative", "tiny", a + "final_logit_softcapping", V::F32(-1), {"final_logit_softcapping -1 is negative"});
  set("softcap-nan", "tiny", a + "final_logit_softcapping", V::F32(std::nanf("")), {"'gemma4.final_logit_softcapping' is nan"});
  set("shared-kv-all-layers", "tiny-e", a + "attention.shared_kv_layers", V::U32(4), {"'gemma4.attention.shared_kv_layers' is 4, expected a value in [0, 3]"});
  set("shared-kv-no-global-source", "tiny-e", a + "attention.shared_kv_layers", V::U32(3), {"layer 1 shares K/V", "no earlier global layer owns a cache"});
  set("ple-width-wrong", "tiny-e", a + "embedding_length_per_layer_input", V::U32(64), {"tensor 'per_layer_token_embd.weight' has shape [128, 400], expected [256, 400]"});
  set("ple-width-0-with-ple-tensors", "tiny-e", a + "embedding_length_per_layer_input", V::U32(0), {"is not used"});
  set("expert-count-0-with-experts", "tiny-moe", a + "expert_count", V::U32(0), {"is not used"});
  set("expert-count-wrong", "tiny-moe", a + "expert_count", V::U32(2), {"tensor 'blk.0.ffn_gate_inp.weight' has shape [32, 4], expected [32, 2]"});
  set("experts-used-0", "tiny-moe", a + "expert_used_count", V::U32(0), {"'gemma4.expert_used_count' is 0, expected a value in [1, 4]"});
  set("experts-used-above-count", "tiny-moe", a + "expert_used_count", V::U32(9), {"'gemma4.expert_used_count' is 9"});
  set("expert-ffn-wrong", "tiny-moe", a + "expert_feed_forward_length", V::U32(64), {"'blk.0.ffn_gate_up_exps.weight' has shape [32, 64, 4], expected [32, 128, 4]"});
  set("expert-ffn-0", "tiny-moe", a + "expert_feed_forward_length", V::U32(0), {"'gemma4.expert_feed_forward_length' is 0"});
}

void PerLayerArrays(Corpus& c) {
  auto set = [&](std::string name, const char* preset, const std::string& key, V v, std::vector<std::string> expect) {
    c.Edit(std::move(name), preset, [&](GgufWriter& w) { w.Set("gemma4." + key, v); }, std::move(expect));
  };
  set("ffn-array-short", "tiny", "feed_forward_length", V::ArrayI32({32, 32}), {"'gemma4.feed_forward_length' has 2 entries, expected 3 (one per layer)"});
  set("ffn-array-long", "tiny", "feed_forward_length", V::ArrayI32({32, 32, 32, 32}), {"has 4 entries, expected 3"});
  set("ffn-array-empty", "tiny", "feed_forward_length", V::ArrayI32({}), {"has 0 entries, expected 3"});
  set("ffn-array-zero-entry", "tiny", "feed_forward_length", V::ArrayI32({32, 0, 32}), {"'gemma4.feed_forward_length[1]' is 0"});
  set("ffn-array-negative-entry", "tiny", "feed_forward_length", V::ArrayI32({32, 32, -32}), {"'gemma4.feed_forward_length[2]' is -32"});
  set("ffn-array-u64-huge-entry", "tiny", "feed_forward_length",
      V::Array(GgufType::U64, {V::U64(32), V::U64(~0ull), V::U64(32)}), {"'gemma4.feed_forward_length[1]' is 18446744073709551615"});
  set("ffn-array-disagrees-with-tensors", "tiny", "feed_forward_length", V::ArrayI32({32, 64, 32}),
      {"tensor 'blk.1.ffn_gate.weight' has shape [32, 32], expected [32, 64]"});
  set("heads-array-zero-entry", "tiny", "attention.head_count", V::ArrayI32({2, 0, 2}), {"'gemma4.attention.head_count[1]' is 0"});
  set("kv-heads-array-short", "tiny", "attention.head_count_kv", V::ArrayI32({2, 2}), {"has 2 entries, expected 3"});
  set("kv-heads-not-divisor", "tiny-moe", "attention.head_count_kv", V::ArrayI32({2, 2, 3}), {"layer 2: 2 query heads are not a multiple of 3 KV heads"});
  set("kv-heads-shared-layer-differs", "tiny-e", "attention.head_count_kv", V::ArrayI32({1, 1, 2, 1}),
      {"layer 2 has 2 KV heads but reads the cache of layer 0 with 1"});
  set("pattern-short", "tiny", "attention.sliding_window_pattern", V::ArrayBool({true, false}), {"has 2 entries, expected 3"});
  set("pattern-shared-without-source", "tiny-e", "attention.sliding_window_pattern", V::ArrayBool({true, true, true, false}),
      {"layer 3 shares K/V", "no earlier global layer owns a cache"});
  set("pattern-all-sliding", "tiny", "attention.sliding_window_pattern", V::ArrayBool({true, true, true}),
      {"tensor 'blk.2.attn_q.weight' has shape [32, 64], expected [32, 32]"});
  set("expert-ffn-array-short", "tiny-moe", "expert_feed_forward_length", V::ArrayI32({32, 32}), {"has 2 entries, expected 3"});
}

// ---- tensors: missing, extra, non-finite, unusable types -------------------------------------

void Tensors(Corpus& c) {
  auto drop = [&](const char* preset, const std::string& tensor) {
    c.Edit("missing-" + tensor, preset, [&](GgufWriter& w) { w.RemoveTensorsIf([&](std::string_view n) { return n == tensor; }); },
           {"required tensor '" + tensor + "' is missing"});
  };
  drop("tiny", "token_embd.weight");
  drop("tiny", "output_norm.weight");
  drop("tiny", "blk.2.ffn_down.weight");
  drop("tiny-e", "per_layer_proj_norm.weight");
  drop("tiny-moe", "blk.1.ffn_down_exps.weight");
  c.Edit("extra-tensor", "tiny", [](GgufWriter& w) {
    w.AddTensorData("v.patch_embd.weight", GgmlType::F32, {8}, std::vector<uint8_t>(32));
  }, {"tensor 'v.patch_embd.weight' is not used"});
  c.Edit("extra-layer-tensor", "tiny", [](GgufWriter& w) {
    w.AddTensorData("blk.3.attn_q.weight", GgmlType::F32, {32, 32}, std::vector<uint8_t>(4096));
  }, {"tensor 'blk.3.attn_q.weight' is not used"});

  const uint16_t f16_nan = 0x7e00;
  for (const auto& [tensor, value, preset] : std::vector<std::tuple<std::string, float, const char*>>{
           {"blk.0.attn_norm.weight", std::nanf(""), "tiny"},
           {"output_norm.weight", INFINITY, "tiny"},
           {"blk.1.attn_q_norm.weight", -INFINITY, "tiny"},
           {"blk.2.layer_output_scale.weight", std::nanf(""), "tiny"},
           {"rope_freqs.weight", INFINITY, "tiny"},
           {"blk.3.post_norm.weight", std::nanf(""), "tiny-e"},
           {"blk.0.ffn_gate_inp.scale", INFINITY, "tiny-moe"},
           {"blk.2.ffn_down_exps.scale", std::nanf(""), "tiny-moe"}}) {
    GgufWriter w = Base(preset);
    const GgufFile f = GgufFile::FromBytes(w.WriteToBytes(), "x");
    const GgufTensor* t = f.FindTensor(tensor);
    std::vector<float> v(t->n_elements, 1.0f);
    v[v.size() / 2] = value;
    c.ReplaceTensor("nonfinite-" + tensor, preset, tensor, GgmlType::F32, {t->ne.begin(), t->ne.begin() + t->n_dims},
                    F32Bytes(v), {"tensor '" + tensor + "' holds a non-finite value"});
  }
  {
    std::vector<uint8_t> b(32 * 2, 0x00);
    for (int i = 0; i < 32; ++i) b[2 * i + 1] = 0x3c;  // 1.0
    std::memcpy(&b[2 * 7], &f16_nan, 2);
    c.ReplaceTensor("nonfinite-f16-norm", "tiny", "blk.1.ffn_norm.weight", GgmlType::F16, {32}, b,
                    {"tensor 'blk.1.ffn_norm.weight' holds a non-finite value (nan) at index 7"});
  }
  c.ReplaceTensor("norm-quantized", "tiny", "blk.0.post_ffw_norm.weight", GgmlType::Q8_0, {32},
                  std::vector<uint8_t>(34), {"tensor 'blk.0.post_ffw_norm.weight' has type Q8_0, expected F32"});
  c.ReplaceTensor("matrix-q5_1", "tiny", "blk.1.ffn_up.weight", GgmlType::Q5_1, {32, 32},
                  std::vector<uint8_t>(24 * 32), {"'blk.1.ffn_up.weight' has type Q5_1, which gemma-run cannot compute with"});
  c.ReplaceTensor("matrix-iq2_xs", "tiny", "token_embd.weight", GgmlType::IQ2_XS, {256, 400},
                  std::vector<uint8_t>(74 * 400), {"tensor 'token_embd.weight' has shape [256, 400], expected [32, n_vocab]"});
  c.ReplaceTensor("matrix-1d", "tiny", "blk.0.attn_output.weight", GgmlType::F32, {1024},
                  std::vector<uint8_t>(4096), {"'blk.0.attn_output.weight' has shape [1024], expected [32, 32]"});
}

// ---- tokenizer metadata (the model itself loads) ---------------------------------------------

void TokenizerKeys(Corpus& c) {
  auto set = [&](std::string name, const std::string& key, V v, std::string expect) {
    c.Edit("tokenizer-" + name, "tiny", [&](GgufWriter& w) { w.Set(key, v); }, {expect}, Stage::kTokenizer);
  };
  set("model-llama", "tokenizer.ggml.model", V::String("llama"), "tokenizer.ggml.model is \"llama\", expected \"gemma4\"");
  set("model-uint32", "tokenizer.ggml.model", V::U32(1), "'tokenizer.ggml.model' has type UINT32, expected STRING");
  set("tokens-not-array", "tokenizer.ggml.tokens", V::String("a"), "'tokenizer.ggml.tokens' has type STRING, expected an array");
  set("tokens-ints", "tokenizer.ggml.tokens", V::ArrayI32({1, 2}), "tokenizer.ggml.tokens holds INT32, expected STRING");
  set("tokens-empty", "tokenizer.ggml.tokens", V::ArrayString({}), "tokenizer.ggml.token_type has 400 entries, expected 0");
  set("types-short", "tokenizer.ggml.token_type", V::ArrayI32({1, 1}), "tokenizer.ggml.token_type has 2 entries, expected 400");
  set("types-floats", "tokenizer.ggml.token_type", V::ArrayF32({1}), "tokenizer.ggml.token_type holds FLOAT32, expected INT32");
  set("types-strings", "tokenizer.ggml.token_type", V::ArrayString({"1"}), "tokenizer.ggml.token_type holds STRING");
  std::vector<int32_t> types(400, 1);
  types[5] = 9;
  set("types-value-9", "tokenizer.ggml.token_type", V::ArrayI32(types), "tokenizer.ggml.token_type[5] is 9, expected 0..6");
  types[5] = 6;  // "<|turn>" claimed to be a byte piece
  set("types-byte-not-byte-piece", "tokenizer.ggml.token_type", V::ArrayI32(types), "has type BYTE, expected the form <0xXX>");
  set("scores-short", "tokenizer.ggml.scores", V::ArrayF32({0}), "tokenizer.ggml.scores has 1 entries, expected 400");
  set("scores-ints", "tokenizer.ggml.scores", V::ArrayI32({0}), "tokenizer.ggml.scores holds INT32, expected FLOAT32");
  set("merges-missing-piece", "tokenizer.ggml.merges", V::ArrayString({"\xE2\x96\x81 zzz"}), "tokenizer.ggml.merges[0] joins");
  set("merges-no-space", "tokenizer.ggml.merges", V::ArrayString({"ab"}), "tokenizer.ggml.merges[0] is 'ab', expected two pieces");
  set("merges-ints", "tokenizer.ggml.merges", V::ArrayI32({1}), "tokenizer.ggml.merges holds INT32, expected STRING");
  set("bos-outside-vocab", "tokenizer.ggml.bos_token_id", V::U32(1000000), "tokenizer.ggml.bos_token_id is 1000000, outside the vocabulary of 400 tokens");
  set("eos-negative", "tokenizer.ggml.eos_token_id", V::I32(-2), "'tokenizer.ggml.eos_token_id' is -2, expected a token id >= 0");
  set("unk-string", "tokenizer.ggml.unknown_token_id", V::String("3"), "'tokenizer.ggml.unknown_token_id' has type STRING");
  set("pad-u64-huge", "tokenizer.ggml.padding_token_id", V::U64(~0ull), "tokenizer.ggml.padding_token_id is");
  set("chat-template-uint32", "tokenizer.chat_template", V::U32(1), "'tokenizer.chat_template' has type UINT32, expected STRING");
  {
    // A piece matched whole that is longer than the matcher allows (quadratic encode time).
    SynthVocab v = BuildSynthVocab(400);
    v.tokens.push_back(std::string(300, 'a'));
    v.types.push_back(1);
    v.scores.push_back(0);
    c.Edit("tokenizer-piece-300-bytes", "tiny", [&](GgufWriter& w) {
      w.Set("tokenizer.ggml.tokens", V::ArrayString(v.tokens));
      w.Set("tokenizer.ggml.token_type", V::ArrayI32(v.types));
      w.Set("tokenizer.ggml.scores", V::ArrayF32(v.scores));
    }, {"token 400 ('aaaa", "is 300 bytes long; pieces matched whole may have at most 256"}, Stage::kTokenizer);
  }
  c.Edit("tokenizer-missing", "tiny", [](GgufWriter& w) { w.Remove("tokenizer.ggml.model"); },
         {"no key 'tokenizer.ggml.model'"}, Stage::kTokenizer);
}

// ---- sampling defaults a chat reads from the file --------------------------------------------

void SamplingKeys(Corpus& c) {
  auto set = [&](std::string name, const std::string& key, V v, std::string expect) {
    c.Edit("sampling-" + name, "tiny", [&](GgufWriter& w) { w.Set(key, v); }, {expect}, Stage::kChat);
  };
  set("top_k-2^64-1", "general.sampling.top_k", V::U64(~0ull), "general.sampling.top_k is 1.8446744073709552e+19, expected a number in [0, 2147483647]");
  set("top_k-1e30", "general.sampling.top_k", V::F32(1e30f), "general.sampling.top_k is 1.0000000150474662e+30");
  set("top_k-negative", "general.sampling.top_k", V::I32(-5), "general.sampling.top_k is -5");
  set("temp-nan", "general.sampling.temp", V::F32(std::nanf("")), "general.sampling.temp is nan");
  set("temp-string", "general.sampling.temp", V::String("hot"), "general.sampling.temp should be a number, found STRING");
  set("top_p-2", "general.sampling.top_p", V::F32(2), "general.sampling.top_p is 2, expected a number in [0, 1]");
  set("min_p-array", "general.sampling.min_p", V::ArrayF32({0.1f}), "general.sampling.min_p should be a number, found ARRAY");
  set("penalty-0", "general.sampling.penalty_repeat", V::F32(0), "general.sampling.penalty_repeat is 0");
  set("last_n-1e300", "general.sampling.penalty_last_n", V::F64(1e300), "general.sampling.penalty_last_n is 1e+300");
}

// ---- weights that load but overflow while running --------------------------------------------

void NonFiniteActivations(Corpus& c) {
  // A Q8_0 block scale of +inf (f16 0x7c00) in a matrix: the file is well-formed, the numbers
  // are not. Finding it at load would mean reading every block of every matrix.
  {
    GgufWriter w = Base("tiny");
    std::vector<uint8_t> b = w.WriteToBytes();
    const GgufFile f = GgufFile::FromBytes(b, "x");
    const size_t pos = f.DataOffset() + f.FindTensor("blk.1.ffn_up.weight")->offset;
    b[pos] = 0x00;
    b[pos + 1] = 0x7c;
    c.Add("inf-block-scale-layer-1", b, {"non-finite", "layer 1"}, Stage::kRun);
  }
  // The same in a query projection: the scores of layer 2 are nan. The attention kernel must
  // pass nan on (a max or clamp that drops it would give a finite, wrong answer).
  {
    GgufWriter w = Base("tiny");
    std::vector<uint8_t> b = w.WriteToBytes();
    const GgufFile f = GgufFile::FromBytes(b, "x");
    const size_t pos = f.DataOffset() + f.FindTensor("blk.2.attn_q.weight")->offset;
    b[pos] = 0x00;
    b[pos + 1] = 0x7c;
    c.Add("inf-block-scale-attn-q-layer-2", b, {"non-finite", "layer 2"}, Stage::kRun);
  }
  // A finite but huge norm gain: the residual overflows to inf in layer 2.
  c.ReplaceTensor("huge-norm-gain-layer-2", "tiny", "blk.2.post_ffw_norm.weight", GgmlType::F32, {32},
                  F32Bytes(std::vector<float>(32, 3e38f)), {"non-finite", "layer 2"}, Stage::kRun);
  // rope_freqs of 0 would make every global-layer angle inf (nan rotations): refused at load.
  c.ReplaceTensor("rope-freqs-zero", "tiny", "rope_freqs.weight", GgmlType::F32, {16},
                  F32Bytes(std::vector<float>(16, 0.0f)), {"rope_freqs.weight", "positive"}, Stage::kLoad);
  // The embedding row of token 2 is inf: caught before layer 0.
  {
    GgufWriter w = Base("tiny");
    std::vector<uint8_t> b = w.WriteToBytes();
    const GgufFile f = GgufFile::FromBytes(b, "x");
    const GgufTensor* e = f.FindTensor("token_embd.weight");
    const size_t pos = f.DataOffset() + e->offset + 2 * e->RowBytes();
    b[pos] = 0x00;
    b[pos + 1] = 0x7c;
    c.Add("inf-embedding-row", b, {"non-finite", "embedding"}, Stage::kRun);
  }
}

}  // namespace

std::vector<HostileFile> HostileGgufFiles() {
  Corpus c;
  Header(c);
  Truncations(c);
  TensorRecords(c);
  Alignment(c);
  WrongKeyTypes(c);
  BadKeyValues(c);
  PerLayerArrays(c);
  Tensors(c);
  TokenizerKeys(c);
  SamplingKeys(c);
  NonFiniteActivations(c);
  return c.Take();
}

}  // namespace gemma::test
