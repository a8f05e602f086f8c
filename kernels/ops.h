// Element-wise and per-vector operations of the Gemma 4 forward pass, in fp32.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gemma {

// y = x / sqrt(mean(x^2) + eps) * w   (w may be null: weight-less RMSNorm). In place is fine.
void RmsNorm(const float* x, const float* w, size_t n, float eps, float* y);

// tanh-approximation GELU ("gelu_pytorch_tanh"), exact in fp32.
float GeluTanh(float x);
void GeluTanh(float* x, size_t n);

// llama.cpp's CPU GELU: input rounded to fp16, looked up in a table of fp16 results (about 4e-3
// relative error). Only for tests that show where gemma-run and llama.cpp differ because of it;
// when enabled (process-wide), the fp32 reference path (Precision::kExact) uses it.
float GeluTanhLlamaCppTable(float x);
void SetLlamaCppGeluForTesting(bool enabled);
bool LlamaCppGeluForTesting();
// GELU as the exact path computes it (GeluTanh, or the emulation above when enabled).
float GeluForExactPath(float x);

// NeoX ("rotate half") RoPE on one head vector of length head_dim, in place: element j pairs
// with j + head_dim/2 for j < rope_dims/2, angle pos * base^(-2j/rope_dims) / freq_factors[j]
// (freq_factors may be null). Pairs past rope_dims/2 are left alone.
void RopeNeox(float* x, size_t head_dim, size_t rope_dims, float base, const float* freq_factors,
              int64_t pos);

// x = cap * tanh(x / cap), in place.
void Softcap(float* x, size_t n, float cap);

// Numerically stable softmax in place.
void Softmax(float* x, size_t n);

}  // namespace gemma
