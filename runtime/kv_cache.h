// The key/value cache: for every layer that owns one, the normalised and rotated K and the
// normalised V of the positions attention still needs, encoded in one KvType.
//
// Layout per layer type:
// * global layers: one slot per position of the context (they see everything);
// * sliding-window layers: a ring of slots (position p in slot p % slots) holding the window,
//   a prefill chunk, and a rewind margin, so that Session::Rewind by up to the margin finds the
//   window still there;
// * KV-shared layers: nothing; they read their source layer's cache.
// K and V are separate regions (V is normalised differently from K even where it is the same
// projection). All of it lives in one anonymous mapping reserved at the maximum size with
// MAP_NORESERVE: the kernel commits a page when a position in it is first written, so a 128K
// context costs address space, not memory, until it is used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "kernels/kv_format.h"
#include "runtime/model_config.h"

namespace gemma {

struct KvCacheOptions {
  int64_t n_ctx = 0;
  KvType type = KvType::kF16;
  int64_t max_batch = 512;      // most positions written by one forward chunk
  int64_t rewind_margin = 512;  // extra ring slots: rewinds of this many tokens need no recompute
};

class KvCache {
 public:
  KvCache(const ModelConfig& config, const KvCacheOptions& options);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  int64_t Capacity() const { return n_ctx_; }
  KvType Type() const { return type_; }

  // Encodes and stores the K and V rows (n_kv_head * head_dim floats each, row i at
  // k + i * stride) of positions pos[0..n) for KV-owning layer `layer`. Parallel over rows.
  void Write(int layer, const int64_t* pos, size_t n, const float* k, const float* v, size_t stride);

  // The K/V stores layer `layer` attends over: its own, or its KV source's. min_pos is 0.
  KvView View(int layer) const;

  // Slots of a layer's cache (positions modulo slots); Capacity() for global layers.
  int64_t Slots(int layer) const { return layers_[static_cast<size_t>(layer)].slots; }
  // The lowest position whose K/V a KV-owning layer still holds (0 unless a ring wrapped).
  int64_t OldestStored(int layer) const { return layers_[static_cast<size_t>(layer)].oldest; }
  // Declares positions below `pos` of a KV-owning layer lost (before recomputing them).
  void DiscardBefore(int layer, int64_t pos);

  // Benchmark helper: writes random unit-RMS K and V rows (like normalised ones) for positions
  // [0, n) of every KV-owning layer (rings: the last `slots` of them).
  void FillRandom(int64_t n, uint64_t seed);

  // Bytes of the whole layout when every slot is written (what is reserved).
  uint64_t Bytes() const;
  // Bytes currently backed by memory (pages written so far), from mincore().
  uint64_t ResidentBytes() const;
  // One line: type, global and sliding slots, bytes. E.g. for the CLI's start-up banner.
  std::string Describe() const;

 private:
  struct Layer {
    bool owns = false;
    int source = 0;
    int64_t slots = 0;
    size_t slot_bytes = 0;
    size_t head_bytes = 0;
    int row_floats = 0;  // n_kv_head * head_dim
    uint8_t* k = nullptr;
    uint8_t* v = nullptr;
    int64_t oldest = 0;
    bool sliding = false;
  };
  int64_t n_ctx_;
  KvType type_;
  std::vector<Layer> layers_;
  uint8_t* base_ = nullptr;
  size_t mapped_ = 0;
};

}  // namespace gemma
