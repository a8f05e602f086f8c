// gemma-run: runs a Gemma 4 GGUF model. For now: --info prints the model summary.
#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "runtime/error.h"
#include "runtime/model.h"

namespace {

constexpr const char* kUsage = R"(usage: gemma-run -m MODEL.gguf [options]
  -m, --model FILE   Gemma 4 GGUF file (default: $GEMMA_MODEL)
  --info             print the model's structure and exit
  -h, --help         this help
)";

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string model_path;
    if (const char* env = std::getenv("GEMMA_MODEL")) model_path = env;
    bool info = false;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "-h" || a == "--help") {
        fmt::print("{}", kUsage);
        return 0;
      } else if (a == "-m" || a == "--model") {
        if (i + 1 >= argc) gemma::Fail("{} needs a file name", a);
        model_path = argv[++i];
      } else if (a == "--info") {
        info = true;
      } else {
        gemma::Fail("unknown argument '{}' (see gemma-run --help)", a);
      }
    }
    if (model_path.empty()) gemma::Fail("no model given: use -m FILE.gguf or set GEMMA_MODEL");
    const gemma::Model model = gemma::Model::Load(model_path);
    if (info) {
      fmt::print("{}", gemma::DescribeModel(model));
      return 0;
    }
    fmt::print(stderr, "gemma-run: generation is not built yet; use --info\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
