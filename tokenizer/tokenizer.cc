#include "tokenizer/tokenizer.h"

#include <limits>

#include "runtime/error.h"
#include "tokenizer/utf8.h"

namespace gemma {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space
constexpr size_t kMaxWholePiece = 256;  // bytes

// Cutting runs into words is only worth its checks while few pieces span a word start.
constexpr size_t kMaxSpanningPieces = 64;

bool HasAtLeastTwoChars(std::string_view piece) {
  if (piece.empty()) return false;
  return utf8::Next(piece, 0).len < piece.size();
}

}  // namespace

Tokenizer Tokenizer::FromSource(const VocabSource& source, std::string chat_template) {
  return Tokenizer(Vocab::Build(source), std::move(chat_template), source.name);
}

Tokenizer::Tokenizer(Vocab vocab, std::string chat_template, const std::string& name)
    : vocab_(std::move(vocab)), chat_template_(std::move(chat_template)) {
  const int32_t n = vocab_.Size();
  matched_whole_.assign(n, false);
  auto match_whole = [&](std::string_view piece, int32_t id, PieceMatcher::Kind kind) {
    // Matching tries every start position against the longest piece, so text shorter than a
    // long piece costs its length squared: a vocabulary with a 100 KB piece made 40 KB of text
    // take over a minute. Gemma's longest piece is 93 bytes.
    if (piece.size() > kMaxWholePiece) {
      Fail("{}: token {} ('{}') is {} bytes long; pieces matched whole may have at most {}", name,
           id, utf8::Escape(piece, 32), piece.size(), kMaxWholePiece);
    }
    matcher_.Add(piece, id, kind);
    matched_whole_[id] = true;
  };
  for (int32_t id = 0; id < n; ++id) {
    const std::string_view piece = vocab_.Piece(id);
    // A repeated string is reachable by text only under its canonical (later) id.
    if (piece.empty() || vocab_.Find(piece) != id) continue;
    switch (vocab_.Type(id)) {
      case TokenType::kControl:
      case TokenType::kUnknown:
        match_whole(piece, id, PieceMatcher::Kind::kOnRequest);
        break;
      case TokenType::kUserDefined:
        match_whole(piece, id, PieceMatcher::Kind::kAlways);
        break;
      case TokenType::kNormal:
        // Unreachable by merges, so it exists only to be matched whole: a SentencePiece
        // user-defined piece that the GGUF converter stored as NORMAL (see the header).
        if (HasAtLeastTwoChars(piece) && !vocab_.MergeProduced(id)) {
          match_whole(piece, id, PieceMatcher::Kind::kAlways);
        }
        break;
      default:
        break;  // BYTE and UNUSED pieces are never matched in text
    }
  }
  // Pieces with a "▁" right after another character could be merged across a word start.
  for (int32_t id = 0; id < n && spanning_.size() <= kMaxSpanningPieces; ++id) {
    const std::string_view piece = vocab_.Piece(id);
    for (size_t p = piece.find(kSpaceMark, 1); p != std::string_view::npos;
         p = piece.find(kSpaceMark, p + kSpaceMark.size())) {
      if (p < kSpaceMark.size() ||
          piece.substr(p - kSpaceMark.size(), kSpaceMark.size()) != kSpaceMark) {
        spanning_.push_back({piece, p});
      }
    }
  }
  split_words_ = spanning_.size() <= kMaxSpanningPieces;
}

bool Tokenizer::IsMatchedWhole(int32_t id) const {
  return vocab_.Valid(id) && matched_whole_[id];
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, EncodeOptions options) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  const bool bos = options.add_bos && vocab_.bos_id != Vocab::kNone;
  if (bos) out.push_back(vocab_.bos_id);
  EncodeImpl(text, options.parse_special, {}, out);
  if (bos && out.size() >= 2 && out[1] == vocab_.bos_id) out.erase(out.begin());
  return out;
}

