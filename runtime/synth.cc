#include "runtime/synth.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "quant/quantize.h"
#include "runtime/error.h"
#include "runtime/gguf.h"
#include "runtime/gguf_writer.h"

namespace gemma {

namespace {

// ---- deterministic counter-based random numbers -------------------------------------------

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t TensorSeed(uint64_t seed, std::string_view name) { return SplitMix64(seed ^ Fnv1a(name)); }

uint64_t ElementBits(uint64_t tensor_seed, uint64_t i) {
  return SplitMix64(tensor_seed + i * 0xd1b54a32d192ed03ull);
}

// Approximately standard normal: Irwin-Hall sum of four 16-bit uniforms, bounded at +-3.46.
float UnitNormal(uint64_t bits) {
  float s = 0.0f;
  for (int k = 0; k < 4; ++k) s += static_cast<float>((bits >> (16 * k)) & 0xffff) * (1.0f / 65536.0f);
  return (s - 2.0f + 2.0f / 65536.0f) * 1.7320508f;
}

float Unit(uint64_t bits) { return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f); }

// How a tensor's values are drawn.
struct Init {
  enum Kind { kNormal, kUniform, kRopeFreqs } kind = kNormal;
  float a = 0.0f;  // mean, or low end
  float b = 1.0f;  // std, or high end; for kRopeFreqs: number of rotating pairs
};

float InitValue(const Init& init, uint64_t tensor_seed, uint64_t i) {
  switch (init.kind) {
    case Init::kNormal: return init.a + init.b * UnitNormal(ElementBits(tensor_seed, i));
    case Init::kUniform: return init.a + (init.b - init.a) * Unit(ElementBits(tensor_seed, i));
    case Init::kRopeFreqs: return static_cast<float>(i) < init.b ? 1.0f : 1e30f;
  }
  return 0.0f;
}

// ---- per-layer list parsing -------------------------------------------------------------------

std::vector<int> ParseInts(std::string_view key, std::string_view v) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    const size_t comma = std::min(v.find(',', pos), v.size());
    const std::string item(v.substr(pos, comma - pos));
    size_t used = 0;
    long x = 0;
    try {
      x = std::stol(item, &used);
    } catch (...) {
      used = 0;
    }
    if (item.empty() || used != item.size() || x < 0 || x > (1l << 30)) {
      Fail("synth: '{}={}': '{}' is not a non-negative integer", key, v, item);
    }
    out.push_back(static_cast<int>(x));
    pos = comma + 1;
  }
  return out;
}

template <typename T>
std::vector<T> Broadcast(std::string_view key, std::vector<T> v, int n) {
  if (v.size() == 1) return std::vector<T>(n, v[0]);
  if (static_cast<int>(v.size()) != n) {
    Fail("synth: '{}' has {} entries, expected 1 or {} (one per layer)", key, v.size(), n);
  }
  return v;
}

// "SSSSF" repeated as needed to n layers; S = sliding, F = full/global.
std::vector<bool> ParsePattern(std::string_view v, int n) {
  if (v.empty()) Fail("synth: empty sliding pattern");
  std::vector<bool> out;
  for (int i = 0; i < n; ++i) {
    const char c = v[i % v.size()];
    if (c != 'S' && c != 'F') Fail("synth: sliding pattern '{}' may only contain S and F", v);
    out.push_back(c == 'S');
  }
  return out;
}

std::string PatternString(const std::vector<bool>& s) {
  std::string r;
  for (bool b : s) r += b ? 'S' : 'F';
  return r;
}

}  // namespace

// ---- presets ----------------------------------------------------------------------------------

