#pragma once

#include <cstddef>
#include <cstdint>

namespace gemma {

// Sum of n 64-bit words from a 64-byte aligned array (n a multiple of 64), read as fast as
// the CPU streams memory.
uint64_t StreamSum(const uint64_t* p, size_t n);

}  // namespace gemma
