// Every file of the hostile corpus (hostile_gguf.cc) must be refused with one error line that
// names the file and says what is wrong, and a non-zero exit from gemma-run within a second:
// through the library, and through the real executable ($GEMMA_RUN) for --info, a logits run
// (--tokenize for tokenizer metadata) and a one-shot chat (-p). The sanitizer build runs this too.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "runtime/error.h"
#include "runtime/model.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/hostile_gguf.h"
#include "tests/subprocess.h"
#include "tests/test_util.h"
#include "tokenizer/tokenizer.h"

using namespace gemma;
using Stage = test::HostileFile::Stage;

namespace {

// Generous: ASan on a shared two-core machine. The times measured are reported.
constexpr double kTimeLimit = 10.0;

// The library's error for the stage the file must fail in ("" if it did not fail there).
std::string LibraryError(const test::HostileFile& h, const std::string& path) {
  try {
    const Model model = Model::Load(path);
    if (h.stage == Stage::kLoad) return "";
    if (h.stage == Stage::kTokenizer) {
      Tokenizer::FromGguf(model.file);
      return "";
    }
    if (h.stage == Stage::kChat) {
      SamplerParams::FromGguf(model.file);
      return "";
    }
    SessionOptions opt;
    opt.n_ctx = 2;
    Session session(model, opt);
    const int32_t ids[2] = {2, 3};
    session.Evaluate(ids, LogitsMode::kLast);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// Each expectation must appear; " | " separates alternatives.
void CheckExpectations(const std::string& message, const std::vector<std::string>& expect) {
  for (const std::string& e : expect) {
    bool any = false;
    for (size_t p = 0; p <= e.size();) {
      size_t q = e.find(" | ", p);
      if (q == std::string::npos) q = e.size();
      any = any || message.find(e.substr(p, q - p)) != std::string::npos;
      p = q + 3;
    }
    INFO("expected: " << e);
    CHECK(any);
  }
}

struct Timing {
  size_t runs = 0;
  double total = 0, max = 0;
  std::string slowest;
  void Add(const test::ProcessResult& r, const std::string& what) {
    ++runs;
    total += r.seconds;
    if (r.seconds > max) {
      max = r.seconds;
      slowest = what;
    }
  }
};

// gemma-run with `args` must print exactly "error: MESSAGE\n" on stderr, nothing on stdout,
// and exit with status 1.
void ExpectRefused(const std::vector<std::string>& args, const std::string& message, Timing& timing) {
  const test::ProcessResult r = test::RunProcess(args, kTimeLimit);
  timing.Add(r, args[2] + " " + args[3]);
  INFO("gemma-run " << args[3] << " ...: exit " << r.exit_code << ", stderr: " << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: " + message + "\n");
  CHECK(r.out.empty());
}

// The same for a run whose message may differ in details (a chat prompt reaches a broken layer
// at another position than --tokens 2,3): one line naming the file, with the expected words.
void ExpectRefusedLike(const std::vector<std::string>& args, const std::string& path,
                       const std::vector<std::string>& expect, Timing& timing) {
  const test::ProcessResult r = test::RunProcess(args, kTimeLimit);
  timing.Add(r, args[2] + " " + args[3]);
  INFO("gemma-run " << args[3] << " ...: exit " << r.exit_code << ", stderr: " << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("error: " + path + ": ", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CheckExpectations(r.err, expect);
  CHECK(r.out.empty());
}

void ExpectAccepted(const std::vector<std::string>& args, Timing& timing) {
  const test::ProcessResult r = test::RunProcess(args, kTimeLimit);
  timing.Add(r, args[2] + " " + args[3]);
  INFO("gemma-run " << args[3] << ": exit " << r.exit_code << ", stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}

}  // namespace

TEST_CASE("hostile GGUF files are refused with one clear line", "[hostile]") {
  const char* exe = std::getenv("GEMMA_RUN");
  REQUIRE(exe);
  const std::vector<test::HostileFile> files = test::HostileGgufFiles();
  REQUIRE(files.size() > 200);
  Timing timing;
  for (const test::HostileFile& h : files) {
    const std::string path = test::ScratchPath(h.name);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(h.bytes.data()),
                                                static_cast<std::streamsize>(h.bytes.size()));
    INFO(h.name);
    const std::string message = LibraryError(h, path);
    INFO("library error: " << message);
    CHECK_FALSE(message.empty());
    if (message.empty()) continue;
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.rfind(path + ": ", 0) == 0);
    CheckExpectations(message, h.expect);

    const std::vector<std::string> info = {exe, "-m", path, "--info"};
    const std::vector<std::string> logits = {exe, "-m", path, "--tokens", "2,3", "--dump-logits", "-"};
    // A one-shot chat reads everything: model, tokenizer, sampling defaults, and generates.
    const std::vector<std::string> chat = {exe, "-m", path, "-p", "hi", "-n", "2"};
    switch (h.stage) {
      case Stage::kLoad:
        ExpectRefused(info, message, timing);
        ExpectRefused(logits, message, timing);
        break;
      case Stage::kTokenizer:
        ExpectAccepted(info, timing);
        ExpectRefused({exe, "-m", path, "--tokenize", "hi"}, message, timing);
        break;
      case Stage::kRun:
        ExpectAccepted(info, timing);
        ExpectRefused(logits, message, timing);
        break;
      case Stage::kChat:
        ExpectAccepted(info, timing);
        break;
    }
    if (h.stage == Stage::kRun) {
      ExpectRefusedLike(chat, path, h.expect, timing);
    } else {
      ExpectRefused(chat, message, timing);
    }
    std::filesystem::remove(path);
  }
  WARN(files.size() << " hostile files, " << timing.runs << " gemma-run runs: mean "
                    << timing.total / static_cast<double>(timing.runs) << " s, max " << timing.max
                    << " s (" << timing.slowest << ")");
}

TEST_CASE("gemma-run refuses paths that are not model files", "[hostile]") {
  const char* exe = std::getenv("GEMMA_RUN");
  REQUIRE(exe);
  Timing timing;
  const std::string dir = test::ScratchDir().string();
  ExpectRefused({exe, "-m", dir, "--info"}, dir + ": not a regular file", timing);
  ExpectRefused({exe, "-m", "/nonexistent/m.gguf", "--info"}, "/nonexistent/m.gguf: cannot open: No such file or directory", timing);
}
