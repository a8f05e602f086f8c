// Int8 matmul kernels for Q4_0 and Q8_0 (32-element blocks with an fp16 scale) weights, compiled for every Highway target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul_q4_0.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/int8_kernels.h"
#include "kernels/int8_matmul-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {

GEMMA_INT8_TARGET_ENTRIES(Q4_0, Q4_0Decoder)
GEMMA_INT8_TARGET_ENTRIES(Q8_0, Q8_0Decoder)

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gemma {

GEMMA_INT8_EXPORT(Q4_0, 4)
GEMMA_INT8_EXPORT(Q8_0, 4)

}  // namespace gemma
#endif  // HWY_ONCE
