// Token-by-token decoding for printing while generating. A token may end in the middle of a
// UTF-8 character (byte pieces <0xF0><0x9F>... arrive one per token), so bytes are held back
// until the character is complete; printing a partial character would garble the terminal.
//
// Unlike Tokenizer::Decode, which returns the exact bytes, the output here is always valid
// UTF-8: every ill-formed sequence (its maximal subpart, the Unicode/WHATWG convention) becomes
// one U+FFFD, and Flush() turns a character the stream ended in the middle of into U+FFFD too.
// For ids whose bytes are valid UTF-8, the concatenated output equals Decode() exactly.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace gemma {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {})
      : tokenizer_(tokenizer), options_(options) {}

  // The text completed by this token (possibly empty). Throws gemma::Error on a bad id.
  std::string Push(int32_t id);
  // Whatever is still held back, as U+FFFD; the decoder is then empty and reusable.
  std::string Flush();
  // Bytes held back, waiting for the rest of a character (0..3).
  size_t Pending() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  DecodeOptions options_;
  std::string pending_;
};

}  // namespace gemma
