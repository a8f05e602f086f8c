// Fuzz entry point (d): chat prompts from arbitrary conversations, through both renderers
// (tokenizer/chat.h from text, runtime/chat_template.h to ids for the REPL). What a user types
// must stay text: the only control tokens in the prompt are the ones the template wrote.
#include <algorithm>
#include <string>
#include <vector>

#include "runtime/chat_template.h"
#include "runtime/error.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/vocabs.h"
#include "tokenizer/chat.h"

namespace gemma::fuzz {

namespace {

constexpr const char* kRoles[] = {"system", "developer", "user", "assistant", "model", "tool"};

// Field i of the NUL-separated input; a one-byte field below 6 names a role from kRoles.
std::vector<ChatMessage> ParseMessages(std::string_view s) {
  std::vector<std::string> fields;
  for (size_t p = 0; p <= s.size();) {
    size_t q = s.find('\0', p);
    if (q == std::string_view::npos) q = s.size();
    fields.emplace_back(s.substr(p, q - p));
    p = q + 1;
  }
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < fields.size(); i += 3) {
    ChatMessage m;
    m.role = fields[i];
    if (m.role.size() == 1 && static_cast<uint8_t>(m.role[0]) < 6) m.role = kRoles[static_cast<uint8_t>(m.role[0])];
    if (i + 1 < fields.size()) m.content = fields[i + 1];
    if (i + 2 < fields.size()) m.reasoning = fields[i + 2];
    messages.push_back(std::move(m));
  }
  return messages;
}

// Occurrences of `piece` in `text` that lie wholly outside the message ranges.
size_t TemplateCount(const RenderedChat& r, std::string_view piece) {
  size_t n = 0;
  for (size_t p = r.text.find(piece); p != std::string::npos; p = r.text.find(piece, p + 1)) {
    const bool inside = std::any_of(r.message_text.begin(), r.message_text.end(),
                                    [&](const TextRange& m) { return p < m.end && m.begin < p + piece.size(); });
    n += !inside;
  }
  return n;
}

void CheckRanges(const RenderedChat& r) {
  for (size_t i = 0; i < r.message_text.size(); ++i) {
    const TextRange& m = r.message_text[i];
    if (m.begin > m.end || m.end > r.text.size() || (i > 0 && m.begin < r.message_text[i - 1].end)) {
      Violate("message range {} [{}, {}) is not sorted, disjoint and inside {} bytes", i, m.begin,
              m.end, r.text.size());
    }
  }
}

// The REPL's renderer (runtime/chat_template.h), which builds ids directly: the markers appear
// exactly once per turn it opens and closes, whatever the message text says.
void CheckHistoryRenderer(const std::vector<ChatMessage>& messages, const ChatOptions& options) {
  std::vector<HistoryMessage> history;
  for (const ChatMessage& m : messages) history.push_back({m.role, m.content, {}});
  ChatTemplateOptions o;
  o.thinking = options.thinking;
  o.empty_thought_when_off = options.flavor == ChatFlavor::kLarge;
  const TextCodec& codec = SynthCodec();
  std::vector<int32_t> ids;
  try {
    ids = RenderHistory(codec, history, o, options.add_generation_prompt);
  } catch (const Error& e) {
    const std::string_view m = e.what();
    if (m.rfind("chat message ", 0) != 0 || m.find("unknown role") == std::string_view::npos) {
      Violate("unexpected rejection: {}", m);
    }
    return CheckRejection(m);
  }
  const ChatMarkers k = ChatMarkers::Find(codec);
  const bool system_turn = o.thinking || (!history.empty() && history[0].role == "system");
  const size_t turns = (system_turn ? 1 : 0) + history.size() -
                       (!history.empty() && history[0].role == "system" ? 1 : 0);
  auto count = [&](int32_t id) { return static_cast<size_t>(std::count(ids.begin(), ids.end(), id)); };
  const bool empty_thought = options.add_generation_prompt && !o.thinking && o.empty_thought_when_off;
  // (<|channel> and <channel|> are visible markers, matched in any text by design: the
  // empty thought channel is checked by position instead.)
  if (ids.empty() || ids[0] != k.bos || count(k.bos) != 1 ||
      count(k.turn_open) != turns + (options.add_generation_prompt ? 1 : 0) ||
      count(k.turn_close) != turns || count(k.think) != (o.thinking ? 1u : 0u) ||
      (empty_thought && ids.back() != k.channel_close)) {
    Violate("RenderHistory: markers do not match the {} turns rendered: {} ids", turns, ids.size());
  }
}

}  // namespace

void ChatTemplate(std::span<const uint8_t> data) {
  if (data.empty()) return;
  ChatOptions options;
  options.flavor = data[0] & 1 ? ChatFlavor::kLarge : ChatFlavor::kSmall;
  options.thinking = data[0] & 2;
  options.add_generation_prompt = data[0] & 4;
  if (data[0] & 8) options.bos = "";
  const std::vector<ChatMessage> messages =
      ParseMessages(std::string_view(reinterpret_cast<const char*>(data.data()) + 1, data.size() - 1));

  CheckHistoryRenderer(messages, options);

  RenderedChat r;
  try {
    r = RenderChat(messages, options);
  } catch (const Error& e) {
    const std::string_view m = e.what();
    if (m.rfind("chat: role '", 0) != 0) Violate("unexpected rejection: {}", m);
    return CheckRejection(m);
  }
  CheckRanges(r);

  const Tokenizer& tok = SynthTokenizer();
  const std::vector<int32_t> ids = EncodeChat(tok, messages, options);
  if (ids.empty() || ids[0] != tok.Bos()) Violate("the prompt does not start with <bos>");
  for (std::string_view piece : {"<bos>", "<|turn>", "<turn|>", "<|think|>", "<eos>", "<pad>"}) {
    const int32_t id = tok.Find(piece);
    const size_t got = std::count(ids.begin(), ids.end(), id);
    const size_t want = piece == "<bos>" ? 1 : TemplateCount(r, piece);
    if (got != want) {
      Violate("{} appears {} times in the ids, the template wrote it {} times; text {:?}", piece,
              got, want, r.text);
    }
  }
  // Nothing is lost: the ids spell the rendered text (with <bos> added if the template's was empty).
  const std::string decoded = tok.Decode(ids, {.render_special = true});
  const std::string expected = (options.bos.empty() ? "<bos>" : "") + SpaceMarksToSpaces(r.text);
  if (decoded != expected) Violate("prompt ids spell {:?}, expected {:?}", decoded, expected);
}

}  // namespace gemma::fuzz
