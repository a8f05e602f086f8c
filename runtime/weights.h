// Typed views of every Gemma 4 tensor, bound once at load from the GGUF tensor table and checked
// against the shapes the ModelConfig implies. Matrices stay in the mapping; the small 1-D
// vectors (norm gains, scales) are used in place when F32 and converted once otherwise.
#pragma once

#include <memory>
#include <vector>

#include "kernels/matrix.h"
#include "runtime/gguf.h"
#include "runtime/model_config.h"

namespace gemma {

struct ExpertWeights {
  const GgufTensor* gate_up = nullptr;  // fused [H, 2*Fe, E]: rows [0,Fe) gate, [Fe,2Fe) up
  const GgufTensor* gate = nullptr;     // or separate [H, Fe, E] ...
  const GgufTensor* up = nullptr;       // ... and [H, Fe, E]
  const GgufTensor* down = nullptr;     // [Fe, H, E]
  int ffn_dim = 0;

  Matrix Gate(int e) const;
  Matrix Up(int e) const;
  Matrix Down(int e) const;
};

struct LayerWeights {
  const float* attn_norm = nullptr;
  Matrix attn_q, attn_k, attn_v, attn_output;  // attn_k/attn_v invalid where unused
  const float* attn_q_norm = nullptr;
  const float* attn_k_norm = nullptr;
  const float* post_attention_norm = nullptr;

  const float* ffn_norm = nullptr;  // HF pre_feedforward_layernorm
  Matrix ffn_gate, ffn_up, ffn_down;
  const float* post_ffw_norm = nullptr;

  // MoE block (26B-A4B).
  Matrix router;                          // ffn_gate_inp [H, E]
  const float* router_scale = nullptr;    // ffn_gate_inp.scale [H]
  const float* pre_ffw_norm_2 = nullptr;
  const float* post_ffw_norm_1 = nullptr;
  const float* post_ffw_norm_2 = nullptr;
  const float* expert_scale = nullptr;    // ffn_down_exps.scale [E], may be absent
  ExpertWeights experts;

  // Per-layer embeddings (E2B/E4B).
  Matrix ple_gate;   // inp_gate [H, P]
  Matrix ple_proj;   // proj [P, H]
  const float* ple_post_norm = nullptr;

  float output_scale = 1.0f;  // layer_output_scale (HF layer_scalar)
};

struct ModelWeights {
  Matrix token_embd;  // [H, V]; also the LM head when tied
  Matrix output;      // untied LM head, or == token_embd
  const float* output_norm = nullptr;
  const float* rope_freqs = nullptr;  // [head_dim_full/2] frequency divisors, may be absent
  Matrix ple_token_embd;              // per_layer_token_embd [P*L, V]
  Matrix ple_model_proj;              // per_layer_model_proj [H, P*L]
  const float* ple_proj_norm = nullptr;
  std::vector<LayerWeights> layers;

  std::vector<std::unique_ptr<float[]>> owned;  // converted 1-D tensors
};

// Binds and validates all tensors. Throws gemma::Error naming the tensor, the expected shape or
// type and what the file holds.
ModelWeights BindWeights(const GgufFile& file, const ModelConfig& config);

}  // namespace gemma
