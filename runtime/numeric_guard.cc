#include "runtime/numeric_guard.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/error.h"

namespace gemma {

bool AllFinite(const float* x, size_t n) {
  // inf and nan are exactly the floats whose magnitude bits are >= those of inf.
  uint32_t worst = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    worst = std::max(worst, bits & 0x7fffffffu);
  }
  return worst < 0x7f800000u;
}

void CheckFinite(const float* x, size_t rows, size_t width, const int64_t* positions,
                 const std::string& file, std::string_view stage, int layer) {
  if (AllFinite(x, rows * width)) return;
  // The slow path runs once, to say where.
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * width;
    const float* bad = std::find_if(row, row + width, [](float v) { return !std::isfinite(v); });
    if (bad == row + width) continue;
    const char* value = std::isnan(*bad) ? "nan" : *bad > 0 ? "inf" : "-inf";
    Fail("{}: non-finite activations ({}) after {} at position {}: the model's weights are "
         "broken (a corrupt file, or values that overflow)",
         file, value,
         layer < 0        ? std::string(stage)
         : stage.empty() ? fmt::format("layer {}", layer)
                         : fmt::format("{} of layer {}", stage, layer),
         positions[r]);
  }
}

}  // namespace gemma
