// Included first by the kernel translation units, before hwy/foreach_target.h. The kernels
// keep arrays of vectors and address 128-bit chunks, so they need fixed-size vectors: the
// scalable targets (SVE, RVV) are left out and such CPUs run the NEON (or scalar) code.
#pragma once

#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128 | HWY_RVV)
#endif
