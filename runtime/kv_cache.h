// The key/value cache: for every layer that owns one, the normalised and rotated K and the
// normalised V of every position seen so far. KV-shared layers own nothing and read their
// source layer's cache.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/model_config.h"

namespace gemma {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t n_ctx);

  int64_t Capacity() const { return n_ctx_; }
  // Row of K / V at `pos` for KV-owning layer `layer`: n_kv_head * head_dim floats.
  float* Key(int layer, int64_t pos) { return &layers_[layer].k[Offset(layer, pos)]; }
  float* Value(int layer, int64_t pos) { return &layers_[layer].v[Offset(layer, pos)]; }
  const float* Key(int layer, int64_t pos) const { return &layers_[layer].k[Offset(layer, pos)]; }
  const float* Value(int layer, int64_t pos) const { return &layers_[layer].v[Offset(layer, pos)]; }
  // Bytes held by the cache.
  uint64_t Bytes() const;

 private:
  struct Layer {
    int64_t row = 0;  // floats per position
    std::vector<float> k, v;
  };
  size_t Offset(int layer, int64_t pos) const {
    return static_cast<size_t>(pos) * static_cast<size_t>(layers_[layer].row);
  }
  int64_t n_ctx_;
  std::vector<Layer> layers_;
};

}  // namespace gemma
