// libFuzzer target: gemma::fuzz::TokenizerCodec (see targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gemma::fuzz::TokenizerCodec({data, size});
  return 0;
}
