// Internal to kernels/attention*: one unit of attention work as the TBB scheduler hands it to
// the per-target SIMD kernel (attention-inl.h), and the kernel's scratch layout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/attention.h"

namespace gemma::attention_internal {

// Query rows processed together are padded to a multiple of this (>= 2x the widest vector).
constexpr int kRowPad = 32;

inline int PaddedRows(int rows) { return (rows + kRowPad - 1) / kRowPad * kRowPad; }

// A block of query rows that share one KV head, against the keys in [key_begin, key_end).
// Row r sees the keys in [lo[r], hi[r]] (inclusive); rows are (token, head in group) pairs.
struct AttendTask {
  const KvStore* k = nullptr;
  const KvStore* v = nullptr;
  int kv_head = 0;
  int head_dim = 0;
  int rows = 0;
  const float* const* q_rows = nullptr;  // [rows] -> head_dim floats
  const int32_t* lo = nullptr;           // [rows]
  const int32_t* hi = nullptr;           // [rows]
  int64_t key_begin = 0, key_end = 0;
  // The task covers all of every row's keys: write the normalised output here ...
  float* const* out_rows = nullptr;  // [rows] -> head_dim floats
  // ... or it covers a part of them: write the unnormalised softmax state for MergePartials.
  float* part_o = nullptr;  // [rows][head_dim]: sum of exp(s - m) * v
  float* part_m = nullptr;  // [rows]: max score seen (-inf if none)
  float* part_l = nullptr;  // [rows]: sum of exp(s - m)
};

// Floats of per-thread scratch a task needs (64-byte aligned by the caller).
inline size_t TaskScratchFloats(int rows, int head_dim) {
  const size_t m = static_cast<size_t>(PaddedRows(rows));
  const size_t d = static_cast<size_t>(head_dim);
  const size_t bk = static_cast<size_t>(kAttentionKeyBlock);
  return 2 * bk * d      // decoded K and V blocks
         + m * bk        // scores / probabilities of one block
         + m * d         // queries (row-major or transposed)
         + m * d         // output accumulators
         + 4 * m         // running max, running sum, rescale factors, spare
         + 2 * m;        // lo / hi as int32
}

}  // namespace gemma::attention_internal
