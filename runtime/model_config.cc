#include "runtime/model_config.h"

#include <cmath>
#include <limits>
#include <optional>

#include "runtime/error.h"
#include "runtime/printable.h"

namespace gemma {

namespace {

constexpr int kMaxLayers = 1024;
constexpr int64_t kMaxDim = 1 << 20;

// Typed access to `gemma4.*` keys with one-line errors. Integer keys accept any integer type
// whose value fits (files in the wild mix UINT32 and INT32); strings, floats and bools do not.
class Meta {
 public:
  explicit Meta(const GgufFile& f) : f_(f) {}

  const GgufValue* Find(const std::string& key) const { return f_.Find(key); }

  std::string String(const std::string& key) const {
    const GgufValue* v = Require(key);
    if (v->type != GgufType::STRING) WrongType(key, *v, "STRING");
    return std::string(v->AsString());
  }

  int64_t Int(const std::string& key, int64_t lo, int64_t hi,
              std::optional<int64_t> fallback = std::nullopt) const {
    const GgufValue* v = f_.Find(key);
    if (!v) {
      if (fallback) return *fallback;
      Missing(key);
    }
    if (!v->IsInteger()) WrongType(key, *v, "an integer (UINT32)");
    return InRange(key, v, lo, hi);
  }

  float Float(const std::string& key, std::optional<float> fallback = std::nullopt) const {
    const GgufValue* v = f_.Find(key);
    if (!v) {
      if (fallback) return *fallback;
      Missing(key);
    }
    if (!v->IsFloat()) WrongType(key, *v, "FLOAT32");
    const double d = v->AsDouble();
    // A FLOAT64 beyond the float range would become inf (and the message would say so).
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      Fail("{}: key '{}' is {}, expected a finite number", f_.Path(), key, d);
    }
    return static_cast<float>(d);
  }

  // A scalar integer, or an integer array with one entry per layer.
  std::vector<int> PerLayer(const std::string& key, int n_layer, int64_t lo, int64_t hi,
                            std::optional<int64_t> fallback = std::nullopt) const {
    const GgufValue* v = f_.Find(key);
    if (!v) {
      if (fallback) return std::vector<int>(n_layer, static_cast<int>(*fallback));
      Missing(key);
    }
    if (v->IsArray()) {
      GgufValue probe;
      probe.type = v->ElemType();
      if (!probe.IsInteger()) {
        Fail("{}: key '{}' is an array of {}, expected integers", f_.Path(), key,
             GgufTypeName(v->ElemType()));
      }
      CheckArray(key, *v, n_layer);
      std::vector<int> out(n_layer);
      for (int i = 0; i < n_layer; ++i) {
        const GgufValue e = v->Element(i);
        out[i] = static_cast<int>(InRange(key + "[" + std::to_string(i) + "]", &e, lo, hi));
      }
      return out;
    }
    if (!v->IsInteger()) WrongType(key, *v, "an integer or an array of integers");
    return std::vector<int>(n_layer, static_cast<int>(InRange(key, v, lo, hi)));
  }

  std::vector<bool> BoolPerLayer(const std::string& key, int n_layer) const {
    const GgufValue* v = Require(key);
    if (!v->IsArray() || v->ElemType() != GgufType::BOOL) {
      Fail("{}: key '{}' has type {}, expected an array of BOOL (one per layer)", f_.Path(), key,
           v->IsArray() ? "ARRAY of " + std::string(GgufTypeName(v->ElemType()))
                        : std::string(GgufTypeName(v->type)));
    }
    CheckArray(key, *v, n_layer);
    std::vector<bool> out(n_layer);
    for (int i = 0; i < n_layer; ++i) out[i] = v->Element(i).AsBool();
    return out;
  }

 private:
  const GgufValue* Require(const std::string& key) const {
    const GgufValue* v = f_.Find(key);
    if (!v) Missing(key);
    return v;
  }

  [[noreturn]] void Missing(const std::string& key) const {
    Fail("{}: required key '{}' is missing", f_.Path(), key);
  }

  [[noreturn]] void WrongType(const std::string& key, const GgufValue& v,
                              std::string_view expected) const {
    Fail("{}: key '{}' has type {}, expected {}", f_.Path(), key, GgufTypeName(v.type), expected);
  }