SynthSpec SynthPreset(std::string_view preset) {
  SynthSpec s;
  s.preset = std::string(preset);
  auto per_layer = [&](int kv, int ffn) {
    s.n_kv_head.assign(s.n_layer, kv);
    s.ffn.assign(s.n_layer, ffn);
  };
  if (preset == "tiny") {
    s.n_layer = 6;
    s.sliding = ParsePattern("SSF", 6);
    per_layer(2, 512);
  } else if (preset == "tiny-e") {
    s.n_layer = 10;
    s.sliding = ParsePattern("SSSSF", 10);
    per_layer(1, 256);
    for (int i = 5; i < 10; ++i) s.ffn[i] = 512;  // double-wide MLP on the KV-shared layers
    s.shared_kv_layers = 5;
    s.n_embd_per_layer = 32;
  } else if (preset == "tiny-moe") {
    s.n_layer = 6;
    s.sliding = ParsePattern("SSF", 6);
    per_layer(2, 128);
    for (int i = 0; i < 6; ++i) s.n_kv_head[i] = s.sliding[i] ? 2 : 1;
    s.n_expert = 8;
    s.n_expert_used = 2;
    s.expert_ffn = 64;
    s.kv_eq_v_global = true;
  } else if (preset == "e2b") {
    s.n_layer = 35;
    s.n_embd = 1536;
    s.n_head = 8;
    s.head_dim_swa = 256;
    s.head_dim_full = 512;
    s.sliding = ParsePattern("SSSSF", 35);
    s.sliding_window = 512;
    per_layer(1, 6144);
    for (int i = 15; i < 35; ++i) s.ffn[i] = 12288;
    s.shared_kv_layers = 20;
    s.n_embd_per_layer = 256;
    s.n_vocab = 262144;
    s.n_ctx = 131072;
  } else if (preset == "e4b") {
    s.n_layer = 42;
    s.n_embd = 2560;
    s.n_head = 8;
    s.head_dim_swa = 256;
    s.head_dim_full = 512;
    s.sliding = ParsePattern("SSSSSF", 42);
    s.sliding_window = 512;
    per_layer(2, 10240);
    s.shared_kv_layers = 18;
    s.n_embd_per_layer = 256;
    s.n_vocab = 262144;
    s.n_ctx = 131072;
  } else if (preset == "26b-a4b") {
    s.n_layer = 30;
    s.n_embd = 2816;
    s.n_head = 16;
    s.head_dim_swa = 256;
    s.head_dim_full = 512;
    s.sliding = ParsePattern("SSSSSF", 30);
    s.sliding_window = 1024;
    per_layer(8, 2112);
    for (int i = 0; i < 30; ++i) s.n_kv_head[i] = s.sliding[i] ? 8 : 2;
    s.n_expert = 128;
    s.n_expert_used = 8;
    s.expert_ffn = 704;
    s.kv_eq_v_global = true;
    s.n_vocab = 262144;
    s.n_ctx = 262144;
  } else if (preset == "31b") {
    s.n_layer = 60;
    s.n_embd = 5376;
    s.n_head = 32;
    s.head_dim_swa = 256;
    s.head_dim_full = 512;
    s.sliding = ParsePattern("SSSSSF", 60);
    s.sliding_window = 1024;
    per_layer(16, 21504);
    for (int i = 0; i < 60; ++i) s.n_kv_head[i] = s.sliding[i] ? 16 : 4;
    s.kv_eq_v_global = true;
    s.n_vocab = 262144;
    s.n_ctx = 262144;
  } else {
    Fail("synth: unknown preset '{}' (expected tiny, tiny-e, tiny-moe, e2b, e4b, 26b-a4b, 31b)",
         preset);
  }
  s.name = "gemma4-" + s.preset + "-synthetic";
  return s;
}

