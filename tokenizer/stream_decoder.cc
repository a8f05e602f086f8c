#include "tokenizer/stream_decoder.h"

#include "tokenizer/utf8.h"

namespace gemma {

std::string StreamDecoder::Push(int32_t id) {
  tokenizer_.AppendDecoded(id, options_, pending_);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const utf8::Char c = utf8::Next(pending_, i);
    if (c.status == utf8::Status::kIncomplete) break;  // wait for the next token
    if (c.status == utf8::Status::kOk) {
      out.append(pending_, i, c.len);
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += c.len;
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::Flush() {
  std::string out = pending_.empty() ? std::string() : std::string("\xEF\xBF\xBD");
  pending_.clear();
  return out;
}

}  // namespace gemma
