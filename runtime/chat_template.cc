#include "runtime/chat_template.h"

#include "runtime/error.h"
#include "runtime/printable.h"
#include "tokenizer/chat.h"

namespace gemma {

namespace {

int32_t Need(const TextCodec& codec, std::string_view piece) {
  const int32_t id = codec.Find(piece);
  if (id == TextCodec::kNone) {
    Fail("the model's vocabulary has no {} token, so it is not a Gemma 4 chat model (use --raw "
         "for plain completion)",
         piece);
  }
  return id;
}

void Append(std::vector<int32_t>& out, const std::vector<int32_t>& ids) {
  out.insert(out.end(), ids.begin(), ids.end());
}

}  // namespace

ChatMarkers ChatMarkers::Find(const TextCodec& codec) {
  ChatMarkers m;
  m.bos = codec.bos_id() != TextCodec::kNone ? codec.bos_id() : Need(codec, "<bos>");
  m.turn_open = Need(codec, "<|turn>");
  m.turn_close = Need(codec, "<turn|>");
  m.think = Need(codec, "<|think|>");
  m.channel_open = Need(codec, "<|channel>");
  m.channel_close = Need(codec, "<channel|>");
  return m;
}

bool EmptyThoughtWhenOff(const TextCodec& codec, const std::string& variant) {
  return ResolveChatFlavor(codec.tokenizer().ChatTemplate(), variant) == ChatFlavor::kLarge;
}

std::string Trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

std::vector<int32_t> RenderHistory(const TextCodec& codec, std::span<const HistoryMessage> messages,
                                const ChatTemplateOptions& options, bool add_generation_prompt) {
  const ChatMarkers m = ChatMarkers::Find(codec);
  const std::vector<int32_t> newline = codec.Encode("\n");
  std::vector<int32_t> out = {m.bos};
  auto open = [&](std::string_view role) {
    out.push_back(m.turn_open);
    Append(out, codec.Encode(std::string(role) + "\n"));
  };
  auto close = [&] {
    out.push_back(m.turn_close);
    Append(out, newline);
  };

  size_t first = 0;
  const bool has_system = !messages.empty() && messages[0].role == "system";
  if (has_system || options.thinking) {
    open("system");
    if (options.thinking) {
      out.push_back(m.think);
      Append(out, newline);
    }
    if (has_system) Append(out, codec.Encode(Trim(messages[0].content)));
    close();
    first = has_system ? 1 : 0;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const HistoryMessage& msg = messages[i];
    const bool model = msg.role == "model" || msg.role == "assistant";
    if (!model && msg.role != "user" && msg.role != "system") {
      Fail("chat message {}: unknown role '{}' (expected system, user or model)", i,
           Printable(msg.role));
    }
    open(model ? "model" : msg.role);
    if (model && !msg.tokens.empty()) Append(out, msg.tokens);
    else Append(out, codec.Encode(Trim(msg.content)));
    close();
  }
  if (add_generation_prompt) {
    open("model");
    if (!options.thinking && options.empty_thought_when_off) {
      out.push_back(m.channel_open);
      Append(out, codec.Encode("thought\n"));
      out.push_back(m.channel_close);
    }
  }
  return out;
}

}  // namespace gemma