void ApplySynthOverride(SynthSpec& s, std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) Fail("synth: override '{}' is not key=value", assignment);
  const std::string key(assignment.substr(0, eq));
  const std::string v(assignment.substr(eq + 1));
  auto one_int = [&] {
    const std::vector<int> x = ParseInts(key, v);
    if (x.size() != 1) Fail("synth: '{}' takes one integer", key);
    return x[0];
  };
  auto one_float = [&] {
    size_t used = 0;
    float f = 0;
    try {
      f = std::stof(v, &used);
    } catch (...) {
      used = 0;
    }
    if (used != v.size() || !std::isfinite(f)) Fail("synth: '{}={}' is not a number", key, v);
    return f;
  };
  auto flag = [&] {
    if (v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
    Fail("synth: '{}={}' must be true or false", key, v);
  };
  if (key == "n_layer") {
    // Changing the depth re-broadcasts the per-layer lists (first entry) and the pattern.
    const int n = one_int();
    if (n < 1 || n > 1024) Fail("synth: n_layer {} out of range", n);
    const std::string pat = PatternString(s.sliding);
    s.n_layer = n;
    s.sliding = ParsePattern(pat, n);
    s.n_kv_head = std::vector<int>(n, s.n_kv_head.empty() ? 1 : s.n_kv_head[0]);
    s.ffn = std::vector<int>(n, s.ffn.empty() ? 128 : s.ffn[0]);
  } else if (key == "n_embd") s.n_embd = one_int();
  else if (key == "n_head") s.n_head = one_int();
  else if (key == "n_kv_head") s.n_kv_head = Broadcast(key, ParseInts(key, v), s.n_layer);
  else if (key == "head_dim_swa") s.head_dim_swa = one_int();
  else if (key == "head_dim_full") s.head_dim_full = one_int();
  else if (key == "sliding") s.sliding = ParsePattern(v, s.n_layer);
  else if (key == "sliding_window") s.sliding_window = one_int();
  else if (key == "shared_kv_layers") s.shared_kv_layers = one_int();
  else if (key == "n_embd_per_layer") s.n_embd_per_layer = one_int();
  else if (key == "ffn") s.ffn = Broadcast(key, ParseInts(key, v), s.n_layer);
  else if (key == "n_expert") s.n_expert = one_int();
  else if (key == "n_expert_used") s.n_expert_used = one_int();
  else if (key == "expert_ffn") s.expert_ffn = one_int();
  else if (key == "kv_eq_v_global") s.kv_eq_v_global = flag();
  else if (key == "fused_gate_up") s.fused_gate_up = flag();
  else if (key == "shared_kv_weights") s.shared_kv_weights = flag();
  else if (key == "layer_output_scale") s.layer_output_scale = flag();
  else if (key == "n_vocab") s.n_vocab = one_int();
  else if (key == "n_ctx") s.n_ctx = one_int();
  else if (key == "rope_base_full") s.rope_base_full = one_float();
  else if (key == "rope_base_swa") s.rope_base_swa = one_float();
  else if (key == "partial_rotary") s.partial_rotary = one_float();
  else if (key == "softcap") s.softcap = one_float();
  else if (key == "embd_rms") s.embd_rms = one_float();
  else if (key == "output_norm_mean") s.output_norm_mean = one_float();
  else if (key == "seed") s.seed = static_cast<uint64_t>(one_int());
  else if (key == "name") s.name = v;
  else Fail("synth: unknown override key '{}'", key);
}

void ValidateSynthSpec(const SynthSpec& s) {
  const int L = s.n_layer;
  auto check = [](bool ok, std::string_view what) {
    if (!ok) Fail("synth: invalid spec: {}", what);
  };
  check(L >= 1, "n_layer must be positive");
  check(static_cast<int>(s.sliding.size()) == L && static_cast<int>(s.ffn.size()) == L &&
            static_cast<int>(s.n_kv_head.size()) == L,
        "per-layer lists must have n_layer entries");
  check(s.n_embd >= 32 && s.n_embd % 32 == 0, "n_embd must be a positive multiple of 32");
  check(s.n_head >= 1, "n_head must be positive");
  check(s.head_dim_swa >= 2 && s.head_dim_swa % 2 == 0, "head_dim_swa must be even");
  check(s.head_dim_full >= 2 && s.head_dim_full % 2 == 0, "head_dim_full must be even");
  check(s.n_head * s.head_dim_swa % 32 == 0 && s.n_head * s.head_dim_full % 32 == 0,
        "n_head * head_dim must be a multiple of 32");
  check(s.sliding_window >= 1, "sliding_window must be positive");
  check(s.n_vocab >= 400, "n_vocab must be at least 400 (the built-in vocab needs it)");
  check(s.n_embd_per_layer % 32 == 0, "n_embd_per_layer must be a multiple of 32");
  check(std::find(s.sliding.begin(), s.sliding.end(), true) != s.sliding.end(),
        "at least one layer must be sliding (llama.cpp's iSWA cache requires it)");
  check(!s.sliding.back(), "the last layer must be global (Gemma 4 forces it)");
  for (int i = 0; i < L; ++i) {
    check(s.ffn[i] >= 32 && s.ffn[i] % 32 == 0, "ffn widths must be positive multiples of 32");
    check(s.n_kv_head[i] >= 1 && s.n_head % s.n_kv_head[i] == 0,
          "n_head must be a multiple of every n_kv_head");
  }
  if (s.n_expert > 0) {
    check(s.n_expert_used >= 1 && s.n_expert_used <= s.n_expert, "need 1 <= n_expert_used <= n_expert");
    check(s.expert_ffn >= 32 && s.expert_ffn % 32 == 0, "expert_ffn must be a multiple of 32");
  }
  check(s.shared_kv_layers >= 0 && s.shared_kv_layers < L, "shared_kv_layers must be < n_layer");
  if (s.shared_kv_layers > 0) {
    // llama.cpp maps shared layers to layer n_kv-2 (sliding) and n_kv-1 (global) without checking
    // their types; Gemma 4's rule is "the last earlier layer of the same type". Only layouts where
    // the two agree give files both runtimes read the same way.
    const int n_kv = L - s.shared_kv_layers;
    check(n_kv >= 2 && !s.sliding[n_kv - 1] && s.sliding[n_kv - 2],
          "with shared_kv_layers, layer n_layer-shared-1 must be global and the one before sliding");
    for (int i = n_kv; i < L; ++i) {
      const int src = s.sliding[i] ? n_kv - 2 : n_kv - 1;
      check(s.n_kv_head[i] == s.n_kv_head[src], "a KV-shared layer must have its source's KV heads");
    }
  }
  check(s.partial_rotary > 0 && s.partial_rotary <= 1, "partial_rotary must be in (0, 1]");
}

