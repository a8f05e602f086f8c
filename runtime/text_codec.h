// The part of the tokenizer that generation and chat use: plain text -> ids, one id -> its
// output bytes, and special tokens looked up by text. A thin view of tokenizer/'s Tokenizer
// (the real Gemma 4 BPE), kept as the one seam between the conversation layer and it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gemma {

class GgufFile;

class TextCodec {
 public:
  static constexpr int32_t kNone = -1;

  // Reads tokenizer.* from the file. Throws gemma::Error naming the key.
  static TextCodec FromGguf(const GgufFile& file) { return TextCodec(Tokenizer::FromGguf(file)); }
  explicit TextCodec(Tokenizer tokenizer) : tok_(std::move(tokenizer)) {}

  // Ids of `text`, special tokens not parsed (user text saying "<bos>" stays text); no BOS.
  std::vector<int32_t> Encode(std::string_view text) const { return tok_.Encode(text); }
  // The bytes token `id` stands for in output: control and unused tokens print nothing;
  // visible markers (<|channel>, <|tool_call>, ...) print as text. Empty for a bad id.
  std::string Decode(int32_t id) const;
  std::string Decode(const std::vector<int32_t>& ids) const;
  // The id of a piece by its exact text (e.g. "<turn|>"), or kNone.
  int32_t Find(std::string_view piece) const { return tok_.Find(piece); }

  int32_t Size() const { return tok_.VocabSize(); }
  int32_t bos_id() const { return tok_.Bos(); }
  int32_t eos_id() const { return tok_.Eos(); }
  const Tokenizer& tokenizer() const { return tok_; }

 private:
  Tokenizer tok_;
};

}  // namespace gemma
