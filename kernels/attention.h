// Causal (optionally sliding-window) multi-head attention with grouped KV heads, scale 1.0
// (Gemma 4 normalises Q and K instead of scaling scores).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace gemma {

struct AttentionShape {
  int n_head = 0;
  int n_kv_head = 0;
  int head_dim = 0;
  int window = 0;  // 0: global; else key j is visible from query i iff i - j < window
};

// Reads the K or V row (n_kv_head * head_dim floats) of absolute position `pos`.
using KvRowFn = std::function<const float*(int64_t pos)>;

// q: [n_tokens][n_head * head_dim], query t at absolute position positions[t]; keys/values for
// every visible position must already be readable through key_row / value_row.
// out: [n_tokens][n_head * head_dim].
void Attention(const AttentionShape& shape, const float* q, const int64_t* positions,
               size_t n_tokens, const KvRowFn& key_row, const KvRowFn& value_row, float* out);

}  // namespace gemma
