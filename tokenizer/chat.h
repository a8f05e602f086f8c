// Gemma 4 chat prompts, without a Jinja engine (spec/tokenizer.md §4, spec/gemma4.md §6.4).
//
// Text-only conversations as Google's chat_template.jinja renders them (rules read from the
// "Published 2026-07-09" template, ollama's test fixtures gemma4_e2b/_31b_chat_template.jinja2):
//   <bos>
//   [<|turn>system\n [<|think|>\n] trim(first system/developer message) <turn|>\n]
//       -- when the first message is system/developer, or thinking is on
//   per message: <|turn>ROLE\n CONTENT <turn|>\n
//       ROLE: "model" for assistant, else the role itself; CONTENT: trim(text) for system/user,
//       strip_thinking(text) for the model (every <|channel>...<channel|> removed, trimmed);
//       consecutive assistant messages share one model turn (no <turn|>\n<|turn>model\n between);
//       reasoning on a message after the last user message: <|channel>thought\n R \n<channel|>
//   generation prompt: <|turn>model\n, and for 26B-A4B/31B with thinking off an empty thought
//       channel <|channel>thought\n<channel|> (the E2B/E4B template has none).
// Tools (declarations, calls, responses) are not rendered here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gemma {

struct ChatMessage {
  std::string role;       // system, developer, user, assistant (or model)
  std::string content;
  std::string reasoning;  // optional thinking text of an assistant message ("reasoning_content")
};

enum class ChatFlavor {
  kSmall,  // E2B / E4B template
  kLarge,  // 26B-A4B / 31B template: empty thought channel in the prompt when not thinking
};

struct ChatOptions {
  ChatFlavor flavor = ChatFlavor::kSmall;
  bool thinking = false;               // enable_thinking
  bool add_generation_prompt = true;
  std::string bos = "<bos>";           // the template's bos_token
};

struct RenderedChat {
  std::string text;
  // Where each message's own text (content, reasoning) landed in `text`: tokenize those ranges
  // without matching control tokens, so a user typing "<|turn>" cannot open a turn. The 7
  // user-defined markers (<|channel>, <|tool_call>, ...) are still matched there, as in any
  // text (see tokenizer.h); a caller that must keep them out of untrusted text has to escape it.
  std::vector<TextRange> message_text;
};

// Throws gemma::Error for an unsupported role (e.g. "tool").
RenderedChat RenderChat(std::span<const ChatMessage> messages, const ChatOptions& options);

// The prompt's ids: template text with control tokens parsed, message text without, exactly
// one <bos> at the start.
std::vector<int32_t> EncodeChat(const Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                                const ChatOptions& options);

// The template's strip_thinking: drops every "<|channel>...<channel|>", then trims.
std::string StripThinking(std::string_view text);
// The template's trim: leading/trailing whitespace (the characters Python's str.strip and
// JavaScript's String.trim both remove).
std::string_view TrimSpace(std::string_view text);

// The flavour a Jinja chat template implements: kLarge if its generation prompt writes the empty
// thought channel, kSmall for another Gemma 4 template, nullopt if it is not a Gemma 4 template.
std::optional<ChatFlavor> ChatFlavorFromTemplate(std::string_view jinja);
// From the model variant (ModelConfig::Variant(): "E2B", "E4B", "26B-A4B", "31B"); nullopt
// for anything else.
std::optional<ChatFlavor> ChatFlavorFromVariant(std::string_view variant);
// The template when it says, else the variant, else kSmall.
ChatFlavor ResolveChatFlavor(std::string_view chat_template, std::string_view variant);

// Ids that end generation: <turn|>, <eos> and <|tool_response>, found by text (106, 1, 50 in the
// real vocabulary), plus the metadata's eos id unless it is "</s>" (an HTML tag in Gemma's
// vocabulary, llama.cpp PR #21492). Sorted, without duplicates.
std::vector<int32_t> StopTokens(const Tokenizer& tokenizer);

}  // namespace gemma
