#include "tokenizer/run_encoder.h"

namespace gemma {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";
// Bounds on the memo: beyond them words are still encoded, just not remembered.
constexpr size_t kMaxCachedWords = 1 << 17;
constexpr size_t kMaxCachedWordBytes = 256;

}  // namespace

bool RunEncoder::Spanned(std::string_view run, size_t pos) const {
  for (const SpanningPiece& s : spanning_) {
    if (pos >= s.offset && pos - s.offset + s.piece.size() <= run.size() &&
        run.compare(pos - s.offset, s.piece.size(), s.piece) == 0) {
      return true;
    }
  }
  return false;
}

void RunEncoder::EncodeWord(std::string_view word, std::vector<int32_t>& out) {
  if (word.empty()) return;
  const auto it = cache_.find(word);
  if (it != cache_.end()) {
    out.insert(out.end(), pool_.begin() + it->second.first,
               pool_.begin() + it->second.first + it->second.second);
    return;
  }
  const size_t before = out.size();
  bpe_.Encode(word, out);
  if (cache_.size() < kMaxCachedWords && word.size() <= kMaxCachedWordBytes) {
    const auto first = static_cast<uint32_t>(pool_.size());
    pool_.insert(pool_.end(), out.begin() + before, out.end());
    cache_.emplace(word, std::make_pair(first, static_cast<uint32_t>(out.size() - before)));
  }
}

void RunEncoder::Encode(std::string_view run, std::vector<int32_t>& out) {
  if (!split_) {
    bpe_.Encode(run, out);
    return;
  }
  size_t start = 0;
  for (size_t p = run.find(kSpaceMark, 1); p != std::string_view::npos;
       p = run.find(kSpaceMark, p + kSpaceMark.size())) {
    // A word starts at a "▁" that follows something else.
    if (p < kSpaceMark.size() || run.substr(p - kSpaceMark.size(), kSpaceMark.size()) == kSpaceMark) {
      continue;
    }
    if (p == start || Spanned(run, p)) continue;
    EncodeWord(run.substr(start, p - start), out);
    start = p;
  }
  EncodeWord(run.substr(start), out);
}

}  // namespace gemma