  void CheckArray(const std::string& key, const GgufValue& v, int n_layer) const {
    if (v.Size() != static_cast<uint64_t>(n_layer)) {
      Fail("{}: key '{}' has {} entries, expected {} (one per layer)", f_.Path(), key, v.Size(),
           n_layer);
    }
  }

  int64_t InRange(const std::string& key, const GgufValue* v, int64_t lo, int64_t hi) const {
    const bool negative = v->type != GgufType::U64 && v->AsInt() < 0;
    const bool huge = v->type == GgufType::U64 && v->AsUInt() > static_cast<uint64_t>(hi);
    if (negative || huge || v->AsInt() < lo || v->AsInt() > hi) {
      const std::string shown =
          v->type == GgufType::U64 ? std::to_string(v->AsUInt()) : std::to_string(v->AsInt());
      Fail("{}: key '{}' is {}, expected a value in [{}, {}]", f_.Path(), key, shown, lo, hi);
    }
    return v->AsInt();
  }

  const GgufFile& f_;
};

std::string LayerName(int i, std::string_view t) { return fmt::format("blk.{}.{}", i, t); }

}  // namespace

std::string ModelConfig::Variant() const {
  if (n_layer == 35 && n_embd == 1536) return "E2B";
  if (n_layer == 42 && n_embd == 2560) return "E4B";
  if (n_layer == 30 && n_embd == 2816) return "26B-A4B";
  if (n_layer == 60 && n_embd == 5376) return "31B";
  return "custom";
}

