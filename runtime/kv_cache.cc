#include "runtime/kv_cache.h"

namespace gemma {

KvCache::KvCache(const ModelConfig& config, int64_t n_ctx) : n_ctx_(n_ctx) {
  layers_.resize(config.layers.size());
  for (const LayerConfig& l : config.layers) {
    if (!l.OwnsKv()) continue;
    Layer& c = layers_[l.index];
    c.row = l.KvDim();
    c.k.assign(static_cast<size_t>(n_ctx * c.row), 0.0f);
    c.v.assign(static_cast<size_t>(n_ctx * c.row), 0.0f);
  }
}

uint64_t KvCache::Bytes() const {
  uint64_t b = 0;
  for (const Layer& l : layers_) b += (l.k.size() + l.v.size()) * sizeof(float);
  return b;
}

}  // namespace gemma
