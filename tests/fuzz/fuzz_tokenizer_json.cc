// libFuzzer target: gemma::fuzz::TokenizerJson (see targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gemma::fuzz::TokenizerJson({data, size});
  return 0;
}
