// libFuzzer target: gemma::fuzz::ChatTemplate (see targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gemma::fuzz::ChatTemplate({data, size});
  return 0;
}
