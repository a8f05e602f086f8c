#include "quant/int8_dot.h"

#include <cassert>
#include <cmath>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kquants.h"

namespace gemma {
namespace {

struct Accumulator {
  Q8Dot dot;
  void Add(float term) {
    dot.value += term;
    dot.magnitude += std::fabs(term);
  }
};

// Sum over `count` elements of (code(i) - offset) * q[i].
template <typename CodeFn>
int32_t CodeDot(CodeFn code, int first, int count, int offset, const int8_t* q) {
  int32_t s = 0;
  for (int i = 0; i < count; ++i) s += (code(first + i) - offset) * q[i];
  return s;
}

int32_t Sum(const int8_t* q, int n) {
  int32_t s = 0;
  for (int i = 0; i < n; ++i) s += q[i];
  return s;
}

// Q4_K and Q5_K share the scale/min structure; Code(block, i) gives element i's code.
template <typename Block, typename CodeFn>
void ScaleMinDot(const Block* blocks, size_t n, const int8_t* q, const float* da, CodeFn code,
                 Accumulator& acc) {
  for (size_t b = 0; b < n / kQK_K; ++b) {
    const Block& blk = blocks[b];
    const float d = F16ToF32(blk.d), dmin = F16ToF32(blk.dmin);
    const KScales ks = UnpackKScales(blk.scales);
    for (int j = 0; j < 8; ++j) {
      const int8_t* qj = q + b * kQK_K + 32 * j;
      const float a = da[b * 8 + j];
      const int32_t s = CodeDot([&](int i) { return code(blk, i); }, 32 * j, 32, 0, qj);
      acc.Add(static_cast<float>(s) * ((d * ks.scale[j]) * a));
      acc.Add(-((dmin * ks.min[j]) * (a * static_cast<float>(Sum(qj, 32)))));
    }
  }
}

}  // namespace

bool HasQ8Dot(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
    case GgmlType::Q8_0:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

Q8Dot DotWithQ8Activations(GgmlType type, const void* row, const int8_t* q, const float* da,
                           size_t n) {
  Accumulator acc;
  switch (type) {
    case GgmlType::Q4_0: {
      const auto* blocks = static_cast<const BlockQ4_0*>(row);
      for (size_t b = 0; b < n / kQK; ++b) {
        const BlockQ4_0& blk = blocks[b];
        auto code = [&](int i) { return i < 16 ? blk.qs[i] & 0xf : blk.qs[i - 16] >> 4; };
        const int32_t s = CodeDot(code, 0, 32, 8, q + b * kQK);
        acc.Add(static_cast<float>(s) * (F16ToF32(blk.d) * da[b]));
      }
      break;
    }
    case GgmlType::Q8_0: {
      const auto* blocks = static_cast<const BlockQ8_0*>(row);
      for (size_t b = 0; b < n / kQK; ++b) {
        const BlockQ8_0& blk = blocks[b];
        const int32_t s = CodeDot([&](int i) { return int{blk.qs[i]}; }, 0, 32, 0, q + b * kQK);
        acc.Add(static_cast<float>(s) * (F16ToF32(blk.d) * da[b]));
      }
      break;
    }
    case GgmlType::Q4_K:
      ScaleMinDot(static_cast<const BlockQ4_K*>(row), n, q, da,
                  [](const BlockQ4_K& b, int i) { return Q4_KCode(b, i); }, acc);
      break;
    case GgmlType::Q5_K:
      ScaleMinDot(static_cast<const BlockQ5_K*>(row), n, q, da,
                  [](const BlockQ5_K& b, int i) { return Q5_KCode(b, i); }, acc);
      break;
    case GgmlType::Q6_K: {
      const auto* blocks = static_cast<const BlockQ6_K*>(row);
      for (size_t b = 0; b < n / kQK_K; ++b) {
        const BlockQ6_K& blk = blocks[b];
        const float d = F16ToF32(blk.d);
        auto code = [&](int i) { return Q6_KCode(blk, i); };
        for (int k = 0; k < 8; ++k) {
          const int8_t* qk = q + b * kQK_K + 32 * k;
          const int32_t s = blk.scales[2 * k] * CodeDot(code, 32 * k, 16, 32, qk) +
                            blk.scales[2 * k + 1] * CodeDot(code, 32 * k + 16, 16, 32, qk + 16);
          acc.Add(static_cast<float>(s) * (d * da[b * 8 + k]));
        }
      }
      break;
    }
    default:
      assert(false && "DotWithQ8Activations: not an integer format");
  }
  return acc.dot;
}

}  // namespace gemma
