#include "kernels/attention.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace gemma {

void Attention(const AttentionShape& s, const float* q, const int64_t* positions, size_t n_tokens,
               const KvRowFn& key_row, const KvRowFn& value_row, float* out) {
  const size_t d = static_cast<size_t>(s.head_dim);
  const size_t q_stride = static_cast<size_t>(s.n_head) * d;
  const int group = s.n_head / s.n_kv_head;
  const size_t n_items = n_tokens * static_cast<size_t>(s.n_head);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n_items), [&](const tbb::blocked_range<size_t>& r) {
    std::vector<float> scores;
    for (size_t item = r.begin(); item != r.end(); ++item) {
      const size_t t = item / static_cast<size_t>(s.n_head);
      const int h = static_cast<int>(item % static_cast<size_t>(s.n_head));
      const size_t kv_off = static_cast<size_t>(h / group) * d;
      const float* qh = q + t * q_stride + static_cast<size_t>(h) * d;
      const int64_t p = positions[t];
      const int64_t first = s.window > 0 ? std::max<int64_t>(0, p - s.window + 1) : 0;
      scores.resize(static_cast<size_t>(p - first + 1));
      float max = -INFINITY;
      for (int64_t j = first; j <= p; ++j) {
        const float* k = key_row(j) + kv_off;
        float dot = 0.0f;
        for (size_t i = 0; i < d; ++i) dot += qh[i] * k[i];
        scores[static_cast<size_t>(j - first)] = dot;
        max = std::max(max, dot);
      }
      double sum = 0.0;
      for (float& sc : scores) {
        sc = std::exp(sc - max);
        sum += sc;
      }
      const float inv = static_cast<float>(1.0 / sum);
      float* o = out + t * q_stride + static_cast<size_t>(h) * d;
      std::fill(o, o + d, 0.0f);
      for (int64_t j = first; j <= p; ++j) {
        const float* v = value_row(j) + kv_off;
        const float w = scores[static_cast<size_t>(j - first)] * inv;
        for (size_t i = 0; i < d; ++i) o[i] += w * v[i];
      }
    }
  });
}

}  // namespace gemma
