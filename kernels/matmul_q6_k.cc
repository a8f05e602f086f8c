// Int8 matmul kernels for Q6_K (256-element blocks, int8 scale per 16 elements) weights, compiled for every Highway target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul_q6_k.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "kernels/int8_kernels.h"
#include "kernels/int8_matmul-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
GEMMA_INT8_REGION_BEGIN()
namespace gemma {
namespace HWY_NAMESPACE {

GEMMA_INT8_TARGET_ENTRIES(Q6_K, Q6_KDecoder)

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gemma {

GEMMA_INT8_EXPORT(Q6_K, 8)

}  // namespace gemma
#endif  // HWY_ONCE
