// Synthetic Gemma 4 GGUF files: the real tensor layout and metadata of any variant, filled with
// seeded pseudo-random weights. Used to prove correctness against llama.cpp on the very same
// file, to benchmark, and as the demo model. Deterministic: the same spec gives the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"
#include "runtime/gguf_writer.h"

namespace gemma {

struct SynthSpec {
  std::string preset;  // tiny | tiny-e | tiny-moe | e2b | e4b | 26b-a4b | 31b
  std::string name;    // general.name
  int n_layer = 6;
  int n_embd = 128;
  int n_head = 4;
  std::vector<int> n_kv_head;   // per layer
  int head_dim_swa = 32;
  int head_dim_full = 64;
  std::vector<bool> sliding;    // per layer, true = sliding window
  int sliding_window = 8;
  int shared_kv_layers = 0;
  int n_embd_per_layer = 0;     // PLE width (0: none)
  std::vector<int> ffn;         // per layer dense FFN width
  int n_expert = 0;
  int n_expert_used = 0;
  int expert_ffn = 0;
  bool kv_eq_v_global = false;  // global layers have no attn_v (26B/31B)
  bool fused_gate_up = true;    // experts as ffn_gate_up_exps (else separate gate/up tensors)
  bool shared_kv_weights = true;  // write the unused attn_k/attn_v/attn_k_norm on shared layers
  bool layer_output_scale = true;
  int n_vocab = 1024;
  int n_ctx = 4096;
  float rope_base_full = 1e6f;
  float rope_base_swa = 1e4f;
  float partial_rotary = 0.25f;  // fraction of global-layer RoPE pairs that rotate
  float softcap = 30.0f;
  float norm_eps = 1e-6f;
  float embd_rms = 0.25f;        // RMS of the scaled input embedding
  float output_norm_mean = 12.0f;
  uint64_t seed = 42;
};

// One of the presets above; throws gemma::Error for an unknown name.
SynthSpec SynthPreset(std::string_view preset);

// Applies "key=value" (e.g. "n_layer=4", "sliding=SSF", "ffn=256,512", "seed=7"); throws on an
// unknown key or a malformed value. Per-layer lists given as one value are broadcast.
void ApplySynthOverride(SynthSpec& spec, std::string_view assignment);

// Checks the spec describes a model llama.cpp and gemma-run can both load; throws otherwise.
void ValidateSynthSpec(const SynthSpec& spec);

struct SynthOptions {
  // Weight type of the matrices: F32, F16, BF16, Q8_0, Q4_0, or a llama-quantize mix by its
  // file type name (Q4_K_M, Q5_K_M, Q6_K: K-quants with llama.cpp's per-tensor choices).
  // 1-D tensors are always F32, as llama-quantize keeps them.
  std::string type = "F32";
  // Write F32 values equal to the decoded weights of the `type` file (its exact "twin").
  bool f32_twin = false;
  // Copy the tokenizer (every tokenizer.* key) from this GGUF instead of the built-in vocab.
  std::string vocab_from;
};

struct SynthResult {
  size_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;
};

SynthResult WriteSynthModel(const SynthSpec& spec, const SynthOptions& options,
                            const std::string& path);

// The writer WriteSynthModel uses, before anything is generated (tensor data is produced while
// the file is written). Lets tests drop tensors or edit metadata cheaply.
GgufWriter BuildSynthWriter(const SynthSpec& spec, const SynthOptions& options,
                            SynthResult* result = nullptr);

// The value of element `i` of the tensor `name` (before any quantization). Exposed for tests.
float SynthValue(uint64_t seed, std::string_view tensor_name, uint64_t i);

// The built-in demo tokenizer: tokens, types and merges (used when no vocab is given).
struct SynthVocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  std::vector<std::string> merges;
};
SynthVocab BuildSynthVocab(int n_vocab);

}  // namespace gemma
