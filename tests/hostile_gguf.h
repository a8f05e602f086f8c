// A corpus of hostile GGUF files, generated from small valid synthetic models: truncations, lying
// counts, lengths, offsets and dimensions, duplicates, wrong types and values for every gemma4
// key, inconsistent per-layer arrays, non-finite norms and weights, unknown weight types and
// misaligned data. test_hostile runs each through the library and the gemma-run executable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gemma::test {

struct HostileFile {
  // Where the file must be refused:
  enum class Stage {
    kLoad,       // Model::Load: --info and a logits run both fail
    kTokenizer,  // the model loads; Tokenizer::FromGguf fails (--tokenize)
    kRun,        // the model loads; evaluating tokens fails (non-finite activations)
    kChat,       // model and tokenizer load; a chat's settings from the file are refused
  };
  std::string name;  // a file name saying what is wrong
  std::vector<uint8_t> bytes;
  std::vector<std::string> expect;  // each appears in the one-line error (" | " separates alternatives)
  Stage stage = Stage::kLoad;
};

std::vector<HostileFile> HostileGgufFiles();

}  // namespace gemma::test
