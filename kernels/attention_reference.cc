// The scalar twin of Attention(): textbook attention, one (token, head) at a time, straight
// from the definition. Slow and obviously right; the SIMD kernel is tested against it.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention.h"

namespace gemma {

void AttentionReference(const AttentionShape& s, const float* q, const int64_t* positions,
                        size_t n_tokens, const KvView& kv, float* out) {
  const size_t d = static_cast<size_t>(s.head_dim);
  const size_t q_stride = static_cast<size_t>(s.n_head) * d;
  const int group = s.n_head / s.n_kv_head;
  std::vector<float> key(d), value(d);
  std::vector<double> scores;
  for (size_t t = 0; t < n_tokens; ++t) {
    const int64_t p = positions[t];
    int64_t first = kv.min_pos;
    if (s.window > 0) first = std::max<int64_t>(first, p - s.window + 1);
    for (int h = 0; h < s.n_head; ++h) {
      const int g = h / group;
      const float* qh = q + t * q_stride + static_cast<size_t>(h) * d;
      float* o = out + t * q_stride + static_cast<size_t>(h) * d;
      scores.clear();
      double max = -INFINITY;
      for (int64_t j = first; j <= p; ++j) {
        DecodeKvRow(kv.k.type, kv.k.Head(j, g), d, key.data());
        double dot = 0.0;
        for (size_t i = 0; i < d; ++i) dot += static_cast<double>(qh[i]) * key[i];
        scores.push_back(dot);
        max = std::max(max, dot);
      }
      double sum = 0.0;
      for (double& sc : scores) {
        sc = std::exp(sc - max);
        sum += sc;
      }
      std::vector<double> acc(d, 0.0);
      for (int64_t j = first; j <= p; ++j) {
        DecodeKvRow(kv.v.type, kv.v.Head(j, g), d, value.data());
        const double w = scores[static_cast<size_t>(j - first)] / sum;
        for (size_t i = 0; i < d; ++i) acc[i] += w * value[i];
      }
      for (size_t i = 0; i < d; ++i) o[i] = static_cast<float>(acc[i]);
    }
  }
}

}  // namespace gemma
