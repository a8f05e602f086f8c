#include "tests/fuzz/vocabs.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "runtime/gguf.h"
#include "runtime/synth.h"

namespace gemma::fuzz {

namespace {

Tokenizer BuildSynthTokenizer() {
  const SynthVocab v = BuildSynthVocab(1024);
  VocabSource src;
  src.name = "synthetic vocab";
  src.tokens.assign(v.tokens.begin(), v.tokens.end());
  src.types = v.types;
  for (const std::string& m : v.merges) {
    const size_t sp = m.find(' ', 1);
    src.merges.emplace_back(std::string_view(m).substr(0, sp), std::string_view(m).substr(sp + 1));
  }
  return Tokenizer::FromSource(src);
}

}  // namespace

const Tokenizer& SynthTokenizer() {
  static const Tokenizer tok = BuildSynthTokenizer();
  return tok;
}

const TextCodec& SynthCodec() {
  static const TextCodec codec(BuildSynthTokenizer());
  return codec;
}

const Tokenizer* RealTokenizer() {
  static const std::unique_ptr<Tokenizer> tok = []() -> std::unique_ptr<Tokenizer> {
    const char* path = std::getenv("GEMMA_FUZZ_VOCAB");
    if (!path || !*path) return nullptr;
    const std::string p = path;
    if (p.size() > 5 && p.compare(p.size() - 5, 5, ".json") == 0) {
      return std::make_unique<Tokenizer>(Tokenizer::FromHfJson(p));
    }
    return std::make_unique<Tokenizer>(Tokenizer::FromGguf(GgufFile::Open(p)));
  }();
  return tok.get();
}

}  // namespace gemma::fuzz
