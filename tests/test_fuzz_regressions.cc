// Replays, through the fuzz entry points, every seed of the fuzz corpora and every input a
// fuzzer once crashed on (tests/fuzz/regressions/<target>/, committed when the bug was fixed).
// In the sanitizer build this catches memory errors the fix must keep away.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "runtime/error.h"
#include "runtime/model.h"
#include "tests/fuzz/seeds.h"
#include "tests/fuzz/targets.h"
#include "tokenizer/tokenizer.h"

using namespace gemma;

namespace {

void Run(const std::string& target, std::span<const uint8_t> data) {
  if (target == "gguf") return fuzz::GgufModel(data);
  if (target == "tokenizer") return fuzz::TokenizerCodec(data);
  if (target == "tokenizer_json") return fuzz::TokenizerJson(data);
  if (target == "chat") return fuzz::ChatTemplate(data);
  FAIL("unknown target " << target);
}

std::filesystem::path RegressionDir() {
  const char* dir = std::getenv("GEMMA_FUZZ_REGRESSIONS");
  return dir ? dir : "tests/fuzz/regressions";
}

}  // namespace

TEST_CASE("fuzz seeds pass their target's checks", "[fuzz]") {
  for (const std::string& target : fuzz::TargetNames()) {
    const std::vector<fuzz::Seed> seeds = fuzz::SeedsFor(target);
    CHECK(seeds.size() >= 4);
    for (const fuzz::Seed& s : seeds) {
      INFO(target << "/" << s.name);
      CHECK_NOTHROW(Run(target, s.bytes));
    }
  }
}

TEST_CASE("the GGUF seeds are complete models", "[fuzz]") {
  // A seed the loader rejects would fuzz only the first check; each must load and run.
  for (const fuzz::Seed& s : fuzz::SeedsFor("gguf")) {
    INFO(s.name);
    CHECK(s.bytes.size() < 160000);
    const GgufFile f = GgufFile::FromBytes(s.bytes, s.name);
    const ModelConfig c = ReadModelConfig(f);
    CHECK_NOTHROW(BindWeights(f, c));
  }
}

TEST_CASE("the committed fuzz corpora pass their target's checks", "[fuzz]") {
  // tests/fuzz/corpus/<target>: minimised corpora of the small targets (the GGUF one is large
  // and regrown from the generated seeds).
  const std::filesystem::path root = RegressionDir().parent_path() / "corpus";
  size_t n = 0;
  for (const std::string& target : {"tokenizer", "tokenizer_json", "chat"}) {
    REQUIRE(std::filesystem::is_directory(root / target));
    for (const auto& entry : std::filesystem::directory_iterator(root / target)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      INFO(entry.path().string());
      CHECK_NOTHROW(Run(target, bytes));
      ++n;
    }
  }
  CHECK(n > 1000);
}

TEST_CASE("inputs that once crashed a fuzzer stay fixed", "[fuzz]") {
  size_t n = 0;
  for (const std::string& target : fuzz::TargetNames()) {
    const std::filesystem::path dir = RegressionDir() / target;
    REQUIRE(std::filesystem::is_directory(dir));
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().filename() == ".gitkeep") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      INFO(entry.path().string());
      CHECK_NOTHROW(Run(target, bytes));
      ++n;
    }
  }
  WARN(n << " regression inputs replayed");
}

TEST_CASE("deeply nested tokenizer.json is refused, not recursed into", "[fuzz]") {
  // Too large to commit as a file: 200,000 nested arrays as the normalizer overflowed the stack
  // when the loader copied the value.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const std::string text = R"({"model":{"type":"BPE","byte_fallback":true},"normalizer":)" + deep + "}";
  CHECK_NOTHROW(fuzz::TokenizerJson({reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
  try {
    Tokenizer::FromHfJsonText(text, "deep.json");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("deep.json: JSON nested deeper than 64 levels"));
  }
}

TEST_CASE("tokenizer.json with a fractional token id is refused", "[fuzz]") {
  // Found by fuzzing: 1e300 was undefined behaviour (a float-to-int cast), 1.5 was read as 1.
  for (const char* id : {"1.5", "1e300"}) {
    const std::string text = std::string(R"({"model":{"type":"BPE","byte_fallback":true,"vocab":{"a":0},"merges":[]},)") +
                             R"("normalizer":{"type":"Replace","pattern":{"String":" "},"content":"\u2581"},)" +
                             R"("added_tokens":[{"id":)" + id + R"(,"content":"x"}]})";
    try {
      Tokenizer::FromHfJsonText(text, "float.json");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("float.json: added token id " + std::string(id == std::string("1.5") ? "1.5" : "1e+300") + " is not an integer"));
    }
  }
}
