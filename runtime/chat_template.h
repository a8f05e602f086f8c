// Gemma 4's chat format rendered straight to token ids (spec/tokenizer.md §4):
//
//   <bos>[<|turn>system\n[<|think|>\n]SYSTEM<turn|>\n]
//   <|turn>user\nTEXT<turn|>\n<|turn>model\nREPLY<turn|>\n ... <|turn>model\n
//
// Markers are emitted as their special ids and message text is encoded with special tokens
// off, so a user typing "<turn|>" cannot end a turn. Replies in the history carry no thinking
// (the template's strip_thinking); the 26B/31B generation prompt with thinking off gets the
// empty thought channel those models were trained with.
//
// tokenizer/chat.h renders the same template from text (EncodeChat); this renders token ids so
// that replies can keep the ids they were generated as, which is what lets a new turn reuse the
// cached reply (tests/test_conversation.cc checks both agree on re-encodable conversations).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/text_codec.h"

namespace gemma {

struct HistoryMessage {
  std::string role;     // "system", "user" or "model" ("assistant" is accepted for model)
  std::string content;  // trimmed text; model text without its thinking
  // The content's ids as generated, when they decode to exactly `content`: rendering them
  // instead of re-encoding keeps the cache's copy of a reply reusable token for token.
  std::vector<int32_t> tokens;
};

struct ChatTemplateOptions {
  bool thinking = false;                 // <|think|> in the system turn
  bool empty_thought_when_off = false;   // 26B/31B generation prompt without thinking
};

// The special ids the format uses, looked up by text; throws gemma::Error naming the missing
// marker when the vocabulary is not a Gemma 4 chat vocabulary (use raw completion then).
struct ChatMarkers {
  int32_t bos, turn_open, turn_close, think, channel_open, channel_close;
  static ChatMarkers Find(const TextCodec& codec);
};

// Whether the model expects the empty thought channel: what its GGUF chat template does, else
// what its variant's template does (tokenizer/chat.h ResolveChatFlavor).
bool EmptyThoughtWhenOff(const TextCodec& codec, const std::string& variant);

std::vector<int32_t> RenderHistory(const TextCodec& codec, std::span<const HistoryMessage> messages,
                                const ChatTemplateOptions& options, bool add_generation_prompt);

// Whitespace trimmed at both ends (the template trims message text).
std::string Trim(std::string_view s);

}  // namespace gemma
