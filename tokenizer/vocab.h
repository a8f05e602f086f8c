// The vocabulary of a Gemma 4 tokenizer: pieces, token types, merges and the special ids, in the
// form both loaders (GGUF arrays and Hugging Face tokenizer.json) produce. Building a Vocab
// validates everything the encoder relies on, so a bad file ends in one gemma::Error with a
// one-line message, never in a crash later.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/flat_map.h"

namespace gemma {

// llama.cpp's token types (gguf-py TokenType), as stored in tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// What a loader hands to Vocab::Build. Views must stay valid during Build only.
struct VocabSource {
  std::string name;                      // file name, for messages
  std::vector<std::string_view> tokens;  // id order
  std::vector<int32_t> types;            // empty: all NORMAL (byte pieces recognised by text)
  // Merges in rank order (index = rank), each as the two pieces it joins.
  std::vector<std::pair<std::string_view, std::string_view>> merges;
  // Special ids from metadata; -1 = not given (then looked up by text).
  int64_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
  // Where the arrays came from, for messages.
  std::string types_key = "tokenizer.ggml.token_type";
  std::string merges_key = "tokenizer.ggml.merges";
};

class Vocab {
 public:
  static constexpr int32_t kNone = -1;

  // Validates and indexes `src`. Throws gemma::Error naming src.name and the bad entry.
  static Vocab Build(const VocabSource& src);

  // Move-only: the text index holds views into the piece storage, which a move keeps in place.
  Vocab(Vocab&&) noexcept = default;
  Vocab& operator=(Vocab&&) noexcept = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  int32_t Size() const { return static_cast<int32_t>(offsets_.size()) - 1; }
  std::string_view Piece(int32_t id) const {
    return std::string_view(arena_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  TokenType Type(int32_t id) const { return types_[id]; }
  bool Valid(int32_t id) const { return id >= 0 && id < Size(); }

  // Text -> id. Real Google GGUFs repeat a few piece strings (spec/tokenizer.md §9 q2): the
  // later id wins, as in one published reader; llama.cpp aborts on them instead.
  int32_t Find(std::string_view piece) const;
  int32_t DuplicateCount() const { return duplicates_; }

  // The id of the single-code-point piece for cp, or kNone.
  int32_t CharId(uint32_t cp) const {
    const int32_t* id = char_ids_.Find(cp);
    return id ? *id : kNone;
  }
  // The merge of two adjacent pieces: its rank (lower merges first) and the resulting id.
  struct Merge {
    int32_t rank = 0;
    int32_t result = 0;
  };
  const Merge* FindMerge(int32_t left, int32_t right) const {
    return merges_.Find((static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
                        static_cast<uint32_t>(right));
  }
  int32_t MergeCount() const { return merge_count_; }
  // The byte-fallback piece <0xXX> for byte b, or kNone.
  int32_t ByteId(uint8_t b) const { return byte_ids_[b]; }
  // For a BYTE piece, the byte it stands for.
  uint8_t ByteValue(int32_t id) const { return byte_value_[id]; }

  // True if some merge produces piece `id`; a multi-character NORMAL piece that no merge
  // produces can only ever be emitted by matching it whole (see Tokenizer).
  bool MergeProduced(int32_t id) const { return merge_produced_[id]; }

  int32_t bos_id = kNone, eos_id = kNone, unk_id = kNone, pad_id = kNone;

 private:
  Vocab() = default;

  std::vector<char> arena_;        // all pieces, back to back (a vector: moves keep the buffer)
  std::vector<uint32_t> offsets_;  // piece i = arena_[offsets_[i], offsets_[i + 1])
  std::vector<TokenType> types_;
  // Text -> id: open addressing over the arena, 8 bytes a slot (hash tag, id); a node-based
  // std::unordered_map made loading the 262,144 pieces and 514,906 merges three times slower.
  struct Slot {
    uint32_t tag = 0;
    int32_t id = kNone;
  };
  static uint64_t Hash(std::string_view s);
  // Adds or, for a repeated string, re-points to `id`; returns false for a repeat.
  bool Insert(int32_t id);
  std::vector<Slot> index_;
  FlatMap<int32_t> char_ids_;
  FlatMap<Merge> merges_;
  int32_t merge_count_ = 0;
  std::vector<bool> merge_produced_;
  std::array<int32_t, 256> byte_ids_{};
  std::vector<uint8_t> byte_value_;
  int32_t duplicates_ = 0;
};

}  // namespace gemma
