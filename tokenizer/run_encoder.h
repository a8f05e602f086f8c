// Encodes one run of text (no newline, no whole-matched piece) by BPE, word by word, memoizing
// repeated words.
//
// Gemma has no pre-tokenizer, so BPE formally runs over a whole line. But a merge can only join
// across a "word start" (a "▁" after a non-"▁" character) if some piece contains that pair; on
// the real vocabulary exactly one piece does (">▁</"). So a run is cut at every word start that
// no such piece spans in the text: no merge could ever cross the cut, the two sides evolve
// independently, and the result is identical to whole-run BPE, while natural text repeats most
// words and the cache skips their BPE entirely. The list of boundary-spanning pieces comes from
// the vocabulary at load; if it is long, runs are not cut at all.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/bpe.h"

namespace gemma {

// A piece containing a non-"▁" character followed by "▁" at byte offset `offset`.
struct SpanningPiece {
  std::string_view piece;
  size_t offset;
};

class RunEncoder {
 public:
  // `spanning` must outlive the encoder; `split` false = whole-run BPE.
  RunEncoder(const Vocab& vocab, const std::vector<SpanningPiece>& spanning, bool split)
      : bpe_(vocab), spanning_(spanning), split_(split) {}

  // Appends the ids of `run`; the run's bytes must stay valid while the encoder lives (the
  // cache keys point into it).
  void Encode(std::string_view run, std::vector<int32_t>& out);

 private:
  bool Spanned(std::string_view run, size_t pos) const;
  void EncodeWord(std::string_view word, std::vector<int32_t>& out);

  BpeEncoder bpe_;
  const std::vector<SpanningPiece>& spanning_;
  bool split_;
  std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> cache_;  // -> pool_ range
  std::vector<int32_t> pool_;
};

}  // namespace gemma
