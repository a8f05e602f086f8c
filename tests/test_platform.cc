// The machine as the kernels see it: which Highway target runtime dispatch picks, and (Arm)
// whether the CPU has AES (Highway's condition for NEON) and the dot-product instruction (the
// int8 kernels' SDOT path). The emulated runs of scripts/cross-aarch64 set GEMMA_EXPECT_TARGET,
// GEMMA_EXPECT_AES and GEMMA_EXPECT_DOTPROD per qemu CPU model, so a run that was meant to
// exercise the Pi 5's NEON+dotprod path cannot silently test another one.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/test_platform.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace gemma::test::HWY_NAMESPACE {
const char* DispatchedTargetName() { return hwy::TargetName(HWY_TARGET); }
}  // namespace gemma::test::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace gemma::test {
HWY_EXPORT(DispatchedTargetName);

namespace {

// Whether the CPU has a feature the kernels or Highway look at: "yes"/"no" on Arm Linux, from
// AT_HWCAP (the same check the NEON kernels and Highway make), else "n/a".
std::string ArmHwcap([[maybe_unused]] unsigned long bit) {
#if defined(__aarch64__) && defined(__linux__)
  return (getauxval(AT_HWCAP) & bit) ? "yes" : "no";
#else
  return "n/a";
#endif
}

}  // namespace

TEST_CASE("runtime dispatch picks the target the CPU supports", "[platform]") {
  const std::string target = HWY_DYNAMIC_DISPATCH(DispatchedTargetName)();
  const std::string aes = ArmHwcap(1ul << 3), dotprod = ArmHwcap(1ul << 20);  // HWCAP_AES, _ASIMDDP
  std::string supported_names;
  const std::vector<int64_t> supported = hwy::SupportedAndGeneratedTargets();  // best first
  for (int64_t t : supported) supported_names += std::string(" ") + hwy::TargetName(t);
  std::fprintf(stderr, "platform: dispatched %s; compiled and supported:%s; aes %s, dotprod %s\n",
               target.c_str(), supported_names.c_str(), aes.c_str(), dotprod.c_str());
  // The best supported compiled target; if the CPU supports none of them, the baseline target
  // (HWY_STATIC_TARGET: NEON on aarch64, where NEON is mandatory; SCALAR on x86-64). On Arm,
  // Highway 1.0.3 counts NEON as supported only with AES, so an Arm CPU without the crypto
  // extension (Raspberry Pi 4) reaches NEON through this fallback.
  const char* expected =
      hwy::TargetName(supported.empty() ? int64_t{HWY_STATIC_TARGET} : supported.front());
  CHECK(target == expected);
  if (const char* want = std::getenv("GEMMA_EXPECT_TARGET")) CHECK(target == want);
  if (const char* want = std::getenv("GEMMA_EXPECT_AES")) CHECK(aes == want);
  if (const char* want = std::getenv("GEMMA_EXPECT_DOTPROD")) CHECK(dotprod == want);
}

}  // namespace gemma::test
#endif  // HWY_ONCE
