// Finds pieces that are matched whole in the text before BPE runs: control tokens (only when
// the caller parses specials) and user-defined pieces (always). A byte trie gives the longest
// piece starting at a position in time proportional to its length; scanning left to right and
// taking the longest match at the first position that has one is "leftmost-longest", the rule
// of Hugging Face's added-token matcher and of SentencePiece's user-defined-symbol matcher.
#pragma once

#include <bitset>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/flat_map.h"

namespace gemma {

class PieceMatcher {
 public:
  enum class Kind : uint8_t {
    kAlways,     // user-defined: matched in any text
    kOnRequest,  // control: matched only with parse_special
  };

  void Add(std::string_view piece, int32_t id, Kind kind);

  struct Match {
    int32_t id = -1;
    uint32_t len = 0;  // 0: no match
  };
  // The longest piece allowed in this mode that starts at text[pos].
  Match LongestAt(std::string_view text, size_t pos, bool parse_special) const;

  // Cheap pre-filter for the scan: can a piece allowed in this mode start with byte b?
  bool CanStart(uint8_t b, bool parse_special) const {
    return parse_special ? start_any_[b] : start_always_[b];
  }
  bool Empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    int32_t always = -1;      // id of the kAlways piece ending here
    int32_t on_request = -1;  // id of the kOnRequest piece ending here
  };
  std::vector<Node> nodes_{Node{}};  // node 0 is the root
  FlatMap<int32_t> edges_;           // (node << 8 | byte) -> child node
  std::bitset<256> start_always_, start_any_;
};

}  // namespace gemma