float SynthValue(uint64_t seed, std::string_view tensor_name, uint64_t i) {
  // Same distribution as the writer uses for a generic matrix (N(0,1)); tests use it to check
  // determinism of the stream itself.
  return UnitNormal(ElementBits(TensorSeed(seed, tensor_name), i));
}

// ---- built-in vocabulary ----------------------------------------------------------------------

namespace {

constexpr const char* kCorpus =
    "The quick brown fox jumps over the lazy dog. A small model with random weights cannot say "
    "anything true, but it can still be measured: every layer, every head and every token is "
    "computed exactly as the real network would compute it. When you point the program at a real "
    "Gemma model file, the same code turns your words into tokens, runs them through the layers, "
    "and writes the answer one token at a time. Running on your own computer means your words "
    "never leave the machine. There is no account, no bill and no waiting for a server in another "
    "country. The weights are stored in a single file that is mapped into memory, so the program "
    "starts quickly and shares the pages with the operating system. On a small board such as a "
    "Raspberry Pi the model still works, only slower, because every token must read most of the "
    "weights from memory once. Speed is therefore a question of how many bytes each token needs "
    "and how fast the memory can deliver them. This is why smaller numbers are stored for each "
    "weight, four or eight bits instead of sixteen or thirty two, and why the work is spread over "
    "the cores of the processor. Hello world, hello again, and thank you for reading this text.";

const char* const kSpecials[] = {
    "<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<|turn>", "<turn|>", "<|channel>",
    "<channel|>", "<|think|>", "<|tool>", "<tool|>", "<|tool_call>", "<tool_call|>",
    "<|tool_response>", "<tool_response|>", "<|\"|>"};

bool IsVisibleSpecial(std::string_view t) {
  return t == "<|channel>" || t == "<channel|>" || t == "<|tool_call>" || t == "<tool_call|>" ||
         t == "<|tool_response>" || t == "<tool_response|>" || t == "<|\"|>";
}

constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;

// Splits a UTF-8 string into code points.
std::vector<std::string> Chars(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

SynthVocab BuildSynthVocab(int n_vocab) {
  SynthVocab v;
  std::set<std::string> have;
  auto add = [&](const std::string& t, int32_t type) {
    v.tokens.push_back(t);
    v.types.push_back(type);
    v.scores.push_back(type == kNormal ? -static_cast<float>(v.tokens.size() - 1) : 0.0f);
    have.insert(t);
  };
  for (const char* s : kSpecials) add(s, IsVisibleSpecial(s) ? kUserDefined : kControl);
  add("\n", kNormal);
  add("\n\n", kNormal);
  for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b), kByte);
  const std::string space = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space
  add(space, kNormal);
  for (char c = '!'; c <= '~'; ++c) add(std::string(1, c), kNormal);

