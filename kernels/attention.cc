// Attention(): splits the work into tasks (attention_task.h), runs them on TBB threads through
// the best SIMD target (attention-inl.h), and merges the partial softmax states of tasks that
// covered only part of a row's keys.

// Arrays of SIMD vectors (the register tiles) are not allowed for sizeless SVE types; the Arm
// targets that matter here (NEON) are unaffected.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/attention-inl.h"

HWY_BEFORE_NAMESPACE();
namespace gemma {
namespace HWY_NAMESPACE {

void AttendTaskImpl(const attention_internal::AttendTask& task, float* scratch) {
  RunAttendTask(task, scratch);
}

const char* TargetNameImpl() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/attention.h"
#include "kernels/attention_task.h"

namespace gemma {

HWY_EXPORT(AttendTaskImpl);
HWY_EXPORT(TargetNameImpl);

namespace {

using attention_internal::AttendTask;

// About this many query rows (tokens x heads of a group) share each decoded K/V block: more rows
// decode K/V less often (and stream it from memory less often) but need more L2 (d = 512: Q,
// O, decoded K and V blocks take ~650 KB at 128 rows).
constexpr int kRowsPerTask = 128;
// Fewer (KV head, query block) tasks than this are split along the keys, down to segments of
// at least kMinSegmentKeys. Depends only on the shapes, so results do not depend on threads.
constexpr size_t kMinTasks = 16;
constexpr int64_t kMinSegmentKeys = 8 * kAttentionKeyBlock;

float* ThreadScratch(size_t floats) {
  thread_local hwy::AlignedFreeUniquePtr<float[]> buffer;
  thread_local size_t capacity = 0;
  if (floats > capacity) {
    buffer = hwy::AllocateAligned<float>(floats);
    capacity = floats;
  }
  return buffer.get();
}

// The rows of one (KV head, query block) pair and where its tasks put their results.
struct RowBlock {
  size_t first_row = 0;  // index into the per-row arrays
  int rows = 0;
  int64_t key_begin = 0, key_end = 0;
  int segments = 1;
  size_t first_task = 0;
  std::vector<float> part_o, part_m, part_l;  // [segments][rows]... when segments > 1
};

}  // namespace

const char* AttentionTarget() { return HWY_DYNAMIC_DISPATCH(TargetNameImpl)(); }

void Attention(const AttentionShape& s, const float* q, const int64_t* positions, size_t n_tokens,
               const KvView& kv, float* out) {
  if (n_tokens == 0) return;
  assert(s.n_head % s.n_kv_head == 0 && s.head_dim % 16 == 0);
  const int group = s.n_head / s.n_kv_head;
  const size_t d = static_cast<size_t>(s.head_dim);
  const size_t q_stride = static_cast<size_t>(s.n_head) * d;
  const size_t tokens_per_block = static_cast<size_t>(std::max(1, kRowsPerTask / group));
  const size_t n_qblocks = (n_tokens + tokens_per_block - 1) / tokens_per_block;

  // Per row (KV head g, token t, head hh of the group), in that order.
  const size_t n_rows = static_cast<size_t>(s.n_kv_head) * n_tokens * static_cast<size_t>(group);
  std::vector<const float*> q_rows(n_rows);
  std::vector<float*> out_rows(n_rows);
  std::vector<int32_t> lo(n_rows), hi(n_rows);
  size_t row = 0;
  for (int g = 0; g < s.n_kv_head; ++g) {
    for (size_t t = 0; t < n_tokens; ++t) {
      const int64_t p = positions[t];
      int64_t first = kv.min_pos;
      if (s.window > 0) first = std::max<int64_t>(first, p - s.window + 1);
      for (int hh = 0; hh < group; ++hh, ++row) {
        const size_t off = t * q_stride + static_cast<size_t>(g * group + hh) * d;
        q_rows[row] = q + off;
        out_rows[row] = out + off;
        lo[row] = static_cast<int32_t>(first);
        hi[row] = static_cast<int32_t>(p);
      }
    }
  }

  std::vector<RowBlock> blocks;
  blocks.reserve(static_cast<size_t>(s.n_kv_head) * n_qblocks);
  for (int g = 0; g < s.n_kv_head; ++g) {
    for (size_t b = 0; b < n_qblocks; ++b) {
      RowBlock rb;
      const size_t t0 = b * tokens_per_block;
      const size_t t1 = std::min(n_tokens, t0 + tokens_per_block);
      rb.first_row = (static_cast<size_t>(g) * n_tokens + t0) * static_cast<size_t>(group);
      rb.rows = static_cast<int>((t1 - t0) * static_cast<size_t>(group));
      int64_t begin = std::numeric_limits<int64_t>::max(), end = std::numeric_limits<int64_t>::min();
      for (int r = 0; r < rb.rows; ++r) {
        begin = std::min<int64_t>(begin, lo[rb.first_row + static_cast<size_t>(r)]);
        end = std::max<int64_t>(end, hi[rb.first_row + static_cast<size_t>(r)] + 1);
      }
      rb.key_begin = begin;
      rb.key_end = std::max(begin, end);
      blocks.push_back(std::move(rb));
    }
  }

  // Too few tasks to keep the threads busy (decode): split each block's keys into segments.
  if (blocks.size() < kMinTasks) {
    const size_t want = (kMinTasks + blocks.size() - 1) / blocks.size();
    for (RowBlock& rb : blocks) {
      const int64_t keys = rb.key_end - rb.key_begin;
      rb.segments = static_cast<int>(std::clamp<int64_t>(keys / kMinSegmentKeys, 1, static_cast<int64_t>(want)));
    }
  }

  std::vector<AttendTask> tasks;
  for (RowBlock& rb : blocks) {
    rb.first_task = tasks.size();
    AttendTask base;
    base.k = &kv.k;
    base.v = &kv.v;
    base.kv_head = static_cast<int>(rb.first_row / (n_tokens * static_cast<size_t>(group)));
    base.head_dim = s.head_dim;
    base.rows = rb.rows;
    base.q_rows = &q_rows[rb.first_row];
    base.lo = &lo[rb.first_row];
    base.hi = &hi[rb.first_row];
    if (rb.segments == 1) {
      base.key_begin = rb.key_begin;
      base.key_end = rb.key_end;
      base.out_rows = &out_rows[rb.first_row];
      tasks.push_back(base);
      continue;
    }
    const size_t r = static_cast<size_t>(rb.rows);
    rb.part_o.resize(static_cast<size_t>(rb.segments) * r * d);
    rb.part_m.resize(static_cast<size_t>(rb.segments) * r);
    rb.part_l.resize(static_cast<size_t>(rb.segments) * r);
    // Segment boundaries on key-block multiples, so each segment visits whole blocks.
    const int64_t first_block = rb.key_begin / kAttentionKeyBlock;
    const int64_t n_kblocks = (rb.key_end - 1) / kAttentionKeyBlock - first_block + 1;
    for (int seg = 0; seg < rb.segments; ++seg) {
      AttendTask t = base;
      const int64_t b0 = first_block + n_kblocks * seg / rb.segments;
      const int64_t b1 = first_block + n_kblocks * (seg + 1) / rb.segments;
      t.key_begin = std::max(rb.key_begin, b0 * kAttentionKeyBlock);
      t.key_end = std::min(rb.key_end, b1 * kAttentionKeyBlock);
      t.part_o = &rb.part_o[static_cast<size_t>(seg) * r * d];
      t.part_m = &rb.part_m[static_cast<size_t>(seg) * r];
      t.part_l = &rb.part_l[static_cast<size_t>(seg) * r];
      tasks.push_back(t);
    }
  }

  const auto run = HWY_DYNAMIC_DISPATCH(AttendTaskImpl);
  // Later query blocks see more keys under the causal mask: start with the last tasks.
  tbb::parallel_for(size_t{0}, tasks.size(), [&](size_t i) {
    const AttendTask& t = tasks[tasks.size() - 1 - i];
    run(t, ThreadScratch(attention_internal::TaskScratchFloats(t.rows, t.head_dim)));
  });

  // Merge segments: rescale each to the common max, add, normalise.
  for (RowBlock& rb : blocks) {
    if (rb.segments == 1) continue;
    const size_t r_count = static_cast<size_t>(rb.rows);
    tbb::parallel_for(size_t{0}, r_count, [&](size_t r) {
      float m_max = -std::numeric_limits<float>::infinity();
      for (int seg = 0; seg < rb.segments; ++seg) m_max = std::max(m_max, rb.part_m[static_cast<size_t>(seg) * r_count + r]);
      float* dst = out_rows[rb.first_row + r];
      std::fill(dst, dst + d, 0.0f);
      float l_sum = 0.0f;
      for (int seg = 0; seg < rb.segments; ++seg) {
        const float m_seg = rb.part_m[static_cast<size_t>(seg) * r_count + r];
        if (m_seg == -std::numeric_limits<float>::infinity()) continue;  // saw no key
        const float w = std::exp(m_seg - m_max);
        l_sum += w * rb.part_l[static_cast<size_t>(seg) * r_count + r];
        const float* po = &rb.part_o[(static_cast<size_t>(seg) * r_count + r) * d];
        for (size_t i = 0; i < d; ++i) dst[i] += w * po[i];
      }
      const float inv = l_sum > 0.0f ? 1.0f / l_sum : 0.0f;
      for (size_t i = 0; i < d; ++i) dst[i] *= inv;
    });
  }
}

}  // namespace gemma

#endif  // HWY_ONCE
