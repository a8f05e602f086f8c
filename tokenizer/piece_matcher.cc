#include "tokenizer/piece_matcher.h"

#include <algorithm>

namespace gemma {

namespace {

uint64_t EdgeKey(int32_t node, uint8_t byte) {
  return (static_cast<uint64_t>(node) << 8) | byte;
}

}  // namespace

void PieceMatcher::Add(std::string_view piece, int32_t id, Kind kind) {
  if (piece.empty()) return;
  int32_t node = 0;
  for (char c : piece) {
    const uint64_t key = EdgeKey(node, static_cast<uint8_t>(c));
    if (const int32_t* child = edges_.Find(key)) {
      node = *child;
    } else {
      nodes_.push_back(Node{});
      const int32_t fresh = static_cast<int32_t>(nodes_.size() - 1);
      edges_.Put(key, fresh);
      node = fresh;
    }
  }
  // A string listed twice keeps the later id, as the vocabulary's text index does.
  Node& n = nodes_[node];
  if (kind == Kind::kAlways) {
    n.always = std::max(n.always, id);
  } else {
    n.on_request = std::max(n.on_request, id);
  }
  const uint8_t first = static_cast<uint8_t>(piece[0]);
  start_any_.set(first);
  if (kind == Kind::kAlways) start_always_.set(first);
}

PieceMatcher::Match PieceMatcher::LongestAt(std::string_view text, size_t pos,
                                            bool parse_special) const {
  Match best;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const int32_t* child = edges_.Find(EdgeKey(node, static_cast<uint8_t>(text[i])));
    if (!child) break;
    node = *child;
    const Node& n = nodes_[node];
    const int32_t id = parse_special ? std::max(n.always, n.on_request) : n.always;
    if (id >= 0) best = {id, static_cast<uint32_t>(i - pos + 1)};
  }
  return best;
}

}  // namespace gemma
