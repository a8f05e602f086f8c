// gemma-run: chat with a Gemma 4 GGUF model, or answer one prompt for a script.
// This file picks the mode; cli/oneshot.cc and cli/repl.cc do the talking.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <chrono>
#include <clocale>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "kernels/parallel.h"
#include "cli/args.h"
#include "cli/terminal.h"
#include "runtime/error.h"
#include "runtime/gguf.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace {

using gemma::Fail;

void DumpLogits(const std::string& path, const std::vector<int32_t>& tokens,
                const std::vector<float>& logits, size_t n_vocab) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (!f) Fail("{}: cannot create", path);
  fmt::print(f, "{{\"tokens\":[{}],\"logits\":[", fmt::join(tokens, ","));
  for (size_t r = 0; r * n_vocab < logits.size(); ++r) {
    fmt::print(f, "{}[", r ? "," : "");
    for (size_t i = 0; i < n_vocab; ++i) {
      fmt::print(f, "{}{:.9g}", i ? "," : "", logits[r * n_vocab + i]);
    }
    fmt::print(f, "]");
  }
  fmt::print(f, "]}}\n");
  if (f != stdout && std::fclose(f) != 0) Fail("{}: write failed", path);
}

// --tokenize / --detokenize: reads only the tokenizer metadata, never the weights.
int RunTokenizer(const gemma::cli::Options& o) {
  const gemma::GgufFile file = gemma::GgufFile::Open(o.model);
  const gemma::Tokenizer tok = gemma::Tokenizer::FromGguf(file);
  if (o.tokenize) {
    std::string text = *o.tokenize;
    if (text == "-") {
      std::cin >> std::noskipws;
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    const std::vector<int32_t> ids =
        tok.Encode(text, {.add_bos = !o.no_bos, .parse_special = o.parse_special});
    fmt::print("[{}]\n", fmt::join(ids, ","));
    return 0;
  }
  std::vector<int32_t> ids;
  try {
    ids = gemma::cli::ParseIds(*o.detokenize);
  } catch (const gemma::Error&) {
    Fail("--detokenize: '{}' is not a list of token ids (expected comma-separated integers)",
         *o.detokenize);
  }
  const std::string text = tok.Decode(ids, {.render_special = true});
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

std::string ReadAll(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The one-shot prompt, if this run has one: -p TEXT, -p -, -f FILE, or piped stdin.
std::optional<std::string> OneShotPrompt(const gemma::cli::Options& o) {
  if (o.prompt && *o.prompt != "-") return *o.prompt;
  if ((o.prompt && *o.prompt == "-") || o.prompt_file == "-") return ReadAll(std::cin);
  if (!o.prompt_file.empty()) {
    std::ifstream in(o.prompt_file, std::ios::binary);
    if (!in) Fail("{}: cannot open the prompt file", o.prompt_file);
    return ReadAll(in);
  }
  if (!gemma::cli::IsTerminal(STDIN_FILENO)) return ReadAll(std::cin);
  return std::nullopt;
}

// libedit needs a multibyte locale to edit UTF-8 text; fall back to C.UTF-8 when the
// environment names none.
void SetUtf8Locale() {
  const char* l = std::setlocale(LC_CTYPE, "");
  if (!l || std::string(l) == "C" || std::string(l) == "POSIX") std::setlocale(LC_CTYPE, "C.UTF-8");
}

int Main(int argc, char** argv) {
  using namespace gemma;
  using namespace gemma::cli;
  cli::App app;
  app.opt = ParseArgs(argc, argv);
  const Options& o = app.opt;
  if (o.help) {
    fmt::print("{}", kUsage);
    return 0;
  }
  if (o.version) {
    fmt::print("gemma-run 0.1.0\n");
    return 0;
  }
  if (o.model.empty()) Fail("no model given: use -m FILE.gguf or set GEMMA_MODEL");
  if (o.tokenize || o.detokenize) return RunTokenizer(o);
  InstallSignalHandlers();
  SetUtf8Locale();

  std::unique_ptr<tbb::global_control> threads;
  if (o.threads > 0) {
    threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    static_cast<size_t>(o.threads));
    SetNumThreads(o.threads);  // the matmul thread pool (TBB runs the rest)
  }

  // Read the prompt before loading: a missing prompt file is reported without waiting.
  std::optional<std::string> prompt;
  if (!o.info && o.tokens.empty()) prompt = OneShotPrompt(o);

  const auto t0 = std::chrono::steady_clock::now();
  LoadOptions load;
  load.huge_pages = !o.mmap;
  const Model model = Model::Load(o.model, load);
  app.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  app.model = &model;
  if (o.info) {
    fmt::print("{}", DescribeModel(model));
    return 0;
  }
  app.session.precision = o.precision;
  app.session.n_ctx = o.n_ctx;
  app.session.cache_type = o.cache_type;

  if (!o.dump_logits.empty()) {
    const std::vector<int32_t> tokens = ParseIds(o.tokens);
    if (app.session.n_ctx == 0) {
      app.session.n_ctx = std::max<int64_t>(static_cast<int64_t>(tokens.size()), 1);
    }
    Session session(model, app.session);
    const std::vector<float> logits = session.Evaluate(
        tokens, o.all_logits ? LogitsMode::kAll : LogitsMode::kLast);
    DumpLogits(o.dump_logits, tokens, logits, static_cast<size_t>(model.config.n_vocab));
    return 0;
  }

  const TextCodec codec = TextCodec::FromGguf(model.file);
  app.codec = &codec;
  app.sampling = MergeSampling(o, SamplerParams::FromGguf(model.file));
  app.chat.thinking = o.think;
  app.chat.empty_thought_when_off = EmptyThoughtWhenOff(codec, model.config.Variant());
  const bool color = o.color == Options::Color::kOn ||
                     (o.color == Options::Color::kAuto && std::getenv("NO_COLOR") == nullptr);
  app.out.on = color && (o.color == Options::Color::kOn || IsTerminal(STDOUT_FILENO));
  app.err.on = color && (o.color == Options::Color::kOn || IsTerminal(STDERR_FILENO));
  if (o.verbose) {
    fmt::print(stderr, "gemma-run: {} loaded in {:.2f} s ({} {}, {} layers, vocab {})\n", o.model,
               app.load_seconds, model.config.Variant(), model.config.name, model.config.n_layer,
               model.config.n_vocab);
    fmt::print(stderr, "gemma-run: {:.2f} GiB of weights copied into huge pages{}\n",
               static_cast<double>(model.huge_page_bytes) / (1ull << 30),
               o.mmap ? " (--mmap)" : model.huge_page_bytes ? "" : " (none offered or no room)");
    fmt::print(stderr, "gemma-run: sampling: {}\n", app.sampling.ToString());
  }

  if (!o.tokens.empty()) return RunTokens(app, ParseIds(o.tokens));
  if (prompt) return RunOneShot(app, *prompt);
  return RunRepl(app);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    gemma::cli::RestoreTerminal();
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
