// A read-only view of a weight matrix in one of the GGUF block formats, usually pointing into the
// memory-mapped model file. Row r holds the `cols` input weights of output r (ggml's ne[0] is the
// row length), so y = W x is one dot product per row.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace gemma {

struct Matrix {
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t rows = 0;       // output features (ggml ne[1])
  int64_t cols = 0;       // input features (ggml ne[0]); a multiple of the block size
  size_t row_bytes = 0;

  bool Valid() const { return data != nullptr; }
  const uint8_t* Row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
  // Rows [r0, r0 + n) as a matrix of their own.
  Matrix RowRange(int64_t r0, int64_t n) const {
    Matrix m = *this;
    m.data = Row(r0);
    m.rows = n;
    return m;
  }
};

}  // namespace gemma
