// gemma-run one-shot mode, run as a program on the tiny synthetic model: stdout holds exactly
// the answer, stdin and files work as prompts, exit codes, seeds, and greedy decoding equals
// llama.cpp's continuation from tests/data/golden.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "process.h"
#include "runtime/chat.h"
#include "runtime/model.h"
#include "runtime/text_stream.h"
#include "test_util.h"

using namespace gemma;
using test::Run;

namespace {

const std::string& ModelPath() {
  static const std::string path = test::SynthModel("tiny", "Q8_0");
  return path;
}

// The common flags: one thread (the same arithmetic as the in-process reference), no colour.
std::vector<std::string> Args(std::vector<std::string> extra) {
  std::vector<std::string> a = {"-m", ModelPath(), "-t", "1", "--color", "off"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// The same chat turn computed in this process with the library.
std::string ExpectedAnswer(const std::string& prompt, uint64_t seed, int n) {
  const gemma::Model model = gemma::Model::Load(ModelPath());
  const TextCodec codec = TextCodec::FromGguf(model.file);
  Session session(model, {});
  SamplerParams p = SamplerParams::FromGguf(model.file);
  p.seed = seed;
  Sampler sampler(p);
  Chat chat(session, codec, sampler);
  GenerateOptions g;
  g.max_tokens = n;
  const GenerateResult r = chat.Send(prompt, g, nullptr);
  return r.answer.empty() || r.answer.back() == '\n' ? r.answer : r.answer + "\n";
}

}  // namespace

TEST_CASE("one-shot: stdout holds exactly the answer, logs go to stderr", "[cli]") {
  const auto r = Run(Args({"-p", "Hello there, how are you?", "-n", "24", "-s", "5"}));
  REQUIRE(r.status == 0);
  CHECK(r.out == ExpectedAnswer("Hello there, how are you?", 5, 24));
  CHECK(!r.out.empty());
  // The one stats line, on stderr only.
  CHECK(std::regex_search(r.err, std::regex(R"(\[ load [0-9.]+ s \| prompt \d+ tokens, [0-9.]+ t/s \| generation \d+ tokens, [0-9.]+ t/s \]\n$)")));
  CHECK(r.out.find("t/s") == std::string::npos);
  CHECK(r.out.find("gemma-run") == std::string::npos);
}

TEST_CASE("one-shot: the prompt from stdin, -p -, -f FILE and words all give the same answer", "[cli]") {
  const std::string want = ExpectedAnswer("Tell me a story", 9, 16);
  const auto piped = Run(Args({"-n", "16", "-s", "9"}), "Tell me a story\n");
  CHECK(piped.status == 0);
  CHECK(piped.out == want);
  const auto dash = Run(Args({"-p", "-", "-n", "16", "-s", "9"}), "Tell me a story");
  CHECK(dash.status == 0);
  CHECK(dash.out == want);
  const std::string file = test::ScratchPath("prompt.txt");
  std::ofstream(file) << "Tell me a story\n";
  const auto f = Run(Args({"-f", file, "-n", "16", "-s", "9"}));
  CHECK(f.status == 0);
  CHECK(f.out == want);
  const auto words = Run(Args({"-n", "16", "-s", "9", "Tell", "me", "a", "story"}));
  CHECK(words.status == 0);
  CHECK(words.out == want);
}

TEST_CASE("one-shot: the same seed gives the same text, another seed another", "[cli]") {
  const auto a = Run(Args({"-p", "Write a poem", "-n", "32", "-s", "42"}));
  const auto b = Run(Args({"-p", "Write a poem", "-n", "32", "-s", "42"}));
  const auto c = Run(Args({"-p", "Write a poem", "-n", "32", "-s", "43"}));
  REQUIRE(a.status == 0);
  REQUIRE(b.status == 0);
  REQUIRE(c.status == 0);
  CHECK(a.out == b.out);
  CHECK(a.out != c.out);
}

TEST_CASE("one-shot: bad usage and bad input exit 1 with one line on stderr", "[cli]") {
  auto one_line = [](const test::RunResult& r) {
    return r.status == 1 && r.out.empty() && !r.err.empty() &&
           r.err.find('\n') == r.err.size() - 1 && r.err.rfind("error: ", 0) == 0;
  };
  const std::vector<std::vector<std::string>> bad = {
      {"--bogus"},
      {"-n"},
      {"-n", "many", "-p", "x"},
      {"--temp", "-1", "-p", "x"},
      {"--top-p", "2", "-p", "x"},
      {"--color", "sometimes", "-p", "x"},
      {"-f", "/nonexistent/prompt.txt"},
      {"-p", "x", "-f", "y"},
      {"--tokens", "1,x"},
      {"--tokens", "5000", "-n", "1"},  // id outside the vocabulary
      {"-c", "8", "-p", "a prompt much longer than eight tokens, surely"},
  };
  for (const auto& args : bad) {
    const auto r = Run(Args(args));
    INFO(fmt::format("gemma-run {}: status {} stderr '{}'", fmt::join(args, " "), r.status, r.err));
    CHECK(one_line(r));
  }
  const auto missing = Run({"-m", "/nonexistent/model.gguf", "-p", "x"});
  CHECK(one_line(missing));
  CHECK(missing.err.find("/nonexistent/model.gguf") != std::string::npos);
  const auto no_model = Run({"-p", "x"});
  CHECK(one_line(no_model));
  CHECK(no_model.err.find("GEMMA_MODEL") != std::string::npos);
  // $GEMMA_MODEL is the default model.
  const auto env = Run({"-p", "x", "-n", "2", "-t", "1"}, std::string(), std::vector<std::string>{"GEMMA_MODEL=" + ModelPath()});
  CHECK(env.status == 0);
  const auto help = Run({"--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("--top-p") != std::string::npos);
}

TEST_CASE("one-shot: Ctrl-C (SIGINT) stops generation and exits 130", "[cli]") {
  bool sent = false;
  const auto r = Run(Args({"-p", "Go on forever", "--ignore-eos", "-n", "-1", "-c", "16384"}), {},
                     [&](pid_t pid, const std::string& out) {
                       if (!sent && !out.empty()) {
                         kill(pid, SIGINT);
                         sent = true;
                       }
                     });
  REQUIRE(sent);
  CHECK(r.status == 130);
  CHECK(r.err.find("[ load") != std::string::npos);  // the stats line still comes
}

TEST_CASE("one-shot: a full context stops with a note and exits 0", "[cli]") {
  const auto r = Run(Args({"-p", "Hi", "--ignore-eos", "-c", "40"}));
  CHECK(r.status == 0);
  CHECK(!r.out.empty());
  CHECK(r.err.find("context") != std::string::npos);
  CHECK(std::regex_search(r.err, std::regex(R"(generation \d+ tokens)")));
}

TEST_CASE("one-shot: --stop ends the answer before the stop string", "[cli]") {
  const auto full = Run(Args({"--raw", "-p", "The", "-n", "40", "--temp", "0"}));
  REQUIRE(full.status == 0);
  // Stop at a piece of the greedy text, from its 6th byte on.
  const std::string text = full.out.substr(0, full.out.size() - 1);
  REQUIRE(text.size() > 12);
  const std::string stop = text.substr(6, 3);
  const auto cut = Run(Args({"--raw", "-p", "The", "-n", "40", "--temp", "0", "--stop", stop}));
  CHECK(cut.status == 0);
  CHECK(cut.out == text.substr(0, text.find(stop)) + "\n");
}

TEST_CASE("one-shot: greedy --raw continuation equals llama.cpp's (golden fixtures)", "[cli][golden]") {
  for (const char* name : {"tiny-F32.json", "tiny-Q8_0.json", "tiny-e-Q4_0.json", "tiny-moe-Q8_0.json"}) {
    std::ifstream in(test::DataPath(std::string("golden/") + name));
    REQUIRE(in);
    const nlohmann::json fx = nlohmann::json::parse(in);
    const std::string model = test::SynthModel(fx["model"]["preset"], fx["model"]["type"]);
    const std::vector<int32_t> prompt = fx["tokens"].get<std::vector<int32_t>>();
    const std::vector<int32_t> greedy = fx["greedy"].get<std::vector<int32_t>>();
    const auto r = Run({"-m", model, "-t", "1", "--tokens", fmt::format("{}", fmt::join(prompt, ",")),
                        "--temp", "0", "-n", std::to_string(greedy.size()), "--precision", "exact",
                        "--ignore-eos"});
    INFO(name << ": " << r.err);
    REQUIRE(r.status == 0);
    // The expected text: the golden ids decoded, through the same UTF-8 clean-up.
    const gemma::Model m = gemma::Model::Load(model);
    const TextCodec codec = TextCodec::FromGguf(m.file);
    Utf8Holdback clean;
    std::string want = clean.Push(codec.Decode(greedy));
    want += clean.Flush();
    if (want.empty() || want.back() != '\n') want += "\n";
    CHECK(r.out == want);
    CHECK(r.err.find(fmt::format("generation {} tokens", greedy.size())) != std::string::npos);
  }
}

TEST_CASE("one-shot: --tokens with --dump-logits still writes logits", "[cli]") {
  const std::string out = test::ScratchPath("logits.json");
  const auto r = Run(Args({"--tokens", "2,10,20", "--dump-logits", out}));
  REQUIRE(r.status == 0);
  std::ifstream in(out);
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["tokens"] == nlohmann::json::array({2, 10, 20}));
  CHECK(j["logits"].size() == 1);
  CHECK(j["logits"][0].size() == 1024);
}
