// Causal (optionally sliding-window) multi-head attention with grouped KV heads over a KV cache
// in any KvType, scale 1.0 (Gemma 4 normalises Q and K instead of scaling scores).
//
// Flash-style: keys are visited in blocks with an online softmax, so no score matrix larger
// than one block is ever held (prefill memory is linear in the context). The query heads that
// share a KV head are processed together, so each cached K/V row is decoded once per group.
// Work is split over TBB tasks by (KV head, block of query tokens) and, when that gives too few
// tasks (decode), by ranges of keys whose partial softmax states are merged at the end.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kv_format.h"

namespace gemma {

// Keys are visited in blocks of this many positions, aligned to multiples of it; ring buffers
// must hold a multiple of it so that an aligned block never wraps.
constexpr int64_t kAttentionKeyBlock = 32;

// One layer's cached keys (or values). Position p lives in slot p % slots: a linear cache has
// at least as many slots as the context, a sliding-window ring fewer (a multiple of
// kAttentionKeyBlock).
struct KvStore {
  KvType type = KvType::kF32;
  const uint8_t* data = nullptr;
  size_t slot_bytes = 0;  // bytes per slot: all KV heads of one position
  size_t head_bytes = 0;  // bytes of one head within a slot
  int64_t slots = 0;

  const uint8_t* Head(int64_t pos, int head) const {
    return data + static_cast<size_t>(pos % slots) * slot_bytes + static_cast<size_t>(head) * head_bytes;
  }
};

struct KvView {
  KvStore k, v;
  // Keys below this position are not in the cache (treated as masked). Used while recomputing a
  // ring that lost its older entries.
  int64_t min_pos = 0;
};

struct AttentionShape {
  int n_head = 0;
  int n_kv_head = 0;
  int head_dim = 0;  // a multiple of KvBlockSize of the cache type
  int window = 0;    // 0: global; else key j is visible from query i iff i - j < window
};

// q: [n_tokens][n_head * head_dim]; query t is at absolute position positions[t] (ascending is
// typical, not required) and sees the keys at positions p with p <= positions[t], p >= min_pos
// and, for a window W, positions[t] - p < W. All of them must already be in the cache.
// out: [n_tokens][n_head * head_dim]. Uses the TBB threads of the calling arena.
void Attention(const AttentionShape& shape, const float* q, const int64_t* positions,
               size_t n_tokens, const KvView& kv, float* out);

// The scalar twin: the same result computed the plain way (all scores of a query, then a
// softmax in double, then the weighted sum of values), one query head at a time. For tests.
void AttentionReference(const AttentionShape& shape, const float* q, const int64_t* positions,
                        size_t n_tokens, const KvView& kv, float* out);

// Name of the Highway target Attention() dispatches to (for tests and logs).
const char* AttentionTarget();

}  // namespace gemma
