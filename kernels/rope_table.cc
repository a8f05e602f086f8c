#include "kernels/rope_table.h"

#include <cmath>

namespace gemma {

void RopeTable::Build(const int64_t* positions, size_t n, size_t rope_dims, float base,
                      const float* freq_factors) {
  n_ = n;
  pairs_ = rope_dims / 2;
  cos_.resize(n * pairs_);
  sin_.resize(n * pairs_);
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(rope_dims));
  for (size_t i = 0; i < n; ++i) {
    float theta = static_cast<float>(positions[i]);
    for (size_t j = 0; j < pairs_; ++j) {
      const float angle = freq_factors ? theta / freq_factors[j] : theta;
      cos_[i * pairs_ + j] = std::cos(angle);
      sin_[i * pairs_ + j] = std::sin(angle);
      theta *= theta_scale;
    }
  }
}

void RopeTable::Apply(size_t i, float* x, size_t head_dim) const {
  const size_t half = head_dim / 2;
  const float* __restrict c = &cos_[i * pairs_];
  const float* __restrict s = &sin_[i * pairs_];
  float* __restrict lo = x;
  float* __restrict hi = x + half;
  for (size_t j = 0; j < pairs_; ++j) {
    const float a = lo[j], b = hi[j];
    lo[j] = a * c[j] - b * s[j];
    hi[j] = b * c[j] + a * s[j];
  }
}

}  // namespace gemma
