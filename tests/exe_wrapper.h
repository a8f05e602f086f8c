// Child processes of the tests (gemma-run) under an emulator: when the tests run under
// user-mode qemu (scripts/cross-aarch64) the machine cannot execute the aarch64 gemma-run
// directly (no binfmt_misc), so $GEMMA_EXE_WRAPPER (an absolute path, e.g. /usr/bin/qemu-aarch64,
// plus optional space-separated arguments) is put in front of the command.
#pragma once

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace gemma::test {

inline std::vector<std::string> WithExeWrapper(const std::vector<std::string>& argv) {
  const char* wrapper = std::getenv("GEMMA_EXE_WRAPPER");
  if (!wrapper || !*wrapper) return argv;
  std::vector<std::string> out;
  std::istringstream words(wrapper);
  for (std::string w; words >> w;) out.push_back(w);
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

}  // namespace gemma::test
