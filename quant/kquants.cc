// K-quant reference encoders/decoders. The encoders reproduce ggml's reference search for the
// sub-block scales (a weighted least-squares fit tried over a small grid of candidate scales), in
// the same float operation order, so our files are byte-identical to llama-quantize's (checked
// against libggml in tests/test_kquants.cc via a committed fixture).
#include "quant/kquants.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/fp16.h"

namespace gemma {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // below this a group counts as all zeros

// Round to nearest, ties to even (the default FP rounding mode), as ggml's nearest_int.
inline int NearestInt(float f) { return static_cast<int>(std::nearbyint(f)); }

// Fits x[i] ~ scale * L[i] - min_out with L in [0, nmax] and min_out >= 0, minimising the
// weighted squared error; tries nstep+1 candidate inverse scales around nmax / (max - min).
// Returns the scale and writes the (positive) offset to *min_out.
float FitScaleAndMin(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out,
                     float rmin, float rdelta, int nstep) {
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, 0);
    *min_out = -min;
    return 0.0f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(std::clamp(NearestInt(iscale * (x[i] - min)), 0, nmax));
    const float diff = scale * L[i] + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  uint8_t trial[32];
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float error = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * trial[i] + this_min - x[i];
        error += w[i] * (diff * diff);
      }
      if (error < best_error) {
        std::copy(trial, trial + n, L);
        best_error = error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *min_out = -min;
  return scale;
}

// Fits x[i] ~ scale * (L[i] - nmax) with L in [0, 2*nmax), weighting errors by x^2; tries
// inverse scales -(nmax + 0.1*k)/max for k in [-9, 9]. Returns the (signed) scale.
float FitSymmetricScale(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, 0);
    return 0.0f;
  }
  auto code = [&](float iscale, int i) { return std::clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1); };
  float iscale = -nmax / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = code(iscale, i);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sum_lx += w * x[i] * l;
    sum_l2 += w * l * l;
  }
  float scale = sum_l2 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sum_lx = sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = code(iscale, i);
      const float w = x[i] * x[i];
      sum_lx += w * x[i] * l;
      sum_l2 += w * l * l;
    }
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax + code(iscale, i));
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

// Packs 6-bit scale/min pair j into the 12-byte K-scale layout (see KScales).
void PackKScale(int j, uint8_t ls, uint8_t lm, uint8_t* q) {
  if (j < 4) {
    q[j] = ls;
    q[j + 4] = lm;
  } else {
    q[j + 4] = static_cast<uint8_t>((ls & 0xf) | ((lm & 0xf) << 4));
    q[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
    q[j] |= static_cast<uint8_t>((lm >> 4) << 6);
  }
}

// Shared by Q4_K (nmax 15) and Q5_K (nmax 31): per sub-block of 32 a scale and min, both then
// quantized to 6 bits against the block's largest; finally the codes are recomputed with the
// rounded scales. Writes d, dmin, the packed scales and the codes L[256].
template <typename Block>
void QuantizeScaleMinBlock(const float* x, int nmax, float rmin, float rdelta, int nstep, Block& y,
                           uint8_t* L) {
  float scales[8], mins[8], weights[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = FitScaleAndMin(32, nmax, xs, weights, L + 32 * j, &mins[j], rmin, rdelta, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < 8; ++j) {
    // The uint8_t conversion (modulo 256) then the clamp mirror ggml exactly.
    const uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_min * mins[j])));
    PackKScale(j, ls, lm, y.scales);
  }
  y.d = F32ToF16(max_scale / 63.f);
  y.dmin = F32ToF16(max_min / 63.f);
  const KScales ks = UnpackKScales(y.scales);
  for (int j = 0; j < 8; ++j) {
    const float d = F16ToF32(y.d) * ks.scale[j];
    if (!d) continue;
    const float dm = F16ToF32(y.dmin) * ks.min[j];
    for (int i = 0; i < 32; ++i) {
      L[32 * j + i] = static_cast<uint8_t>(std::clamp(NearestInt((x[32 * j + i] + dm) / d), 0, nmax));
    }
  }
}

}  // namespace

