// Cosines and sines of NeoX RoPE angles for the positions of one forward chunk, computed once
// and applied to every head of every layer of the same RoPE kind (instead of two libm calls per
// pair per head per layer). The angles are built exactly as RopeNeox (kernels/ops.h) builds them
// (llama.cpp's repeated multiplication), so the rotation is bit-identical to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gemma {

class RopeTable {
 public:
  // Angles for positions[0..n): pair j of position p rotates by
  // p * base^(-2j/rope_dims) / freq_factors[j] (freq_factors may be null), j < rope_dims / 2.
  void Build(const int64_t* positions, size_t n, size_t rope_dims, float base,
             const float* freq_factors);
  // Rotates one head vector (head_dim >= rope_dims) of the i-th position, in place.
  void Apply(size_t i, float* x, size_t head_dim) const;
  size_t Positions() const { return n_; }

 private:
  size_t n_ = 0;
  size_t pairs_ = 0;
  std::vector<float> cos_, sin_;  // [n][pairs]
};

}  // namespace gemma
