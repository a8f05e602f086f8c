// Where each field of a well-formed GGUF file sits, so that a test can overwrite exactly one of
// them with a lie (a tensor offset, a dimension, an array count). Only for files the writer
// made: it trusts the bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/gguf.h"

namespace gemma::test {

struct GgufLayout {
  struct Kv {
    std::string key;
    size_t key_len_pos;  // u64 length of the key
    size_t type_pos;     // u32 value type
    size_t value_pos;    // the value: scalar, string length, or array element type
  };
  struct TensorInfo {
    std::string name;
    size_t name_len_pos;
    size_t n_dims_pos;
    size_t ne_pos;      // ne[0]; ne[d] is at ne_pos + 8 * d
    size_t type_pos;
    size_t offset_pos;
  };
  std::vector<Kv> kvs;
  std::vector<TensorInfo> tensors;
  size_t header_end = 0;  // end of the tensor infos

  const Kv& FindKv(const std::string& key) const {
    for (const Kv& kv : kvs) {
      if (kv.key == key) return kv;
    }
    throw std::runtime_error("GgufLayout: no key " + key);
  }
  const TensorInfo& FindTensor(const std::string& name) const {
    for (const TensorInfo& t : tensors) {
      if (t.name == name) return t;
    }
    throw std::runtime_error("GgufLayout: no tensor " + name);
  }
};

inline GgufLayout LayoutOf(const std::vector<uint8_t>& b) {
  size_t p = 8;
  auto u32 = [&] { uint32_t v; std::memcpy(&v, &b[p], 4); p += 4; return v; };
  auto u64 = [&] { uint64_t v; std::memcpy(&v, &b[p], 8); p += 8; return v; };
  auto str = [&] { const uint64_t n = u64(); std::string s(b.begin() + p, b.begin() + p + n); p += n; return s; };
  // Skips a value of type t (arrays: element type, count, elements).
  auto skip = [&](auto&& self, GgufType t) -> void {
    if (t == GgufType::STRING) {
      str();
    } else if (t == GgufType::ARRAY) {
      const auto et = static_cast<GgufType>(u32());
      const uint64_t n = u64();
      for (uint64_t i = 0; i < n; ++i) {
        if (GgufScalarSize(et)) p += GgufScalarSize(et); else self(self, et);
      }
    } else {
      p += GgufScalarSize(t);
    }
  };
  GgufLayout l;
  const uint64_t n_tensors = u64(), n_kv = u64();
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufLayout::Kv kv;
    kv.key_len_pos = p;
    kv.key = str();
    kv.type_pos = p;
    const auto t = static_cast<GgufType>(u32());
    kv.value_pos = p;
    skip(skip, t);
    l.kvs.push_back(kv);
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufLayout::TensorInfo t;
    t.name_len_pos = p;
    t.name = str();
    t.n_dims_pos = p;
    const uint32_t nd = u32();
    t.ne_pos = p;
    p += 8 * nd;
    t.type_pos = p;
    p += 4;
    t.offset_pos = p;
    p += 8;
    l.tensors.push_back(t);
  }
  l.header_end = p;
  return l;
}

}  // namespace gemma::test
