// Chat template rendering against tests/data/tokenizer/chat_cases.json. The expected strings come
// from spec/tokenizer.md §4 (rendered there from Google's templates with @huggingface/jinja) and
// from the template's rules; scripts/tokref/check_chat_cases.mjs re-renders all of them from the
// real template files when those are at hand.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/error.h"
#include "tokenizer/chat.h"
#include "tokenizer_test_util.h"

namespace gemma {
namespace {

using nlohmann::json;

struct ChatCase {
  std::string name, source, expected;
  std::vector<ChatMessage> messages;
  ChatOptions options;
};

std::vector<ChatCase> ChatCases() {
  const json cases = test::ReadJson(test::DataPath("tokenizer/chat_cases.json"));
  std::vector<ChatCase> out;
  for (const json& c : cases) {
    ChatCase cc;
    cc.name = c.at("name").get<std::string>();
    cc.source = c.at("source").get<std::string>();
    cc.expected = c.at("expected").get<std::string>();
    for (const json& m : c.at("messages")) {
      cc.messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>(),
                             m.value("reasoning", "")});
    }
    const std::string flavor = c.at("flavor").get<std::string>();
    REQUIRE((flavor == "small" || flavor == "large"));
    cc.options.flavor = flavor == "large" ? ChatFlavor::kLarge : ChatFlavor::kSmall;
    cc.options.thinking = c.at("thinking").get<bool>();
    cc.options.add_generation_prompt = c.value("add_generation_prompt", true);
    out.push_back(std::move(cc));
  }
  return out;
}

TEST_CASE("Chat rendering matches the Gemma 4 templates", "[chat]") {
  const std::vector<ChatCase> cases = ChatCases();
  REQUIRE(cases.size() >= 20);
  for (const ChatCase& c : cases) {
    INFO(c.name << " (" << c.source << ")");
    const RenderedChat r = RenderChat(c.messages, c.options);
    CHECK(r.text == c.expected);
    // The message ranges point at message text only, never at template markup.
    for (const TextRange& range : r.message_text) {
      const std::string_view part = std::string_view(r.text).substr(range.begin, range.end - range.begin);
      CHECK(part.find("<|turn>") == std::string_view::npos);
      CHECK(part.find("<turn|>") == std::string_view::npos);
    }
  }
}

TEST_CASE("Chat prompts tokenize like their rendered text", "[chat][real]") {
  // With no control-token look-alikes in the messages, protecting message text changes nothing.
  const Tokenizer& t = test::RealTokenizer();
  for (const ChatCase& c : ChatCases()) {
    INFO(c.name);
    const std::vector<int32_t> ids = EncodeChat(t, c.messages, c.options);
    CHECK(ids == t.Encode(c.expected, {.add_bos = true, .parse_special = true}));
    CHECK(ids.front() == t.Bos());
    CHECK(std::count(ids.begin(), ids.end(), t.Bos()) == 1);
    CHECK(t.Decode(ids, {.render_special = true}) == c.expected);
  }
}

TEST_CASE("strip_thinking and trim behave like the template's", "[chat]") {
  CHECK(StripThinking("a<|channel>x<channel|>b") == "ab");
  CHECK(StripThinking("<|channel>thought\n...\n<channel|>\n\nAnswer") == "Answer");
  CHECK(StripThinking("a<channel|>b") == "ab");  // a stray close tag vanishes
  CHECK(StripThinking("a<|channel>never closed") == "a");
  CHECK(StripThinking("  plain  ") == "plain");
  CHECK(TrimSpace(" \t\r\n\v\f x y \xC2\xA0\xE3\x80\x80") == "x y");
  CHECK(TrimSpace("\xE2\x80\xA8x\xE2\x80\x89") == "x");
  // Only one of Python's strip / JavaScript's trim removes these: kept.
  CHECK(TrimSpace("\xEF\xBB\xBFx") == "\xEF\xBB\xBFx");
  CHECK(TrimSpace("x\xC2\x85") == "x\xC2\x85");
  CHECK(TrimSpace("   ").empty());
  CHECK(TrimSpace("\xFF ") == "\xFF");
}

TEST_CASE("Chat rejects roles it cannot render", "[chat]") {
  const std::vector<ChatMessage> tool = {{"user", "Hi", ""}, {"tool", "42", ""}};
  CHECK_THROWS_AS(RenderChat(tool, {}), Error);
  const std::vector<ChatMessage> odd = {{"narrator\n", "x", ""}};
  try {
    RenderChat(odd, {});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("narrator\\n") != std::string::npos);
  }
}

TEST_CASE("Chat flavour from the template, else from the model variant", "[chat]") {
  // Generation-prompt blocks written the way Gemma 4 templates write them.
  const std::string large =
      "{{- bos_token -}}...{%- if add_generation_prompt -%}{{- '<|turn>model\\n' -}}"
      "{%- if not enable_thinking -%}{{- '<|channel>thought\\n<channel|>' -}}{%- endif -%}"
      "{%- endif -%}";
  const std::string small =
      "{{- bos_token -}}...{{- '<|channel>thought\\n' + thinking_text + '\\n<channel|>' -}}"
      "{%- if add_generation_prompt -%}{{- '<|turn>model\\n' -}}{%- endif -%}";
  CHECK(ChatFlavorFromTemplate(large) == ChatFlavor::kLarge);
  CHECK(ChatFlavorFromTemplate(small) == ChatFlavor::kSmall);
  CHECK(ChatFlavorFromTemplate("{{ bos_token }}<start_of_turn>user") == std::nullopt);
  CHECK(ChatFlavorFromTemplate("") == std::nullopt);
  CHECK(ChatFlavorFromVariant("E2B") == ChatFlavor::kSmall);
  CHECK(ChatFlavorFromVariant("E4B") == ChatFlavor::kSmall);
  CHECK(ChatFlavorFromVariant("26B-A4B") == ChatFlavor::kLarge);
  CHECK(ChatFlavorFromVariant("31B") == ChatFlavor::kLarge);
  CHECK(ChatFlavorFromVariant("custom") == std::nullopt);
  // The template wins over the variant; without either, the E-model flavour.
  CHECK(ResolveChatFlavor(small, "31B") == ChatFlavor::kSmall);
  CHECK(ResolveChatFlavor(large, "E2B") == ChatFlavor::kLarge);
  CHECK(ResolveChatFlavor("", "31B") == ChatFlavor::kLarge);
  CHECK(ResolveChatFlavor("", "custom") == ChatFlavor::kSmall);
}

}  // namespace
}  // namespace gemma