  // Learn BPE merges on the built-in corpus: words are "▁word", merges never cross words.
  std::vector<std::vector<std::string>> words;
  {
    std::string text = kCorpus;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find(' ', pos + 1);
      if (end == std::string::npos) end = text.size();
      std::string w = text.substr(pos, end - pos);
      if (!w.empty() && w[0] == ' ') w = space + w.substr(1);
      else if (pos == 0) w = space + w;
      words.push_back(Chars(w));
      pos = end;
    }
  }
  while (static_cast<int>(v.tokens.size()) < n_vocab) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const auto& w : words) {
      for (size_t i = 0; i + 1 < w.size(); ++i) ++counts[{w[i], w[i + 1]}];
    }
    // Most frequent pair; ties broken by the pair's text so the result is deterministic.
    const std::pair<std::string, std::string>* best = nullptr;
    int best_count = 1;
    for (const auto& [pair, count] : counts) {
      if (count > best_count && !have.count(pair.first + pair.second)) {
        best = &pair;
        best_count = count;
      }
    }
    if (!best) break;
    const std::string left = best->first, right = best->second, merged = left + right;
    v.merges.push_back(left + " " + right);
    add(merged, kNormal);
    for (auto& w : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < w.size(); ++i) {
        if (i + 1 < w.size() && w[i] == left && w[i + 1] == right) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(w[i]);
        }
      }
      w = std::move(out);
    }
  }
  for (int i = 0; static_cast<int>(v.tokens.size()) < n_vocab; ++i) {
    add(fmt::format("<unused{}>", i), kUnused);
  }
  return v;
}

// ---- the writer -------------------------------------------------------------------------------

namespace {

struct FileTypeInfo {
  GgmlType matrix_type;
  uint32_t file_type;    // general.file_type (llama_ftype)
  bool k_mix = false;    // llama-quantize's per-tensor rules of the Q4_K_M / Q5_K_M / Q6_K mixes
};

FileTypeInfo ParseFileType(const std::string& type) {
  std::string upper = type;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "Q4_K_M") return {GgmlType::Q4_K, 15, true};
  if (upper == "Q5_K_M") return {GgmlType::Q5_K, 17, true};
  if (upper == "Q6_K") return {GgmlType::Q6_K, 18, true};
  const std::optional<GgmlType> t = ParseTypeName(type);
  if (t && CanQuantize(*t)) {
    switch (*t) {
      case GgmlType::F32: return {*t, 0};
      case GgmlType::F16: return {*t, 1};
      case GgmlType::Q4_0: return {*t, 2};
      case GgmlType::Q8_0: return {*t, 7};
      case GgmlType::BF16: return {*t, 32};
      default: break;
    }
  }
  Fail("synth: weight type '{}' is not supported (expected F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, "
       "Q5_K_M or Q6_K)", type);
}

// The type llama-quantize gives a matrix in a K-quant mix (src/llama-quant.cpp,
// llama_tensor_get_type_impl, without imatrix or overrides). attn_v_index counts the attn_v
// tensors before this one (llama.cpp walks tensors in layer order).
GgmlType KMixType(const FileTypeInfo& ft, const SynthSpec& s, std::string_view name,
                  int attn_v_index, int n_attn_v) {
  auto more_bits = [](int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; };
  auto has = [&](std::string_view part) { return name.find(part) != std::string_view::npos; };
  const bool m_mix = ft.file_type == 15 || ft.file_type == 17;  // Q4_K_M, Q5_K_M
  // Tied embeddings: the token tables are quantized as the output tensor (both of them, as
  // llama.cpp counts per_layer_token_embd as a token embedding).
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return GgmlType::Q6_K;
  if (has("attn_v.weight")) {
    if (s.n_expert == 8) return GgmlType::Q8_0;
    return m_mix && more_bits(attn_v_index, n_attn_v) ? GgmlType::Q6_K : ft.matrix_type;
  }
  if (has("attn_k.weight") && s.n_expert == 8) return GgmlType::Q8_0;
  if (has("attn_output.weight") && s.n_expert == 8 && ft.file_type == 15) return GgmlType::Q5_K;
  if (has("ffn_down")) {
    int layer = -1;
    std::sscanf(std::string(name).c_str(), "blk.%d.", &layer);
    if (m_mix && more_bits(layer, s.n_layer)) return GgmlType::Q6_K;
  }
  return ft.matrix_type;
}

