#include "kernels/ops.h"

#include <atomic>
#include <cmath>

#include "quant/fp16.h"

namespace gemma {

void RmsNorm(const float* x, const float* w, size_t n, float eps, float* y) {
  double sum_sq = 0.0;  // double, like llama.cpp, so long rows lose nothing
  for (size_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum_sq / static_cast<double>(n)) + eps);
  if (w) {
    for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

void GeluTanh(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = GeluTanh(x[i]);
}

namespace {
std::atomic<bool> g_llama_gelu{false};
}  // namespace

float GeluTanhLlamaCppTable(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  const float xh = F16ToF32(F32ToF16(x));
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  const float g = 0.5f * xh * (1.0f + std::tanh(kSqrt2OverPi * xh * (1.0f + 0.044715f * xh * xh)));
  return F16ToF32(F32ToF16(g));
}

void SetLlamaCppGeluForTesting(bool enabled) { g_llama_gelu = enabled; }
bool LlamaCppGeluForTesting() { return g_llama_gelu; }

float GeluForExactPath(float x) {
  return g_llama_gelu.load(std::memory_order_relaxed) ? GeluTanhLlamaCppTable(x) : GeluTanh(x);
}

void RopeNeox(float* x, size_t head_dim, size_t rope_dims, float base, const float* freq_factors,
              int64_t pos) {
  const size_t half = head_dim / 2;
  const size_t pairs = rope_dims / 2;
  // Angles by repeated multiplication, as ggml builds its RoPE cache, so results match llama.cpp
  // bit for bit in the frequencies.
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(rope_dims));
  float theta = static_cast<float>(pos);
  for (size_t j = 0; j < pairs; ++j) {
    const float angle = freq_factors ? theta / freq_factors[j] : theta;
    const float c = std::cos(angle), s = std::sin(angle);
    const float a = x[j], b = x[j + half];
    x[j] = a * c - b * s;
    x[j + half] = b * c + a * s;
    theta *= theta_scale;
  }
}

void Softcap(float* x, size_t n, float cap) {
  const float inv = 1.0f / cap;
  for (size_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] * inv);
}

void Softmax(float* x, size_t n) {
  float max = x[0];
  for (size_t i = 1; i < n; ++i) max = std::fmax(max, x[i]);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace gemma
