// LD_PRELOAD shim for the emulated test run "Cortex-A72 without crypto" (the Raspberry Pi 4's
// BCM2711). qemu has no Arm CPU model without AES, so this hides AES, PMULL, SHA1/SHA2 and
// dotprod from getauxval(AT_HWCAP). Highway 1.0.3 counts its NEON target as supported only with
// AES, so it then supports none of our compiled targets and dispatch takes its fallback, the
// baseline NEON code: the path such a CPU really takes (tests/test_platform.cc checks it).
// Built by scripts/cross-aarch64; passed to the guest only via QEMU_SET_ENV=LD_PRELOAD=...
#define _GNU_SOURCE
#include <asm/hwcap.h>
#include <dlfcn.h>
#include <sys/auxv.h>

static unsigned long Masked(unsigned long type, unsigned long value) {
  if (type == AT_HWCAP) {
    value &= ~(unsigned long)(HWCAP_AES | HWCAP_PMULL | HWCAP_SHA1 | HWCAP_SHA2 | HWCAP_SHA512 |
                              HWCAP_ASIMDDP);
  }
  return value;
}

unsigned long getauxval(unsigned long type) {
  unsigned long (*real)(unsigned long) = dlsym(RTLD_NEXT, "getauxval");
  return Masked(type, real(type));
}

// libhwy calls glibc's internal alias.
unsigned long __getauxval(unsigned long type) { return getauxval(type); }
