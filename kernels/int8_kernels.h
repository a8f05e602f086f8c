// Internal: the int8 kernels of each integer weight format, dispatched to the best Highway
// target of this CPU (one translation unit per weight family: matmul_q4_0.cc for Q4_0/Q8_0,
// matmul_q4_k.cc for Q4_K/Q5_K, matmul_q6_k.cc for Q6_K).
#pragma once

#include <cstddef>

#include "kernels/matrix.h"
#include "kernels/q8_act.h"
#include "quant/types.h"

namespace gemma {

struct Int8Kernels {
  // Quantizes tokens [t0, t1) of x ([n_tokens][cols], act already sized) into act.
  void (*pack)(const float* x, size_t t0, size_t t1, Q8Activations* act);
  // y[(t - t0) * ldy + (r - r0)] = row r of w times token t, for r in [r0, r1), t in [t0, t1).
  void (*rows)(const Matrix* w, const Q8Activations* act, size_t r0, size_t r1, size_t t0,
               size_t t1, float* y, size_t ldy);
  size_t bias_lanes;  // Q8Activations::bias_lanes this format needs
};

// nullptr for types without int8 kernels (float types).
const Int8Kernels* Int8KernelsFor(GgmlType type);

extern const Int8Kernels kInt8Q4_0, kInt8Q8_0, kInt8Q4_K, kInt8Q5_K, kInt8Q6_K;

}  // namespace gemma

// Defines, inside a per-target Highway region, the two entry points of format NAME decoded by
// DECODER (see int8_matmul-inl.h).
#define GEMMA_INT8_TARGET_ENTRIES(NAME, DECODER)                                              \
  void Pack##NAME(const float* x, size_t t0, size_t t1, Q8Activations* act) {                 \
    PackActivations<DECODER>(x, t0, t1, *act);                                                \
  }                                                                                           \
  void Rows##NAME(const Matrix* w, const Q8Activations* act, size_t r0, size_t r1, size_t t0, \
                  size_t t1, float* y, size_t ldy) {                                           \
    MatMulRows<DECODER>(*w, *act, r0, r1, t0, t1, y, ldy);                                     \
  }

// Defines, once (HWY_ONCE), the dispatching Int8Kernels record kInt8NAME.
#define GEMMA_INT8_EXPORT(NAME, BIAS_LANES)                                                   \
  HWY_EXPORT(Pack##NAME);                                                                     \
  HWY_EXPORT(Rows##NAME);                                                                     \
  static void DispatchPack##NAME(const float* x, size_t t0, size_t t1, Q8Activations* act) {  \
    HWY_DYNAMIC_DISPATCH(Pack##NAME)(x, t0, t1, act);                                         \
  }                                                                                           \
  static void DispatchRows##NAME(const Matrix* w, const Q8Activations* act, size_t r0,        \
                                 size_t r1, size_t t0, size_t t1, float* y, size_t ldy) {     \
    HWY_DYNAMIC_DISPATCH(Rows##NAME)(w, act, r0, r1, t0, t1, y, ldy);                         \
  }                                                                                           \
  const Int8Kernels kInt8##NAME = {&DispatchPack##NAME, &DispatchRows##NAME, BIAS_LANES};