// The type llama-quantize would store tensor `name` in for a file of type `ft`.
GgmlType StorageType(const FileTypeInfo& ft, const SynthSpec& s, std::string_view name,
                     size_t n_dims, uint64_t ne0, int attn_v_index, int n_attn_v) {
  const GgmlType target = ft.matrix_type;
  if (n_dims == 1) return GgmlType::F32;
  if (name.find("ffn_gate_inp.weight") != std::string_view::npos) return GgmlType::F32;
  if (name == "per_layer_model_proj.weight") {
    return target == GgmlType::F32 || target == GgmlType::BF16 ? target : GgmlType::F16;
  }
  GgmlType t = ft.k_mix ? KMixType(ft, s, name, attn_v_index, n_attn_v) : target;
  if (ne0 % Traits(t).block_size != 0 && Traits(t).block_size == 256) {
    // llama.cpp falls back to Q8_0 for Q6_K, but to Q5_0 / Q5_1 for Q4_K / Q5_K, which
    // gemma-run does not implement: those rows become Q8_0 here too.
    t = GgmlType::Q8_0;
  }
  if (ne0 % Traits(t).block_size != 0) return GgmlType::F16;
  return t;
}

struct PlannedTensor {
  std::string name;
  std::vector<uint64_t> ne;
  Init init;
};

std::vector<PlannedTensor> PlanTensors(const SynthSpec& s) {
  std::vector<PlannedTensor> t;
  const uint64_t H = s.n_embd, V = s.n_vocab, P = s.n_embd_per_layer, L = s.n_layer;
  const float inv_sqrt_h = 1.0f / std::sqrt(static_cast<float>(H));
  auto normal = [](float mean, float std) { return Init{Init::kNormal, mean, std}; };
  auto fan_in = [&](uint64_t n) { return normal(0.0f, 1.0f / std::sqrt(static_cast<float>(n))); };
  const Init norm = normal(1.0f, 0.1f);

  t.push_back({"token_embd.weight", {H, V}, normal(0.0f, s.embd_rms * inv_sqrt_h)});
  if (P > 0) {
    t.push_back({"per_layer_token_embd.weight", {P * L, V}, fan_in(P)});
    t.push_back({"per_layer_model_proj.weight", {H, P * L}, fan_in(H)});
    t.push_back({"per_layer_proj_norm.weight", {P}, norm});
  }
  t.push_back({"output_norm.weight", {H}, normal(s.output_norm_mean, 0.1f * s.output_norm_mean)});
  const uint64_t half_full = s.head_dim_full / 2;
  const float rotating = std::round(s.partial_rotary * static_cast<float>(half_full));
  t.push_back({"rope_freqs.weight", {half_full}, Init{Init::kRopeFreqs, 0.0f, rotating}});

  const int first_shared = s.n_layer - s.shared_kv_layers;
  for (int i = 0; i < s.n_layer; ++i) {
    const std::string b = fmt::format("blk.{}.", i);
    const uint64_t d = s.sliding[i] ? s.head_dim_swa : s.head_dim_full;
    const uint64_t q = s.n_head * d, kv = s.n_kv_head[i] * d, F = s.ffn[i];
    const bool shared = i >= first_shared;
    const bool write_kv = !shared || s.shared_kv_weights;
    t.push_back({b + "attn_norm.weight", {H}, norm});
    t.push_back({b + "attn_q.weight", {H, q}, fan_in(H)});
    if (write_kv) {
      t.push_back({b + "attn_k.weight", {H, kv}, fan_in(H)});
      if (!(s.kv_eq_v_global && !s.sliding[i])) t.push_back({b + "attn_v.weight", {H, kv}, fan_in(H)});
    }
    t.push_back({b + "attn_output.weight", {q, H}, fan_in(q)});
    t.push_back({b + "attn_q_norm.weight", {d}, normal(0.5f, 0.05f)});
    if (write_kv) t.push_back({b + "attn_k_norm.weight", {d}, normal(0.5f, 0.05f)});
    t.push_back({b + "post_attention_norm.weight", {H}, norm});
    t.push_back({b + "ffn_norm.weight", {H}, norm});
    t.push_back({b + "ffn_gate.weight", {H, F}, fan_in(H)});
    t.push_back({b + "ffn_up.weight", {H, F}, fan_in(H)});
    t.push_back({b + "ffn_down.weight", {F, H}, fan_in(F)});
    t.push_back({b + "post_ffw_norm.weight", {H}, norm});
    if (s.n_expert > 0) {
      const uint64_t E = s.n_expert, Fe = s.expert_ffn;
      t.push_back({b + "ffn_gate_inp.weight", {H, E}, normal(0.0f, 1.0f)});
      t.push_back({b + "ffn_gate_inp.scale", {H}, norm});
      t.push_back({b + "pre_ffw_norm_2.weight", {H}, norm});
      t.push_back({b + "post_ffw_norm_1.weight", {H}, norm});
      t.push_back({b + "post_ffw_norm_2.weight", {H}, norm});
      if (s.fused_gate_up) {
        t.push_back({b + "ffn_gate_up_exps.weight", {H, 2 * Fe, E}, fan_in(H)});
      } else {
        t.push_back({b + "ffn_gate_exps.weight", {H, Fe, E}, fan_in(H)});
        t.push_back({b + "ffn_up_exps.weight", {H, Fe, E}, fan_in(H)});
      }
      t.push_back({b + "ffn_down_exps.weight", {Fe, H, E}, fan_in(Fe)});
      t.push_back({b + "ffn_down_exps.scale", {E}, norm});
    }
    if (P > 0) {
      t.push_back({b + "inp_gate.weight", {H, P}, fan_in(H)});
      t.push_back({b + "proj.weight", {P, H}, fan_in(P)});
      t.push_back({b + "post_norm.weight", {H}, norm});
    }
    if (s.layer_output_scale) {
      t.push_back({b + "layer_output_scale.weight", {1}, Init{Init::kUniform, 0.8f, 1.2f}});
    }
  }
  return t;
}

}  // namespace

