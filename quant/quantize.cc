#include "quant/quantize.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kquants.h"

namespace gemma {
namespace {

void QuantizeQ8_0(const float* x, size_t n, BlockQ8_0* y) {
  for (size_t b = 0; b < n / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    for (int j = 0; j < kQK; ++j) y[b].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

void DequantizeQ8_0(const BlockQ8_0* x, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = F16ToF32(x[b].d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(x[b].qs[j]);
  }
}

void QuantizeQ4_0(const float* x, size_t n, BlockQ4_0* y) {
  for (size_t b = 0; b < n / kQK; ++b, x += kQK) {
    // The element of largest magnitude, sign kept, maps to -8 exactly.
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
      y[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void DequantizeQ4_0(const BlockQ4_0* x, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = F16ToF32(x[b].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>((x[b].qs[j] & 0x0f) - 8);
      y[j + 16] = d * static_cast<float>((x[b].qs[j] >> 4) - 8);
    }
  }
}

}  // namespace

bool CanQuantize(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

void QuantizeRow(GgmlType type, const float* x, size_t n, void* out) {
  assert(n % Traits(type).block_size == 0);
  switch (type) {
    case GgmlType::F32:
      std::memcpy(out, x, n * sizeof(float));
      return;
    case GgmlType::F16: {
      auto* h = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) h[i] = F32ToF16(x[i]);
      return;
    }
    case GgmlType::BF16: {
      auto* h = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) h[i] = F32ToBF16(x[i]);
      return;
    }
    case GgmlType::Q8_0:
      return QuantizeQ8_0(x, n, static_cast<BlockQ8_0*>(out));
    case GgmlType::Q4_0:
      return QuantizeQ4_0(x, n, static_cast<BlockQ4_0*>(out));
    case GgmlType::Q4_K:
      return QuantizeQ4_K(x, n, static_cast<BlockQ4_K*>(out));
    case GgmlType::Q5_K:
      return QuantizeQ5_K(x, n, static_cast<BlockQ5_K*>(out));
    case GgmlType::Q6_K:
      return QuantizeQ6_K(x, n, static_cast<BlockQ6_K*>(out));
    default:
      assert(false && "QuantizeRow: unsupported type");
  }
}

void DequantizeRow(GgmlType type, const void* in, size_t n, float* y) {
  assert(n % Traits(type).block_size == 0);
  switch (type) {
    case GgmlType::F32:
      std::memcpy(y, in, n * sizeof(float));
      return;
    case GgmlType::F16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) y[i] = F16ToF32(h[i]);
      return;
    }
    case GgmlType::BF16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) y[i] = BF16ToF32(h[i]);
      return;
    }
    case GgmlType::Q8_0:
      return DequantizeQ8_0(static_cast<const BlockQ8_0*>(in), n, y);
    case GgmlType::Q4_0:
      return DequantizeQ4_0(static_cast<const BlockQ4_0*>(in), n, y);
    case GgmlType::Q4_K:
      return DequantizeQ4_K(static_cast<const BlockQ4_K*>(in), n, y);
    case GgmlType::Q5_K:
      return DequantizeQ5_K(static_cast<const BlockQ5_K*>(in), n, y);
    case GgmlType::Q6_K:
      return DequantizeQ6_K(static_cast<const BlockQ6_K*>(in), n, y);
    default:
      assert(false && "DequantizeRow: unsupported type");
  }
}

}  // namespace gemma
