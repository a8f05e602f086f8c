// The part of the tokenizer that generation and chat need: plain text -> ids, one id -> its
// output bytes, and the special tokens looked up by text.
//
// STOPGAP: tokenizer/ (branch `tokenizer`) is building the real Gemma 4 BPE tokenizer and chat
// template. Until it lands, Encode() here is a greedy longest-match over the vocabulary with
// byte fallback: every id it emits is a valid piece and the text round-trips, but the split is
// not the BPE one, so the model sees slightly unusual (still meaningful) token sequences. This
// class is the one seam to switch over: its users never see how text is split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gemma {

class GgufFile;

class TextCodec {
 public:
  static constexpr int32_t kNone = -1;

  // Reads tokenizer.ggml.* from the file. Throws gemma::Error naming the key.
  static TextCodec FromGguf(const GgufFile& file);

  // Move-only: the indexes hold views into the pieces, which a move keeps in place.
  TextCodec(TextCodec&&) noexcept = default;
  TextCodec& operator=(TextCodec&&) noexcept = default;
  TextCodec(const TextCodec&) = delete;
  TextCodec& operator=(const TextCodec&) = delete;

  // Ids of `text`, special tokens not parsed (user text saying "<bos>" stays text); no BOS.
  std::vector<int32_t> Encode(std::string_view text) const;
  // The bytes token `id` stands for in output: "▁" becomes a space, <0xHH> its byte, control
  // and unused tokens nothing. Visible markers (<|channel>, <|tool_call>, ...) print as text.
  std::string Decode(int32_t id) const;
  std::string Decode(const std::vector<int32_t>& ids) const;
  // The id of a piece by its exact text (e.g. "<turn|>"), or kNone.
  int32_t Find(std::string_view piece) const;

  int32_t Size() const { return static_cast<int32_t>(pieces_.size()); }
  int32_t bos_id() const { return bos_; }
  int32_t eos_id() const { return eos_; }

 private:
  TextCodec() = default;
  enum Type : int8_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5,
                       kByte = 6 };
  std::vector<std::string> pieces_;
  std::vector<int8_t> types_;
  std::vector<int16_t> byte_value_;  // for BYTE pieces, else -1
  std::unordered_map<std::string_view, int32_t> by_text_;      // every piece (views into pieces_)
  std::unordered_map<std::string_view, int32_t> matchable_;    // pieces plain text may become
  int32_t byte_ids_[256];
  size_t max_len_ = 1;
  int32_t bos_ = kNone, eos_ = kNone;
};

}  // namespace gemma
