#include "quant/q8_activations.h"

#include <algorithm>
#include <cmath>

namespace gemma {

void QuantizeActivationsQ8(const float* x, size_t n, int8_t* q, float* d) {
  for (size_t b = 0; b < n / kQ8Block; ++b, x += kQ8Block, q += kQ8Block) {
    float amax = 0.0f;
    for (int j = 0; j < kQ8Block; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float scale = amax / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    d[b] = scale;
    for (int j = 0; j < kQ8Block; ++j) {
      const float r = std::nearbyint(x[j] * inv);
      q[j] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
    }
  }
}

}  // namespace gemma
