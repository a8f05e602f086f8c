// Streaming read bandwidth (Highway, dynamic dispatch): the bound decode matvecs are compared to.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "bench/membw.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <cstddef>
#include <cstdint>

#include "bench/membw.h"

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace gemma {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Sum of n 64-bit words (n a multiple of 8 vectors), with 8 independent accumulators.
uint64_t SumWords(const uint64_t* p, size_t n) {
  const hn::ScalableTag<uint64_t> d;
  const size_t N = hn::Lanes(d);
  auto a0 = hn::Zero(d), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i + 8 * N <= n; i += 8 * N) {
    a0 = hn::Add(a0, hn::Load(d, p + i));
    a1 = hn::Add(a1, hn::Load(d, p + i + N));
    a2 = hn::Add(a2, hn::Load(d, p + i + 2 * N));
    a3 = hn::Add(a3, hn::Load(d, p + i + 3 * N));
    a4 = hn::Add(a4, hn::Load(d, p + i + 4 * N));
    a5 = hn::Add(a5, hn::Load(d, p + i + 5 * N));
    a6 = hn::Add(a6, hn::Load(d, p + i + 6 * N));
    a7 = hn::Add(a7, hn::Load(d, p + i + 7 * N));
  }
  const auto s =
      hn::Add(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)), hn::Add(hn::Add(a4, a5), hn::Add(a6, a7)));
  return hn::GetLane(hn::SumOfLanes(d, s));
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace gemma
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace gemma {
HWY_EXPORT(SumWords);
uint64_t StreamSum(const uint64_t* p, size_t n) { return HWY_DYNAMIC_DISPATCH(SumWords)(p, n); }
}  // namespace gemma
#endif
