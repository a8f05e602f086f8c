#include "runtime/kv_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "runtime/error.h"

namespace gemma {
namespace {

size_t PageSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }

// Ring sizes are rounded to this (a multiple of kAttentionKeyBlock, so key blocks never wrap).
constexpr int64_t kRingGranule = 256;
static_assert(kRingGranule % kAttentionKeyBlock == 0);

// Regions at least this big ask for transparent huge pages (fewer TLB misses when attention
// streams through a long context); smaller ones keep 4K pages so residency tracks use closely.
constexpr size_t kHugePageMinBytes = size_t{64} << 20;

}  // namespace

KvCache::KvCache(const ModelConfig& config, const KvCacheOptions& options)
    : n_ctx_(options.n_ctx), type_(options.type) {
  if (n_ctx_ <= 0) Fail("KV cache: context size must be positive, got {}", n_ctx_);
  layers_.resize(config.layers.size());
  const size_t page = PageSize();
  size_t total = 0;
  for (const LayerConfig& l : config.layers) {
    Layer& c = layers_[static_cast<size_t>(l.index)];
    c.source = l.kv_source;
    c.owns = l.OwnsKv();
    c.sliding = l.sliding && l.window > 0;
    if (!c.owns) continue;
    if (static_cast<size_t>(l.head_dim) % KvBlockSize(type_) != 0) {
      Fail("KV cache: head dim {} of layer {} is not a multiple of the {} block size {}",
           l.head_dim, l.index, KvTypeName(type_), KvBlockSize(type_));
    }
    c.row_floats = l.KvDim();
    c.head_bytes = KvRowBytes(type_, static_cast<size_t>(l.head_dim));
    c.slot_bytes = c.head_bytes * static_cast<size_t>(l.n_kv_head);
    c.slots = n_ctx_;
    if (c.sliding) {
      // The window before the oldest query of a chunk, the chunk itself, and the margin.
      const int64_t need = static_cast<int64_t>(
          RoundUp(static_cast<size_t>(l.window - 1 + std::max<int64_t>(1, options.max_batch) +
                                      std::max<int64_t>(0, options.rewind_margin)),
                  kRingGranule));
      c.slots = std::min(n_ctx_, need);
    }
    total += 2 * RoundUp(static_cast<size_t>(c.slots) * c.slot_bytes, page);
  }
  if (total > 0) {
    void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      Fail("KV cache: cannot reserve {} bytes of address space for a {}-token context: {}", total,
           n_ctx_, std::strerror(errno));
    }
    base_ = static_cast<uint8_t*>(p);
    mapped_ = total;
  }
  size_t offset = 0;
  for (Layer& c : layers_) {
    if (!c.owns) continue;
    const size_t region = RoundUp(static_cast<size_t>(c.slots) * c.slot_bytes, page);
    c.k = base_ + offset;
    c.v = base_ + offset + region;
    if (region >= kHugePageMinBytes) {
      ::madvise(c.k, 2 * region, MADV_HUGEPAGE);  // advisory: failure is harmless
    }
    offset += 2 * region;
  }
}

KvCache::~KvCache() {
  if (base_) ::munmap(base_, mapped_);
}

void KvCache::Write(int layer, const int64_t* pos, size_t n, const float* k, const float* v,
                    size_t stride) {
  Layer& c = layers_[static_cast<size_t>(layer)];
  const size_t floats = static_cast<size_t>(c.row_floats);
  auto write_row = [&](size_t i) {
    const size_t slot = static_cast<size_t>(pos[i] % c.slots);
    EncodeKvRow(type_, k + i * stride, floats, c.k + slot * c.slot_bytes);
    EncodeKvRow(type_, v + i * stride, floats, c.v + slot * c.slot_bytes);
  };
  if (n == 1) {
    write_row(0);
  } else {
    tbb::parallel_for(size_t{0}, n, write_row);
  }
  // Writing position p overwrote p - slots in a ring.
  for (size_t i = 0; i < n; ++i) c.oldest = std::max(c.oldest, pos[i] - c.slots + 1);
}

KvView KvCache::View(int layer) const {
  const Layer& c = layers_[static_cast<size_t>(layers_[static_cast<size_t>(layer)].source)];
  KvView view;
  view.k = KvStore{type_, c.k, c.slot_bytes, c.head_bytes, c.slots};
  view.v = KvStore{type_, c.v, c.slot_bytes, c.head_bytes, c.slots};
  return view;
}

void KvCache::FillRandom(int64_t n, uint64_t seed) {
  for (size_t li = 0; li < layers_.size(); ++li) {
    Layer& c = layers_[li];
    if (!c.owns || n <= 0) continue;
    // A pool of random rows, cycled with a stride so neighbouring positions differ.
    constexpr size_t kPool = 61;
    const size_t floats = static_cast<size_t>(c.row_floats);
    std::vector<float> pool(kPool * floats);
    std::mt19937_64 rng(seed + li);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& x : pool) x = normal(rng);
    std::vector<uint8_t> encoded(kPool * c.slot_bytes);
    for (size_t i = 0; i < kPool; ++i) EncodeKvRow(type_, &pool[i * floats], floats, &encoded[i * c.slot_bytes]);
    const int64_t first = std::max<int64_t>(0, n - c.slots);
    tbb::parallel_for(first, n, [&](int64_t p) {
      const size_t slot = static_cast<size_t>(p % c.slots);
      const size_t pk = static_cast<size_t>(p) % kPool, pv = (static_cast<size_t>(p) * 7 + 3) % kPool;
      std::memcpy(c.k + slot * c.slot_bytes, &encoded[pk * c.slot_bytes], c.slot_bytes);
      std::memcpy(c.v + slot * c.slot_bytes, &encoded[pv * c.slot_bytes], c.slot_bytes);
    });
    c.oldest = std::max<int64_t>(0, n - c.slots);
  }
}

void KvCache::DiscardBefore(int layer, int64_t pos) {
  Layer& c = layers_[static_cast<size_t>(layer)];
  c.oldest = std::max<int64_t>(0, pos);
}

uint64_t KvCache::Bytes() const {
  uint64_t b = 0;
  for (const Layer& c : layers_) {
    if (c.owns) b += 2 * static_cast<uint64_t>(c.slots) * c.slot_bytes;
  }
  return b;
}

uint64_t KvCache::ResidentBytes() const {
  if (!base_) return 0;
  const size_t page = PageSize();
  std::vector<unsigned char> resident((mapped_ + page - 1) / page);
  if (::mincore(base_, mapped_, resident.data()) != 0) return 0;
  uint64_t pages = 0;
  for (unsigned char r : resident) pages += r & 1u;
  return pages * page;
}

std::string KvCache::Describe() const {
  int n_global = 0, n_sliding = 0;
  int64_t ring = 0;
  for (const Layer& c : layers_) {
    if (!c.owns) continue;
    if (c.sliding && c.slots < n_ctx_) {
      ++n_sliding;
      ring = std::max(ring, c.slots);
    } else {
      ++n_global;
    }
  }
  std::string s = fmt::format("KV cache {}: {} layers x {} positions", KvTypeName(type_), n_global, n_ctx_);
  if (n_sliding > 0) s += fmt::format(" + {} sliding layers x {}-slot rings", n_sliding, ring);
  s += fmt::format(", {:.1f} MiB at full context", static_cast<double>(Bytes()) / (1 << 20));
  return s;
}

}  // namespace gemma
