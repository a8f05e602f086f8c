#include "runtime/weights.h"

#include <cmath>
#include <cstring>
#include <string_view>
#include <unordered_set>

#include "quant/quantize.h"
#include "runtime/error.h"
#include "runtime/printable.h"

namespace gemma {

namespace {

using Shape = std::vector<uint64_t>;

std::string ShapeStr(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Matrix MatrixOf(const GgufTensor& t, uint64_t rows_offset, uint64_t rows) {
  Matrix m;
  m.type = t.type;
  m.cols = static_cast<int64_t>(t.ne[0]);
  m.rows = static_cast<int64_t>(rows);
  m.row_bytes = RowBytes(t.type, t.ne[0]);
  m.data = t.data + rows_offset * m.row_bytes;
  return m;
}

class Binder {
 public:
  Binder(const GgufFile& f, ModelWeights& w) : f_(f), w_(w) {}

  // The tensor `name` with exactly `shape`; nullptr if absent and optional.
  const GgufTensor* Get(const std::string& name, const Shape& shape, bool required) {
    const GgufTensor* t = f_.FindTensor(name);
    if (!t) {
      if (required) Fail("{}: required tensor '{}' is missing", f_.Path(), name);
      return nullptr;
    }
    used_.insert(t->name);
    bool same = t->n_dims == static_cast<int>(shape.size());
    for (size_t d = 0; same && d < shape.size(); ++d) same = t->ne[d] == shape[d];
    if (!same) {
      Fail("{}: tensor '{}' has shape {}, expected {}", f_.Path(), name, t->ShapeString(),
           ShapeStr(shape));
    }
    return t;
  }

  Matrix Mat(const std::string& name, uint64_t in, uint64_t out, bool required = true) {
    const GgufTensor* t = Get(name, {in, out}, required);
    if (!t) return {};
    CheckComputable(*t);
    return MatrixOf(*t, 0, out);
  }

  const GgufTensor* Mat3(const std::string& name, const Shape& shape, bool required) {
    const GgufTensor* t = Get(name, shape, required);
    if (t) CheckComputable(*t);
    return t;
  }

  // A 1-D float vector of length n (F32 in place; F16/BF16 converted once).
  // Every tensor of the file must have been bound: one that is not means the metadata
  // describes another model than the tensors do (e.g. expert_count 0 in a MoE file would
  // silently run it dense), as llama.cpp's "wrong number of tensors" check also says.
  void CheckAllUsed() const {
    for (const GgufTensor& t : f_.Tensors()) {
      if (!used_.count(t.name)) {
        Fail("{}: tensor '{}' is not used by a gemma4 model of this configuration (the metadata "
             "and the tensors disagree)", f_.Path(), Printable(t.name));
      }
    }
  }

  const float* Vec(const std::string& name, uint64_t n, bool required = true) {
    const GgufTensor* t = Get(name, {n}, required);
    if (!t) return nullptr;
    const float* v = nullptr;
    if (t->type == GgmlType::F32) {
      if (reinterpret_cast<uintptr_t>(t->data) % alignof(float) != 0) {
        Fail("{}: tensor '{}' is not 4-byte aligned", f_.Path(), name);
      }
      v = reinterpret_cast<const float*>(t->data);
    } else if (t->type == GgmlType::F16 || t->type == GgmlType::BF16) {
      auto buf = std::make_unique<float[]>(n);
      DequantizeRow(t->type, t->data, n, buf.get());
      v = buf.get();
      w_.owned.push_back(std::move(buf));
    } else {
      Fail("{}: tensor '{}' has type {}, expected F32", f_.Path(), name, TypeName(t->type));
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (!std::isfinite(v[i])) {
        Fail("{}: tensor '{}' holds a non-finite value ({}) at index {}", f_.Path(), name, v[i], i);
      }
    }
    return v;
  }

 private:
  void CheckComputable(const GgufTensor& t) {
    if (!Traits(t.type).supported) {
      Fail("{}: tensor '{}' has type {}, which gemma-run cannot compute with", f_.Path(), t.name,
           TypeName(t.type));
    }
  }

  const GgufFile& f_;
  ModelWeights& w_;
  std::unordered_set<std::string_view> used_;  // names of the tensors bound so far
};

std::string Blk(int i, const char* name) { return fmt::format("blk.{}.{}", i, name); }

}  // namespace

Matrix ExpertWeights::Gate(int e) const {
  if (gate_up) return MatrixOf(*gate_up, static_cast<uint64_t>(e) * 2 * ffn_dim, ffn_dim);
  return MatrixOf(*gate, static_cast<uint64_t>(e) * ffn_dim, ffn_dim);
}

Matrix ExpertWeights::Up(int e) const {
  if (gate_up) return MatrixOf(*gate_up, (static_cast<uint64_t>(e) * 2 + 1) * ffn_dim, ffn_dim);
  return MatrixOf(*up, static_cast<uint64_t>(e) * ffn_dim, ffn_dim);
}

Matrix ExpertWeights::Down(int e) const {
  return MatrixOf(*down, static_cast<uint64_t>(e) * down->ne[1], down->ne[1]);
}

ModelWeights BindWeights(const GgufFile& file, const ModelConfig& c) {
  ModelWeights w;
  Binder b(file, w);
  const uint64_t H = c.n_embd, V = c.n_vocab, L = c.n_layer, P = c.n_embd_per_layer;

  w.token_embd = b.Mat("token_embd.weight", H, V);
  w.output = c.tied_lm_head ? w.token_embd : b.Mat("output.weight", H, V);
  w.output_norm = b.Vec("output_norm.weight", H);
  bool any_global = false;
  for (const LayerConfig& l : c.layers) any_global |= !l.sliding;
  if (any_global) w.rope_freqs = b.Vec("rope_freqs.weight", c.head_dim_full / 2, false);
  // RoPE angles are divided by these: zero, negative or non-finite divisors give nan rotations.
  for (uint64_t j = 0; w.rope_freqs && j < static_cast<uint64_t>(c.head_dim_full / 2); ++j) {
    if (!(std::isfinite(w.rope_freqs[j]) && w.rope_freqs[j] > 0.0f)) {
      Fail("{}: tensor 'rope_freqs.weight' holds {} at index {} (RoPE frequency divisors must be "
           "positive and finite)", file.Path(), w.rope_freqs[j], j);
    }
  }
  if (P > 0) {
    w.ple_token_embd = b.Mat("per_layer_token_embd.weight", P * L, V);
    w.ple_model_proj = b.Mat("per_layer_model_proj.weight", H, P * L);
    w.ple_proj_norm = b.Vec("per_layer_proj_norm.weight", P);
  }

  w.layers.resize(L);
  for (const LayerConfig& l : c.layers) {
    LayerWeights& lw = w.layers[l.index];
    const int i = l.index;
    const uint64_t d = l.head_dim, q = l.QDim(), kv = l.KvDim(), F = l.ffn_dim;
    const bool owns = l.OwnsKv();
    lw.attn_norm = b.Vec(Blk(i, "attn_norm.weight"), H);
    lw.attn_q = b.Mat(Blk(i, "attn_q.weight"), H, q);
    // KV-shared layers may carry (unused) K/V weights, as official E-model conversions do.
    lw.attn_k = b.Mat(Blk(i, "attn_k.weight"), H, kv, owns);
    lw.attn_v = b.Mat(Blk(i, "attn_v.weight"), H, kv, false);
    lw.attn_output = b.Mat(Blk(i, "attn_output.weight"), q, H);
    lw.attn_q_norm = b.Vec(Blk(i, "attn_q_norm.weight"), d);
    lw.attn_k_norm = b.Vec(Blk(i, "attn_k_norm.weight"), d, owns);
    lw.post_attention_norm = b.Vec(Blk(i, "post_attention_norm.weight"), H);
    lw.ffn_norm = b.Vec(Blk(i, "ffn_norm.weight"), H);
    lw.ffn_gate = b.Mat(Blk(i, "ffn_gate.weight"), H, F);
    lw.ffn_up = b.Mat(Blk(i, "ffn_up.weight"), H, F);
    lw.ffn_down = b.Mat(Blk(i, "ffn_down.weight"), F, H);
    lw.post_ffw_norm = b.Vec(Blk(i, "post_ffw_norm.weight"), H);
    if (const float* s = b.Vec(Blk(i, "layer_output_scale.weight"), 1, false)) {
      lw.output_scale = s[0];
    }

    if (l.moe) {
      const uint64_t E = c.n_expert, Fe = c.expert_ffn_dim;
      lw.router = b.Mat(Blk(i, "ffn_gate_inp.weight"), H, E);
      lw.router_scale = b.Vec(Blk(i, "ffn_gate_inp.scale"), H);
      lw.pre_ffw_norm_2 = b.Vec(Blk(i, "pre_ffw_norm_2.weight"), H);
      lw.post_ffw_norm_1 = b.Vec(Blk(i, "post_ffw_norm_1.weight"), H);
      lw.post_ffw_norm_2 = b.Vec(Blk(i, "post_ffw_norm_2.weight"), H);
      lw.expert_scale = b.Vec(Blk(i, "ffn_down_exps.scale"), E, false);
      ExpertWeights& ex = lw.experts;
      ex.ffn_dim = static_cast<int>(Fe);
      ex.gate_up = b.Mat3(Blk(i, "ffn_gate_up_exps.weight"), {H, 2 * Fe, E}, false);
      if (!ex.gate_up) {
        ex.gate = b.Mat3(Blk(i, "ffn_gate_exps.weight"), {H, Fe, E}, true);
        ex.up = b.Mat3(Blk(i, "ffn_up_exps.weight"), {H, Fe, E}, true);
      }
      ex.down = b.Mat3(Blk(i, "ffn_down_exps.weight"), {Fe, H, E}, true);
    }

    if (P > 0) {
      lw.ple_gate = b.Mat(Blk(i, "inp_gate.weight"), H, P);
      lw.ple_proj = b.Mat(Blk(i, "proj.weight"), P, H);
      lw.ple_post_norm = b.Vec(Blk(i, "post_norm.weight"), H);
    }
  }
  b.CheckAllUsed();
  return w;
}

}  // namespace gemma