KScales UnpackKScales(const uint8_t q[kKScaleBytes]) {
  KScales k;
  for (int j = 0; j < 4; ++j) {
    k.scale[j] = q[j] & 63;
    k.min[j] = q[j + 4] & 63;
    k.scale[j + 4] = static_cast<uint8_t>((q[j + 8] & 0xf) | ((q[j] >> 6) << 4));
    k.min[j + 4] = static_cast<uint8_t>((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
  }
  return k;
}

// ---- Q4_K: codes 0..15, nibbles: byte l of each 32-byte run holds element l (low nibble) and
// element l + 32 (high nibble) of a 64-element chunk.

int Q4_KCode(const BlockQ4_K& b, int i) {
  const uint8_t byte = b.qs[32 * (i / 64) + i % 32];
  return (i % 64) < 32 ? byte & 0xf : byte >> 4;
}

void QuantizeQ4_K(const float* x, size_t n, BlockQ4_K* y) {
  uint8_t L[kQK_K];
  for (size_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    QuantizeScaleMinBlock(x, 15, -1.0f, 0.1f, 20, y[b], L);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        y[b].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + l + 32] << 4));
      }
    }
  }
}

void DequantizeQ4_K(const BlockQ4_K* x, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    const float d = F16ToF32(x[b].d), dmin = F16ToF32(x[b].dmin);
    const KScales ks = UnpackKScales(x[b].scales);
    for (int i = 0; i < kQK_K; ++i) {
      const int j = i / 32;
      y[i] = d * ks.scale[j] * Q4_KCode(x[b], i) - dmin * ks.min[j];
    }
  }
}

// ---- Q5_K: Q4_K's nibbles plus bit j of qh[l] as bit 4 of element 32*j + l.

int Q5_KCode(const BlockQ5_K& b, int i) {
  const uint8_t byte = b.qs[32 * (i / 64) + i % 32];
  const int lo = (i % 64) < 32 ? byte & 0xf : byte >> 4;
  return lo | (((b.qh[i % 32] >> (i / 32)) & 1) << 4);
}

void QuantizeQ5_K(const float* x, size_t n, BlockQ5_K* y) {
  uint8_t L[kQK_K];
  for (size_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    QuantizeScaleMinBlock(x, 31, -0.5f, 0.1f, 15, y[b], L);
    std::memset(y[b].qh, 0, sizeof(y[b].qh));
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + l + 32];
        y[b].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
        y[b].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void DequantizeQ5_K(const BlockQ5_K* x, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    const float d = F16ToF32(x[b].d), dmin = F16ToF32(x[b].dmin);
    const KScales ks = UnpackKScales(x[b].scales);
    for (int i = 0; i < kQK_K; ++i) {
      const int j = i / 32;
      y[i] = d * ks.scale[j] * Q5_KCode(x[b], i) - dmin * ks.min[j];
    }
  }
}

// ---- Q6_K: codes 0..63 in 128-element halves; within a half, element 32*k + l (k < 4) takes
// its low 4 bits from ql[l + 32*(k&1)] (low nibble for k < 2, high for k >= 2) and its top 2
// bits from bits 2k..2k+1 of qh[l]. One int8 scale per 16 elements.

int Q6_KCode(const BlockQ6_K& b, int i) {
  const int half = i / 128, k = (i % 128) / 32, l = i % 32;
  const uint8_t low = b.ql[64 * half + l + 32 * (k & 1)];
  const int lo4 = k < 2 ? low & 0xf : low >> 4;
  return lo4 | (((b.qh[32 * half + l] >> (2 * k)) & 3) << 4);
}

void QuantizeQ6_K(const float* x, size_t n, BlockQ6_K* y) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (size_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      scales[ib] = FitSymmetricScale(16, 32, x + 16 * ib, L + 16 * ib);
      if (std::fabs(scales[ib]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[b], 0, sizeof(BlockQ6_K));
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[b].d = F32ToF16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      y[b].scales[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = F16ToF32(y[b].d) * y[b].scales[j];
      if (!d) continue;
      for (int i = 0; i < 16; ++i) {
        L[16 * j + i] = static_cast<int8_t>(std::clamp(NearestInt(x[16 * j + i] / d), -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        y[b].ql[64 * h + l] = static_cast<uint8_t>((Lh[l] & 0xf) | ((Lh[l + 64] & 0xf) << 4));
        y[b].ql[64 * h + l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0xf) | ((Lh[l + 96] & 0xf) << 4));
        y[b].qh[32 * h + l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                   ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

void DequantizeQ6_K(const BlockQ6_K* x, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    const float d = F16ToF32(x[b].d);
    for (int i = 0; i < kQK_K; ++i) {
      y[i] = d * x[b].scales[i / 16] * (Q6_KCode(x[b], i) - 32);
    }
  }
}

}  // namespace gemma