std::vector<int32_t> Tokenizer::EncodeWithPlainRanges(std::string_view text, bool add_bos,
                                                      std::span<const TextRange> plain) const {
  for (size_t i = 0; i < plain.size(); ++i) {
    if (plain[i].begin > plain[i].end || plain[i].end > text.size() ||
        (i > 0 && plain[i].begin < plain[i - 1].end)) {
      Fail("EncodeWithPlainRanges: range {} [{}, {}) is not sorted, disjoint and inside the {} "
           "bytes of text", i, plain[i].begin, plain[i].end, text.size());
    }
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  const bool bos = add_bos && vocab_.bos_id != Vocab::kNone;
  if (bos) out.push_back(vocab_.bos_id);
  EncodeImpl(text, true, plain, out);
  if (bos && out.size() >= 2 && out[1] == vocab_.bos_id) out.erase(out.begin());
  return out;
}

void Tokenizer::EncodeImpl(std::string_view text, bool parse_special,
                           std::span<const TextRange> plain, std::vector<int32_t>& out) const {
  if (text.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()) / 3) {
    Fail("cannot tokenize {} bytes of text at once (the limit is 700 MB)", text.size());
  }
  // Step 1: spaces -> "▁". The plain ranges move with the text they cover.
  std::string norm;
  norm.reserve(text.size() + text.size() / 4);
  std::vector<TextRange> ranges(plain.begin(), plain.end());
  size_t next_begin = 0, next_end = 0;  // the next range bound to translate
  for (size_t i = 0; i <= text.size(); ++i) {
    while (next_begin < ranges.size() && plain[next_begin].begin == i) {
      ranges[next_begin++].begin = norm.size();
    }
    while (next_end < ranges.size() && plain[next_end].end == i) {
      ranges[next_end++].end = norm.size();
    }
    if (i == text.size()) break;
    if (text[i] == ' ') {
      norm.append(kSpaceMark);
    } else {
      norm += text[i];
    }
  }

  // Step 2: cut out the pieces matched whole; steps 3-4 on the text between them.
  RunEncoder runs(vocab_, spanning_, split_words_);
  size_t segment = 0, r = 0;
  for (size_t i = 0; i < norm.size();) {
    if (!matcher_.CanStart(static_cast<uint8_t>(norm[i]), parse_special)) {
      ++i;
      continue;
    }
    PieceMatcher::Match m = matcher_.LongestAt(norm, i, parse_special);
    if (m.len > 0 && parse_special && !ranges.empty()) {
      while (r < ranges.size() && ranges[r].end <= i) ++r;
      const bool overlaps = r < ranges.size() && ranges[r].begin < i + m.len;
      const TokenType t = vocab_.Type(m.id);
      if (overlaps && (t == TokenType::kControl || t == TokenType::kUnknown)) {
        m = matcher_.LongestAt(norm, i, false);  // only pieces matched in any text
      }
    }
    if (m.len == 0) {
      ++i;
      continue;
    }
    EncodeSegment(std::string_view(norm).substr(segment, i - segment), runs, out);
    out.push_back(m.id);
    i += m.len;
    segment = i;
  }
  EncodeSegment(std::string_view(norm).substr(segment), runs, out);
}

void Tokenizer::EncodeSegment(std::string_view s, RunEncoder& runs,
                              std::vector<int32_t>& out) const {
  size_t p = 0;
  while (p < s.size()) {
    if (s[p] == '\n') {
      size_t q = s.find_first_not_of('\n', p);
      if (q == std::string_view::npos) q = s.size();
      const std::string_view run = s.substr(p, q - p);
      const int32_t id = vocab_.Find(run);
      if (id != Vocab::kNone) {
        out.push_back(id);
      } else {
        runs.Encode(run, out);
      }
      p = q;
    } else {
      size_t q = s.find('\n', p);
      if (q == std::string_view::npos) q = s.size();
      runs.Encode(s.substr(p, q - p), out);
      p = q;
    }
  }
}

void Tokenizer::AppendDecoded(int32_t id, DecodeOptions options, std::string& out) const {
  if (!vocab_.Valid(id)) {
    Fail("token id {} is outside the vocabulary (0..{})", id, vocab_.Size() - 1);
  }
  const std::string_view piece = vocab_.Piece(id);
  switch (vocab_.Type(id)) {
    case TokenType::kByte:
      out += static_cast<char>(vocab_.ByteValue(id));
      return;
    case TokenType::kNormal:
    case TokenType::kUserDefined:
      break;
    default:  // control, unknown, unused, undefined
      if (options.render_special) out.append(piece);
      return;
  }
  for (size_t p = 0;;) {
    const size_t q = piece.find(kSpaceMark, p);
    if (q == std::string_view::npos) {
      out.append(piece.substr(p));
      return;
    }
    out.append(piece.substr(p, q - p));
    out += ' ';
    p = q + kSpaceMark.size();
  }
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, DecodeOptions options) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (int32_t id : ids) AppendDecoded(id, options, out);
  return out;
}

}  // namespace gemma
