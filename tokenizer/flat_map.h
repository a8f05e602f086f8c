// A small open-addressing hash map from 64-bit keys to trivially copyable values.
//
// The BPE inner loop looks up a (left id, right id) pair for every candidate merge; the real
// vocabulary has 514,906 merges. std::unordered_map allocates one node per entry and chases a
// pointer per probe; a flat table with linear probing keeps a lookup to one or two cache lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gemma {

template <typename V>
class FlatMap {
 public:
  // Sizes the table for `n` entries at a load factor of at most 1/2.
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (cap > slots_.size()) Rehash(cap);
  }

  // Inserts or overwrites. `key` must not be kEmpty.
  void Put(uint64_t key, const V& value) {
    if (2 * (size_ + 1) > slots_.size()) Rehash(slots_.empty() ? 16 : 2 * slots_.size());
    Slot& s = slots_[Probe(key)];
    if (s.key == kEmpty) {
      s.key = key;
      ++size_;
    }
    s.value = value;
  }

  const V* Find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const Slot& s = slots_[Probe(key)];
    return s.key == kEmpty ? nullptr : &s.value;
  }

  size_t Size() const { return size_; }

  static constexpr uint64_t kEmpty = ~uint64_t{0};

 private:
  struct Slot {
    uint64_t key = kEmpty;
    V value{};
  };

  // The slot holding `key`, or the empty slot where it would go.
  size_t Probe(uint64_t key) const {
    const size_t mask = slots_.size() - 1;
    size_t i = Mix(key) & mask;
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
    return i;
  }

  // splitmix64's finaliser: spreads the packed id pairs (small, correlated integers) over the
  // table so that linear probing stays short.
  static uint64_t Mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }

  void Rehash(size_t cap) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(cap, Slot{});
    size_ = 0;
    for (const Slot& s : old) {
      if (s.key != kEmpty) Put(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace gemma
