// Cheap detection of non-finite activations. Corrupt or overflowing weights (an inf block scale,
// a huge norm gain) turn the residual stream into inf/nan; sampling from such logits prints
// garbage. The session checks the stream after the embedding and after every layer, and the
// logits, and stops with an error naming the model file and where the first bad value appeared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gemma {

// True if x[0, n) holds no inf or nan. Compares the bits as integers, so it vectorises: about
// the cost of reading the floats once.
bool AllFinite(const float* x, size_t n);

// Throws gemma::Error unless x (`rows` rows of `width` floats, row r at position positions[r])
// is all finite: "FILE: non-finite activations (nan) after layer 3 at position 5 ...". `stage`
// names what produced x; layer >= 0 names a layer ("after the queries of layer 2" with both).
void CheckFinite(const float* x, size_t rows, size_t width, const int64_t* positions,
                 const std::string& file, std::string_view stage, int layer = -1);

}  // namespace gemma
