// gemma-run: runs a Gemma 4 GGUF model. --info prints the model summary; --dump-logits
// evaluates token ids; --tokenize / --detokenize use only the tokenizer metadata.
#include <fmt/format.h>
#include <fmt/ranges.h>

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
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace {

constexpr const char* kUsage = R"(usage: gemma-run -m MODEL.gguf [options]
  -m, --model FILE        Gemma 4 GGUF file (default: $GEMMA_MODEL)
  --info                  print the model's structure and exit
  --tokens IDS            comma-separated token ids to evaluate (with --dump-logits)
  --dump-logits FILE      write {"tokens":[...],"logits":[[...]]} for the last position
  --all-logits            ... for every position instead
  --precision MODE        fast (int8 activations, default) or exact (fp32 activations)
  -c, --ctx-size N        context size in tokens
  --tokenize TEXT         print the token ids of TEXT as a JSON array (<bos> first); TEXT "-"
                          reads raw bytes from stdin. Control tokens in TEXT stay text unless
                          --parse-special; --no-bos omits <bos>
  --detokenize IDS        print the text of comma-separated ids exactly (control tokens as
                          their text, no newline added)
  -h, --help              this help
)";

std::vector<int32_t> ParseIds(const std::string& s) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (...) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 0 || v > INT32_MAX) {
      gemma::Fail("--tokens: '{}' is not a token id", item);
    }
    ids.push_back(static_cast<int32_t>(v));
    pos = comma + 1;
  }
  return ids;
}

void DumpLogits(const std::string& path, const std::vector<int32_t>& tokens,
                const std::vector<float>& logits, size_t n_vocab) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (!f) gemma::Fail("{}: cannot create", path);
  fmt::print(f, "{{\"tokens\":[{}],\"logits\":[", fmt::join(tokens, ","));
  for (size_t r = 0; r * n_vocab < logits.size(); ++r) {
    fmt::print(f, "{}[", r ? "," : "");
    for (size_t i = 0; i < n_vocab; ++i) {
      fmt::print(f, "{}{:.9g}", i ? "," : "", logits[r * n_vocab + i]);
    }
    fmt::print(f, "]");
  }
  fmt::print(f, "]}}\n");
  if (f != stdout && std::fclose(f) != 0) gemma::Fail("{}: write failed", path);
}

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
    std::string model_path, dump_path, tokens_arg;
    if (const char* env = std::getenv("GEMMA_MODEL")) model_path = env;
    bool info = false, all_logits = false;
    gemma::SessionOptions sopt;
    std::optional<std::string> tokenize, detokenize;
    bool parse_special = false, bos = true;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) gemma::Fail("{} needs a value", a);
        return argv[++i];
      };
      if (a == "-h" || a == "--help") {
        fmt::print("{}", kUsage);
        return 0;
      } else if (a == "-m" || a == "--model") {
        model_path = value();
      } else if (a == "--info") {
        info = true;
      } else if (a == "--tokens") {
        tokens_arg = value();
      } else if (a == "--dump-logits") {
        dump_path = value();
      } else if (a == "--all-logits") {
        all_logits = true;
      } else if (a == "--precision") {
        const std::string p = value();
        if (p == "exact") sopt.precision = gemma::Precision::kExact;
        else if (p == "fast") sopt.precision = gemma::Precision::kFast;
        else gemma::Fail("--precision: expected exact or fast, got '{}'", p);
      } else if (a == "--tokenize" || a == "--detokenize") {
        (a == "--tokenize" ? tokenize : detokenize) = value();
      } else if (a == "--parse-special") {
        parse_special = true;
      } else if (a == "--no-bos") {
        bos = false;
      } else if (a == "-c" || a == "--ctx-size") {
        sopt.n_ctx = std::stoll(value());
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
    if (!dump_path.empty()) {
      if (tokens_arg.empty()) gemma::Fail("--dump-logits needs --tokens");
      const std::vector<int32_t> tokens = ParseIds(tokens_arg);
      if (sopt.n_ctx == 0) sopt.n_ctx = std::max<int64_t>(static_cast<int64_t>(tokens.size()), 1);
      gemma::Session session(model, sopt);
      const std::vector<float> logits = session.Evaluate(
          tokens, all_logits ? gemma::LogitsMode::kAll : gemma::LogitsMode::kLast);
      DumpLogits(dump_path, tokens, logits, static_cast<size_t>(model.config.n_vocab));
      return 0;
    }
    fmt::print("{}", gemma::DescribeModel(model));
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
