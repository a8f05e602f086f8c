// Replays, through the fuzz entry points, every seed of the fuzz corpora and every input a
// fuzzer once crashed on (tests/fuzz/regressions/<target>/, committed when the bug was fixed).
// In the sanitizer build this catches memory errors the fix must keep away.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "runtime/model.h"
#include "tests/fuzz/seeds.h"
#include "tests/fuzz/targets.h"

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
