// Int8 matmul kernels for Q4_K weights (256-element blocks, 6-bit scales and mins), compiled for
// every Highway target (see int8_matmul-inl.h). One format per file: each takes minutes to
// compile, and separate files build in parallel.
#include "kernels/hwy_fixed_targets.h"  // before foreach_target.h

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul_q4_k.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/int8_kernels.h"
#include "kernels/int8_matmul-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {

GEMMA_INT8_TARGET_ENTRIES(Q4_K, Q4_KDecoder)

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gemma {

GEMMA_INT8_EXPORT(Q4_K, 4)

}  // namespace gemma
#endif  // HWY_ONCE