ModelConfig ReadModelConfig(const GgufFile& file) {
  const Meta m(file);
  const std::string& path = file.Path();
  const std::string arch = m.String("general.architecture");
  if (arch != "gemma4") {
    Fail("{}: architecture '{}' is not supported (gemma-run runs gemma4 models)", path,
         Printable(arch));
  }
  const std::string p = "gemma4.";

  ModelConfig c;
  if (const GgufValue* n = m.Find("general.name"); n && n->type == GgufType::STRING) {
    c.name = Printable(n->AsString(), 256);  // shown by --info and the chat banner
  }
  c.n_layer = static_cast<int>(m.Int(p + "block_count", 1, kMaxLayers));
  c.n_embd = static_cast<int>(m.Int(p + "embedding_length", 1, kMaxDim));
  c.n_ctx_train = static_cast<int>(m.Int(p + "context_length", 1, 1 << 24));
  const int L = c.n_layer;

  const std::vector<int> n_head = m.PerLayer(p + "attention.head_count", L, 1, 4096);
  const std::vector<int> n_kv_head =
      m.PerLayer(p + "attention.head_count_kv", L, 1, 4096, std::optional<int64_t>(n_head[0]));
  c.head_dim_full = static_cast<int>(m.Int(p + "attention.key_length", 2, 8192,
                                           c.n_embd / n_head[0]));
  const int v_full = static_cast<int>(m.Int(p + "attention.value_length", 2, 8192,
                                            c.head_dim_full));
  c.head_dim_swa = static_cast<int>(m.Int(p + "attention.key_length_swa", 2, 8192));
  const int v_swa = static_cast<int>(m.Int(p + "attention.value_length_swa", 2, 8192));
  if (v_full != c.head_dim_full || v_swa != c.head_dim_swa) {
    Fail("{}: key and value head dims differ ({} vs {}, swa {} vs {}); Gemma 4 needs them equal",
         path, c.head_dim_full, v_full, c.head_dim_swa, v_swa);
  }
  if (c.head_dim_full % 2 || c.head_dim_swa % 2) {
    Fail("{}: head dims {} / {} must be even (RoPE pairs)", path, c.head_dim_full, c.head_dim_swa);
  }
  c.norm_eps = m.Float(p + "attention.layer_norm_rms_epsilon");
  if (!(c.norm_eps > 0 && c.norm_eps < 1)) {
    Fail("{}: key '{}' is {}, expected a small positive number", path,
         p + "attention.layer_norm_rms_epsilon", c.norm_eps);
  }
  c.sliding_window = static_cast<int>(m.Int(p + "attention.sliding_window", 1, 1 << 24));
  const std::vector<bool> sliding = m.BoolPerLayer(p + "attention.sliding_window_pattern", L);
  c.shared_kv_layers = static_cast<int>(m.Int(p + "attention.shared_kv_layers", 0, L - 1, 0));
  c.n_embd_per_layer = static_cast<int>(m.Int(p + "embedding_length_per_layer_input", 0, kMaxDim));

  // llama.cpp's defaults where a key is optional: freq_base 10000, freq_base_swa 10000, rotated
  // dims = the head dim, softcap 30 (an explicit 0 turns it off).
  c.rope_base_full = m.Float(p + "rope.freq_base", 10000.0f);
  c.rope_base_swa = m.Float(p + "rope.freq_base_swa", 10000.0f);
  if (c.rope_base_full <= 1.0f || c.rope_base_swa <= 1.0f) {
    Fail("{}: RoPE bases {} / {} must be greater than 1", path, c.rope_base_full, c.rope_base_swa);
  }
  const int rope_full = static_cast<int>(m.Int(p + "rope.dimension_count", 2, c.head_dim_full,
                                               c.head_dim_full));
  const int rope_swa = static_cast<int>(m.Int(p + "rope.dimension_count_swa", 2, c.head_dim_swa,
                                              c.head_dim_swa));
  c.final_softcap = m.Float(p + "final_logit_softcapping", 30.0f);
  if (c.final_softcap < 0) Fail("{}: final_logit_softcapping {} is negative", path, c.final_softcap);

  const std::vector<int> ffn = m.PerLayer(p + "feed_forward_length", L, 1, kMaxDim);
  c.n_expert = static_cast<int>(m.Int(p + "expert_count", 0, 4096, 0));
  if (c.n_expert > 0) {
    c.n_expert_used = static_cast<int>(m.Int(p + "expert_used_count", 1, c.n_expert));
    c.expert_ffn_dim = m.PerLayer(p + "expert_feed_forward_length", L, 1, kMaxDim)[0];
  }

  const GgufTensor* embd = file.FindTensor("token_embd.weight");
  if (!embd) Fail("{}: required tensor 'token_embd.weight' is missing", path);
  if (embd->n_dims != 2 || embd->ne[0] != static_cast<uint64_t>(c.n_embd) ||
      embd->ne[1] > (1u << 24)) {
    Fail("{}: tensor 'token_embd.weight' has shape {}, expected [{}, n_vocab]", path,
         embd->ShapeString(), c.n_embd);
  }
  c.n_vocab = static_cast<int>(embd->ne[1]);
  c.tied_lm_head = file.FindTensor("output.weight") == nullptr;

  // KV sharing: a shared layer reads the cache of the last non-shared layer of its own type.
  const int first_shared = c.FirstSharedLayer();
  c.layers.resize(L);
  for (int i = 0; i < L; ++i) {
    LayerConfig& l = c.layers[i];
    l.index = i;
    l.sliding = sliding[i];
    l.window = l.sliding ? c.sliding_window : 0;
    l.head_dim = l.sliding ? c.head_dim_swa : c.head_dim_full;
    l.n_head = n_head[i];
    l.n_kv_head = n_kv_head[i];
    if (l.n_head % l.n_kv_head != 0) {
      Fail("{}: layer {}: {} query heads are not a multiple of {} KV heads", path, i, l.n_head,
           l.n_kv_head);
    }
    l.ffn_dim = ffn[i];
    l.rope_base = l.sliding ? c.rope_base_swa : c.rope_base_full;
    l.rope_dims = l.sliding ? rope_swa : rope_full;
    l.kv_source = i;
    if (i >= first_shared) {
      l.kv_source = -1;
      for (int j = first_shared - 1; j >= 0; --j) {
        if (c.layers[j].sliding == l.sliding) {
          l.kv_source = j;
          break;
        }
      }
      if (l.kv_source < 0) {
        Fail("{}: layer {} shares K/V ({} = {}) but no earlier {} layer owns a cache", path, i,
             p + "attention.shared_kv_layers", c.shared_kv_layers,
             l.sliding ? "sliding" : "global");
      }
      const LayerConfig& src = c.layers[l.kv_source];
      if (src.n_kv_head != l.n_kv_head) {
        Fail("{}: layer {} has {} KV heads but reads the cache of layer {} with {}", path, i,
             l.n_kv_head, l.kv_source, src.n_kv_head);
      }
    }
    l.has_v = file.FindTensor(LayerName(i, "attn_v.weight")) != nullptr || !l.OwnsKv();
    l.moe = c.n_expert > 0 && file.FindTensor(LayerName(i, "ffn_gate_inp.weight")) != nullptr;
    l.has_output_scale = file.FindTensor(LayerName(i, "layer_output_scale.weight")) != nullptr;
  }
  return c;
}

}  // namespace gemma
