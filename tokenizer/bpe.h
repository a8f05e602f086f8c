// Byte-pair encoding of one run of text by merge rank.
//
// The run starts as one symbol per UTF-8 character (an ill-formed byte is a symbol of its own).
// Repeatedly the adjacent pair with the lowest merge rank is joined, the leftmost one first
// among equal ranks; this is the order both Hugging Face's BPE and llama.cpp use. A priority
// queue of candidate pairs makes this O(n log n) in the run length instead of the naive
// O(n^2): stale queue entries (a side already merged away) are recognised and skipped when
// popped. A symbol that is no piece at the end is emitted as its <0xXX> byte pieces.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace gemma {

class BpeEncoder {
 public:
  explicit BpeEncoder(const Vocab& vocab) : vocab_(vocab) {}

  // Appends the ids of `run` to `out`. `run` must be shorter than 2^31 bytes.
  void Encode(std::string_view run, std::vector<int32_t>& out);

 private:
  struct Symbol {
    int32_t id;      // piece id, or Vocab::kNone for a character that is no piece
    uint32_t start;  // byte range in the run
    uint32_t len;    // 0 once merged into its left neighbour
    int32_t prev, next;
  };
  struct Candidate {
    int32_t rank;
    int32_t left;  // index of the left symbol
  };

  static bool Later(const Candidate& a, const Candidate& b);
  void PushPair(int32_t left);
  void EmitBytes(std::string_view bytes, std::vector<int32_t>& out) const;

  const Vocab& vocab_;
  // Scratch, reused across runs to avoid an allocation per run.
  std::vector<Symbol> symbols_;
  std::vector<Candidate> heap_;
};

}  // namespace gemma
