#include "tokenizer/vocab.h"

#include <cstring>
#include <limits>
#include <string>

#include "runtime/error.h"
#include "tokenizer/utf8.h"

namespace gemma {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xAB>" -> 0xAB, else -1.
int ParseBytePiece(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  const int hi = HexDigit(t[3]), lo = HexDigit(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

uint64_t Vocab::Hash(std::string_view s) {
  // 8 bytes at a time, multiply-xorshift mixing; pieces are short (7 bytes on average).
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (s.size() * 0xFF51AFD7ED558CCDULL);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
  }
  uint64_t w = 0;
  if (i < s.size()) std::memcpy(&w, s.data() + i, s.size() - i);  // (never from a null view)
  h = (h ^ w) * 0x94D049BB133111EBULL;
  return h ^ (h >> 32);
}

int32_t Vocab::Find(std::string_view piece) const {
  const uint64_t h = Hash(piece);
  const size_t mask = index_.size() - 1;
  const auto tag = static_cast<uint32_t>(h >> 32);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = index_[i];
    if (s.id == kNone) return kNone;
    if (s.tag == tag && Piece(s.id) == piece) return s.id;
  }
}

bool Vocab::Insert(int32_t id) {
  const std::string_view piece = Piece(id);
  const uint64_t h = Hash(piece);
  const size_t mask = index_.size() - 1;
  const auto tag = static_cast<uint32_t>(h >> 32);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = index_[i];
    if (s.id == kNone) {
      s = {tag, id};
      return true;
    }
    if (s.tag == tag && Piece(s.id) == piece) {
      s.id = id;  // the later id wins
      return false;
    }
  }
}

Vocab Vocab::Build(const VocabSource& src) {
  const std::string& name = src.name;
  const size_t n = src.tokens.size();
  if (n == 0) Fail("{}: the tokenizer has no tokens", name);
  if (n >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    Fail("{}: {} tokens, expected fewer than 2^31", name, n);
  }
  if (!src.types.empty() && src.types.size() != n) {
    Fail("{}: {} token types for {} tokens, expected one per token", name, src.types.size(), n);
  }

  Vocab v;
  size_t total = 0;
  for (std::string_view t : src.tokens) total += t.size();
  if (total >= std::numeric_limits<uint32_t>::max()) {
    Fail("{}: the pieces hold {} bytes, expected less than 4 GiB", name, total);
  }
  v.arena_.reserve(total);
  v.offsets_.reserve(n + 1);
  v.offsets_.push_back(0);
  for (std::string_view t : src.tokens) {
    v.arena_.insert(v.arena_.end(), t.begin(), t.end());
    v.offsets_.push_back(static_cast<uint32_t>(v.arena_.size()));
  }

  v.types_.resize(n, TokenType::kNormal);
  v.byte_value_.assign(n, 0);
  v.byte_ids_.fill(kNone);
  for (size_t i = 0; i < n; ++i) {
    const std::string_view piece = v.Piece(static_cast<int32_t>(i));
    const int byte = ParseBytePiece(piece);
    if (!src.types.empty()) {
      const int32_t t = src.types[i];
      if (t < 0 || t > 6) Fail("{}: {}[{}] is {}, expected 0..6", name, src.types_key, i, t);
      v.types_[i] = static_cast<TokenType>(t);
    } else if (byte >= 0) {
      v.types_[i] = TokenType::kByte;  // no types given: recognise byte pieces by their text
    }
    if (v.types_[i] == TokenType::kByte) {
      if (byte < 0) {
        Fail("{}: token {} '{}' has type BYTE, expected the form <0xXX>", name, i,
             utf8::Escape(piece));
      }
      v.byte_value_[i] = static_cast<uint8_t>(byte);
      v.byte_ids_[byte] = static_cast<int32_t>(i);  // a repeated byte piece: the later id wins
    }
  }

  // Text index and single-character index; for repeated strings the later id wins in both, so
  // that every lookup of one string agrees.
  size_t slots = 16;
  while (slots < 2 * n) slots *= 2;  // load factor at most 1/2
  v.index_.assign(slots, Slot{});
  v.char_ids_.Reserve(n / 8);
  for (size_t i = 0; i < n; ++i) {
    const std::string_view piece = v.Piece(static_cast<int32_t>(i));
    if (!v.Insert(static_cast<int32_t>(i))) ++v.duplicates_;
    if (!piece.empty()) {
      const utf8::Char c = utf8::Next(piece, 0);
      if (c.status == utf8::Status::kOk && c.len == piece.size()) {
        v.char_ids_.Put(c.cp, static_cast<int32_t>(i));
      }
    }
  }

  auto special = [&](int64_t given, std::string_view text, const char* what) -> int32_t {
    if (given >= 0) {
      if (given >= static_cast<int64_t>(n)) {
        Fail("{}: {} is {}, outside the vocabulary of {} tokens", name, what, given, n);
      }
      return static_cast<int32_t>(given);
    }
    return v.Find(text);
  };
  v.bos_id = special(src.bos_id, "<bos>", "tokenizer.ggml.bos_token_id");
  v.eos_id = special(src.eos_id, "<eos>", "tokenizer.ggml.eos_token_id");
  v.unk_id = special(src.unk_id, "<unk>", "tokenizer.ggml.unknown_token_id");
  v.pad_id = special(src.pad_id, "<pad>", "tokenizer.ggml.padding_token_id");

  if (src.merges.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    Fail("{}: {} merges, expected fewer than 2^31", name, src.merges.size());
  }
  v.merge_produced_.assign(n, false);
  v.merges_.Reserve(src.merges.size());
  std::string joined;
  for (size_t r = 0; r < src.merges.size(); ++r) {
    const auto& [left, right] = src.merges[r];
    joined.assign(left);
    joined.append(right);
    const int32_t l = v.Find(left), rr = v.Find(right), m = v.Find(joined);
    if (left.empty() || right.empty() || l == kNone || rr == kNone || m == kNone) {
      const std::string_view missing = left.empty() || l == kNone    ? left
                                       : right.empty() || rr == kNone ? right
                                                                      : std::string_view(joined);
      Fail("{}: {}[{}] joins '{}' and '{}', but '{}' is not a piece of the vocabulary", name,
           src.merges_key, r, utf8::Escape(left), utf8::Escape(right), utf8::Escape(missing));
    }
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) |
                         static_cast<uint32_t>(rr);
    // A pair listed twice keeps its first (lowest) rank, as llama.cpp's rank table does.
    if (!v.merges_.Find(key)) v.merges_.Put(key, Merge{static_cast<int32_t>(r), m});
    v.merge_produced_[m] = true;
  }
  v.merge_count_ = static_cast<int32_t>(src.merges.size());
  return v;
}

}  // namespace gemma
