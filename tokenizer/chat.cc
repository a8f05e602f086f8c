#include "tokenizer/chat.h"

#include <algorithm>

#include "runtime/error.h"
#include "tokenizer/utf8.h"

namespace gemma {

namespace {

// White_Space characters removed by both Python's str.strip (the official template under
// transformers) and JavaScript's String.trim (@huggingface/jinja). U+0085 and U+001C..U+001F
// (Python only) and U+FEFF (JavaScript only) are kept: there the two engines disagree.
bool IsTrimmed(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool IsRole(std::string_view r, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), r) != names.end();
}

// Appends text to the prompt and records its range as message text.
void AppendMessageText(RenderedChat& out, std::string_view text) {
  const size_t begin = out.text.size();
  out.text.append(text);
  if (!text.empty()) out.message_text.push_back({begin, out.text.size()});
}

}  // namespace

std::string_view TrimSpace(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    const utf8::Char c = utf8::Next(s, b);
    if (c.status != utf8::Status::kOk || !IsTrimmed(c.cp)) break;
    b += c.len;
  }
  size_t e = s.size();
  while (e > b) {
    // Step back to the start of the last character.
    size_t start = e - 1;
    while (start > b && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && e - start < 4) --start;
    const utf8::Char c = utf8::Next(s, start);
    if (c.status != utf8::Status::kOk || start + c.len != e || !IsTrimmed(c.cp)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

std::string StripThinking(std::string_view text) {
  // As the template: split at "<channel|>"; of a part containing "<|channel>" keep only what
  // precedes it. (A stray "<channel|>" therefore vanishes too.)
  constexpr std::string_view kOpen = "<|channel>", kClose = "<channel|>";
  std::string out;
  size_t p = 0;
  while (true) {
    const size_t close = text.find(kClose, p);
    const std::string_view part = text.substr(p, close == std::string_view::npos ? text.npos : close - p);
    const size_t open = part.find(kOpen);
    out.append(part.substr(0, open));
    if (close == std::string_view::npos) break;
    p = close + kClose.size();
  }
  return std::string(TrimSpace(out));
}

RenderedChat RenderChat(std::span<const ChatMessage> messages, const ChatOptions& options) {
  for (const ChatMessage& m : messages) {
    if (!IsRole(m.role, {"system", "developer", "user", "assistant", "model"})) {
      Fail("chat: role '{}' is not supported (expected system, developer, user or assistant; "
           "tool turns are not rendered)", utf8::Escape(m.role));
    }
  }
  RenderedChat out;
  out.text = options.bos;
  size_t first = 0;
  const bool system_first = !messages.empty() && IsRole(messages[0].role, {"system", "developer"});
  if (options.thinking || system_first) {
    out.text += "<|turn>system\n";
    if (options.thinking) out.text += "<|think|>\n";
    if (system_first) {
      AppendMessageText(out, TrimSpace(messages[0].content));
      first = 1;
    }
    out.text += "<turn|>\n";
  }

  std::span<const ChatMessage> loop = messages.subspan(first);
  size_t last_user = SIZE_MAX;
  for (size_t i = 0; i < loop.size(); ++i) {
    if (loop[i].role == "user") last_user = i;
  }
  std::string_view prev_role;
  for (size_t i = 0; i < loop.size(); ++i) {
    const ChatMessage& m = loop[i];
    const std::string_view role = m.role == "assistant" ? std::string_view("model") : m.role;
    // Only an "assistant" message continues the turn of an "assistant" before it.
    const bool continues = role == "model" && prev_role == "assistant";
    if (!continues) {
      out.text += "<|turn>";
      out.text += role;
      out.text += "\n";
    }
    if (!m.reasoning.empty() && (last_user == SIZE_MAX || i > last_user)) {
      out.text += "<|channel>thought\n";
      AppendMessageText(out, m.reasoning);
      out.text += "\n<channel|>";
    }
    AppendMessageText(out, role == "model" ? StripThinking(m.content) : std::string(TrimSpace(m.content)));
    const bool next_is_assistant = i + 1 < loop.size() && loop[i + 1].role == "assistant";
    if (!(role == "model" && next_is_assistant)) out.text += "<turn|>\n";
    prev_role = m.role;
  }

  if (options.add_generation_prompt) {
    out.text += "<|turn>model\n";
    if (options.flavor == ChatFlavor::kLarge && !options.thinking) {
      out.text += "<|channel>thought\n<channel|>";
    }
  }
  return out;
}

std::vector<int32_t> EncodeChat(const Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                                const ChatOptions& options) {
  const RenderedChat r = RenderChat(messages, options);
  return tokenizer.EncodeWithPlainRanges(r.text, /*add_bos=*/true, r.message_text);
}

std::optional<ChatFlavor> ChatFlavorFromTemplate(std::string_view jinja) {
  if (jinja.find("<|turn>") == std::string_view::npos) return std::nullopt;
  // The 26B/31B generation prompt: '<|channel>thought\n<channel|>' (an escaped "\n" in the
  // Jinja source; a literal newline is accepted too). The E2B/E4B template writes the thought
  // channel only around reasoning text, never empty.
  if (jinja.find("<|channel>thought\\n<channel|>") != std::string_view::npos ||
      jinja.find("<|channel>thought\n<channel|>") != std::string_view::npos) {
    return ChatFlavor::kLarge;
  }
  return ChatFlavor::kSmall;
}

std::optional<ChatFlavor> ChatFlavorFromVariant(std::string_view variant) {
  if (variant == "E2B" || variant == "E4B") return ChatFlavor::kSmall;
  if (variant == "26B-A4B" || variant == "31B") return ChatFlavor::kLarge;
  return std::nullopt;
}

ChatFlavor ResolveChatFlavor(std::string_view chat_template, std::string_view variant) {
  if (auto f = ChatFlavorFromTemplate(chat_template)) return *f;
  if (auto f = ChatFlavorFromVariant(variant)) return *f;
  return ChatFlavor::kSmall;
}

std::vector<int32_t> StopTokens(const Tokenizer& tokenizer) {
  std::vector<int32_t> ids;
  for (std::string_view t : {"<turn|>", "<eos>", "<|tool_response>"}) {
    const int32_t id = tokenizer.Find(t);
    if (id >= 0) ids.push_back(id);
  }
  const int32_t eos = tokenizer.Eos();
  if (eos >= 0 && tokenizer.Piece(eos) != "</s>") ids.push_back(eos);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace gemma
