// gemma-run: runs a Gemma 4 GGUF model. For now: --info prints the model summary;
// --tokenize / --detokenize use only the tokenizer metadata.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/gguf.h"
#include "runtime/model.h"
#include "tokenizer/tokenizer.h"

namespace {

constexpr const char* kUsage = R"(usage: gemma-run -m MODEL.gguf [options]
  -m, --model FILE     Gemma 4 GGUF file (default: $GEMMA_MODEL)
  --info               print the model's structure and exit
  --tokenize TEXT      print the token ids of TEXT as a JSON array (<bos> first); TEXT "-"
                       reads raw bytes from stdin. Control tokens in TEXT stay text unless
                       --parse-special; --no-bos omits <bos>
  --detokenize IDS     print the text of comma-separated ids exactly (control tokens as their
                       text, no newline added)
  -h, --help           this help
)";

// --tokenize / --detokenize: reads only the tokenizer metadata, never the weights.
int RunTokenizer(const std::string& model_path, const std::optional<std::string>& tokenize,
                 const std::optional<std::string>& detokenize, bool parse_special, bool bos) {
  const gemma::GgufFile file = gemma::GgufFile::Open(model_path);
  const gemma::Tokenizer tok = gemma::Tokenizer::FromGguf(file);
  if (tokenize) {
    std::string text = *tokenize;
    if (text == "-") {
      std::cin >> std::noskipws;
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    const std::vector<int32_t> ids = tok.Encode(text, {.add_bos = bos, .parse_special = parse_special});
    fmt::print("[{}]\n", fmt::join(ids, ","));
    return 0;
  }
  std::vector<int32_t> ids;
  const std::string& list = *detokenize;
  for (size_t p = 0; p <= list.size();) {
    size_t q = list.find(',', p);
    if (q == std::string::npos) q = list.size();
    const std::string item = list.substr(p, q - p);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 0 || v > INT32_MAX) {
      gemma::Fail("--detokenize: '{}' is not a token id (expected comma-separated integers)", item);
    }
    ids.push_back(static_cast<int32_t>(v));
    p = q + 1;
  }
  const std::string text = tok.Decode(ids, {.render_special = true});
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string model_path;
    if (const char* env = std::getenv("GEMMA_MODEL")) model_path = env;
    bool info = false;
    std::optional<std::string> tokenize, detokenize;
    bool parse_special = false, bos = true;
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
      } else if (a == "--tokenize" || a == "--detokenize") {
        if (i + 1 >= argc) gemma::Fail("{} needs an argument", a);
        (a == "--tokenize" ? tokenize : detokenize) = argv[++i];
      } else if (a == "--parse-special") {
        parse_special = true;
      } else if (a == "--no-bos") {
        bos = false;
      } else {
        gemma::Fail("unknown argument '{}' (see gemma-run --help)", a);
      }
    }
    if (model_path.empty()) gemma::Fail("no model given: use -m FILE.gguf or set GEMMA_MODEL");
    if (tokenize && detokenize) gemma::Fail("--tokenize and --detokenize exclude each other");
    if (tokenize || detokenize) return RunTokenizer(model_path, tokenize, detokenize, parse_special, bos);
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
