// The shape of a Gemma 4 text decoder, read once from GGUF metadata (and tensor presence) and
// validated. The four published variants differ only in these numbers: one LayerConfig per layer
// drives the single interpreter.
#pragma once

#include <string>
#include <vector>

#include "runtime/gguf.h"

namespace gemma {

struct LayerConfig {
  int index = 0;
  bool sliding = false;   // sliding-window (local) attention; otherwise global
  int window = 0;         // sliding window in tokens (0 on global layers)
  int head_dim = 0;       // per-head width of Q, K and V (256 sliding / 512 global in Gemma 4)
  int n_head = 0;
  int n_kv_head = 0;
  int kv_source = 0;      // the layer whose K/V cache this layer attends over (itself if it owns one)
  bool has_v = true;      // has attn_v; otherwise V is the raw K projection ("attention_k_eq_v")
  int ffn_dim = 0;        // dense GeGLU width (the shared MLP on MoE layers)
  bool moe = false;       // has the routed-expert block
  float rope_base = 10000.0f;
  int rope_dims = 0;      // rotated dimensions (llama.cpp's n_rot)
  bool has_output_scale = false;  // blk.N.layer_output_scale.weight present

  bool OwnsKv() const { return kv_source == index; }
  int QDim() const { return n_head * head_dim; }
  int KvDim() const { return n_kv_head * head_dim; }
};

struct ModelConfig {
  std::string name;          // general.name, if any
  int n_layer = 0;
  int n_embd = 0;            // hidden size H
  int n_vocab = 0;
  int n_ctx_train = 0;       // gemma4.context_length
  int head_dim_full = 0;     // gemma4.attention.key_length
  int head_dim_swa = 0;      // gemma4.attention.key_length_swa
  int sliding_window = 0;
  int shared_kv_layers = 0;  // the last this-many layers reuse an earlier layer's K/V
  int n_embd_per_layer = 0;  // per-layer-embedding width P (0: no PLE)
  int n_expert = 0;
  int n_expert_used = 0;
  int expert_ffn_dim = 0;
  float rope_base_full = 1e6f;
  float rope_base_swa = 1e4f;
  float final_softcap = 30.0f;  // 0 disables
  float norm_eps = 1e-6f;
  bool tied_lm_head = true;     // no output.weight: the LM head is token_embd
  std::vector<LayerConfig> layers;

  // "E2B", "E4B", "26B-A4B", "31B" when the shape matches a published model, else "custom".
  std::string Variant() const;
  int FirstSharedLayer() const { return n_layer - shared_kv_layers; }
};

// Reads and validates the config of a gemma4 GGUF. Throws gemma::Error naming the file, the key
// and what was expected versus found.
ModelConfig ReadModelConfig(const GgufFile& file);

}  // namespace gemma
