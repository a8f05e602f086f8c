// Seed corpora of the fuzz targets, generated (nothing large is committed): small synthetic
// models of every variant and weight type, a synthetic tokenizer.json, test strings and chats.
// make_seeds writes them to directories for the fuzzers; test_fuzz_regressions replays them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/synth.h"

namespace gemma::fuzz {

struct Seed {
  std::string name;
  std::vector<uint8_t> bytes;
};

// The fuzz targets by name: "gguf", "tokenizer", "tokenizer_json", "chat".
const std::vector<std::string>& TargetNames();

// Seeds of one target; throws gemma::Error for an unknown name.
std::vector<Seed> SeedsFor(std::string_view target);

// A synthetic model of `preset` (tiny, tiny-e, tiny-moe) shrunk to a few tens of kilobytes
// (hidden size 32, vocabulary 400), so that mutations reach both header and data cheaply.
SynthSpec SmallSpec(const std::string& preset);

// A Hugging Face tokenizer.json holding the synthetic vocabulary of `n_vocab` pieces.
std::string SynthTokenizerJson(int n_vocab, bool merges_as_pairs);

}  // namespace gemma::fuzz