SynthResult WriteSynthModel(const SynthSpec& s, const SynthOptions& o, const std::string& path) {
  SynthResult result;
  const GgufWriter w = BuildSynthWriter(s, o, &result);
  w.Write(path);
  return result;
}

GgufWriter BuildSynthWriter(const SynthSpec& s, const SynthOptions& o, SynthResult* out) {
  ValidateSynthSpec(s);
  const FileTypeInfo ft = ParseFileType(o.type);
  GgufWriter w;
  const std::string a = "gemma4.";
  using V = GgufWriteValue;

  // Tokenizer first: a copied vocabulary decides n_vocab.
  int n_vocab = s.n_vocab;
  std::optional<GgufFile> vocab_file;
  if (!o.vocab_from.empty()) {
    vocab_file.emplace(GgufFile::Open(o.vocab_from));
    const GgufValue* tokens = vocab_file->Find("tokenizer.ggml.tokens");
    if (!tokens || tokens->ElemType() != GgufType::STRING) {
      Fail("{}: no tokenizer.ggml.tokens string array to copy", o.vocab_from);
    }
    n_vocab = static_cast<int>(tokens->Size());
  }

  w.Set("general.architecture", V::String("gemma4"));
  w.Set("general.name", V::String(s.name));
  w.Set("general.file_type", V::U32(o.f32_twin ? 0 : ft.file_type));
  w.Set("general.quantization_version", V::U32(2));
  w.SetAlignment(32);
  w.Set("general.sampling.top_k", V::I32(64));
  w.Set("general.sampling.top_p", V::F32(0.95f));
  w.Set("general.sampling.temp", V::F32(1.0f));
  w.Set(a + "context_length", V::U32(s.n_ctx));
  w.Set(a + "embedding_length", V::U32(s.n_embd));
  w.Set(a + "block_count", V::U32(s.n_layer));
  const bool uniform_ffn = std::all_of(s.ffn.begin(), s.ffn.end(), [&](int f) { return f == s.ffn[0]; });
  w.Set(a + "feed_forward_length", uniform_ffn ? V::U32(s.ffn[0]) : V::ArrayI32(s.ffn));
  w.Set(a + "attention.head_count", V::U32(s.n_head));
  const bool uniform_kv = std::all_of(s.n_kv_head.begin(), s.n_kv_head.end(),
                                      [&](int k) { return k == s.n_kv_head[0]; });
  w.Set(a + "attention.head_count_kv", uniform_kv ? V::U32(s.n_kv_head[0]) : V::ArrayI32(s.n_kv_head));
  w.Set(a + "attention.key_length", V::U32(s.head_dim_full));
  w.Set(a + "attention.value_length", V::U32(s.head_dim_full));
  w.Set(a + "attention.key_length_swa", V::U32(s.head_dim_swa));
  w.Set(a + "attention.value_length_swa", V::U32(s.head_dim_swa));
  w.Set(a + "attention.layer_norm_rms_epsilon", V::F32(s.norm_eps));
  w.Set(a + "attention.sliding_window", V::U32(s.sliding_window));
  w.Set(a + "attention.sliding_window_pattern", V::ArrayBool(s.sliding));
  w.Set(a + "attention.shared_kv_layers", V::U32(s.shared_kv_layers));
  w.Set(a + "embedding_length_per_layer_input", V::U32(s.n_embd_per_layer));
  w.Set(a + "rope.freq_base", V::F32(s.rope_base_full));
  w.Set(a + "rope.freq_base_swa", V::F32(s.rope_base_swa));
  w.Set(a + "rope.dimension_count", V::U32(s.head_dim_full));
  w.Set(a + "rope.dimension_count_swa", V::U32(s.head_dim_swa));
  w.Set(a + "final_logit_softcapping", V::F32(s.softcap));
  if (s.n_expert > 0) {
    w.Set(a + "expert_count", V::U32(s.n_expert));
    w.Set(a + "expert_used_count", V::U32(s.n_expert_used));
    w.Set(a + "expert_feed_forward_length", V::U32(s.expert_ffn));
  }

  if (vocab_file) {
    for (const auto& [key, value] : vocab_file->Metadata()) {
      if (key.substr(0, 10) == "tokenizer.") w.Set(key, V::Copy(value));
    }
  } else {
    const SynthVocab v = BuildSynthVocab(n_vocab);
    w.Set("tokenizer.ggml.model", V::String("gemma4"));
    w.Set("tokenizer.ggml.pre", V::String("gemma4"));
    w.Set("tokenizer.ggml.tokens", V::ArrayString(v.tokens));
    w.Set("tokenizer.ggml.scores", V::ArrayF32(v.scores));
    w.Set("tokenizer.ggml.token_type", V::ArrayI32(v.types));
    w.Set("tokenizer.ggml.merges", V::ArrayString(v.merges));
    w.Set("tokenizer.ggml.bos_token_id", V::U32(2));
    w.Set("tokenizer.ggml.eos_token_id", V::U32(1));
    w.Set("tokenizer.ggml.unknown_token_id", V::U32(3));
    w.Set("tokenizer.ggml.padding_token_id", V::U32(0));
    w.Set("tokenizer.ggml.mask_token_id", V::U32(4));
    w.Set("tokenizer.ggml.add_bos_token", V::Bool(true));
    w.Set("tokenizer.ggml.add_eos_token", V::Bool(false));
    w.Set("tokenizer.ggml.add_space_prefix", V::Bool(false));
  }

  SynthSpec spec = s;
  spec.n_vocab = n_vocab;
  SynthResult result;
  const std::vector<PlannedTensor> planned = PlanTensors(spec);
  auto is_attn_v = [](const PlannedTensor& p) { return p.name.find("attn_v.weight") != std::string::npos; };
  const int n_attn_v = static_cast<int>(std::count_if(planned.begin(), planned.end(), is_attn_v));
  int attn_v_index = 0;
  for (const PlannedTensor& pt : planned) {
    const GgmlType stored = StorageType(ft, spec, pt.name, pt.ne.size(), pt.ne[0], attn_v_index, n_attn_v);
    if (is_attn_v(pt)) ++attn_v_index;
    const GgmlType written = o.f32_twin ? GgmlType::F32 : stored;
    const uint64_t ne0 = pt.ne[0];
    const uint64_t seed = TensorSeed(s.seed, pt.name);
    const Init init = pt.init;
    uint64_t n = 1;
    for (uint64_t d : pt.ne) n *= d;
    result.n_params += n;
    w.AddTensor(pt.name, written, pt.ne,
                [=](uint64_t r0, uint64_t r1, uint8_t* dst) {
                  std::vector<float> row(ne0);
                  std::vector<uint8_t> enc(RowBytes(stored, ne0));
                  const size_t out_row = RowBytes(written, ne0);
                  for (uint64_t r = r0; r < r1; ++r) {
                    for (uint64_t j = 0; j < ne0; ++j) row[j] = InitValue(init, seed, r * ne0 + j);
                    uint8_t* out = dst + (r - r0) * out_row;
                    if (written == stored) {
                      QuantizeRow(stored, row.data(), ne0, out);
                    } else {  // F32 twin: the exact values a reader decodes from the stored type
                      QuantizeRow(stored, row.data(), ne0, enc.data());
                      DequantizeRow(stored, enc.data(), ne0, reinterpret_cast<float*>(out));
                    }
                  }
                });
  }
  result.n_tensors = w.TensorCount();
  result.file_bytes = w.FileSize();
  if (out) *out = result;
  return w;
}

}  // namespace gemma
