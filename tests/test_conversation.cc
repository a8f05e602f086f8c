// The chat pieces in-process: streaming text clean-up, the Gemma 4 template, and Chat's cache
// handling (reuse across turns, thinking dropped from the history and from the cache).
#include <catch2/catch.hpp>

#include "runtime/chat.h"
#include "runtime/model.h"
#include "runtime/text_stream.h"
#include "tokenizer/chat.h"
#include "test_util.h"

using namespace gemma;

namespace {

struct Fixture {
  Model model = Model::Load(test::SynthModel("tiny", "Q8_0"));
  TextCodec codec = TextCodec::FromGguf(model.file);
  Session session{model, {}};
  Sampler sampler{[] {
    SamplerParams p;
    p.temp = 0.0f;
    return p;
  }()};
};

// A scripted model: replies with `script` token by token, whatever the logits say.
GenerateOptions Scripted(const std::vector<int32_t>& script) {
  GenerateOptions g;
  auto at = std::make_shared<size_t>(0);
  g.choose = [script, at](std::span<const float>, std::span<const int32_t>) {
    const int32_t id = script[std::min(*at, script.size() - 1)];
    ++*at;
    return id;
  };
  return g;
}

std::vector<int32_t> Concat(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("UTF-8 holdback shows whole characters only and replaces ill-formed bytes", "[chat]") {
  Utf8Holdback h;
  CHECK(h.Push("a\xc3") == "a");  // é cut after its first byte
  CHECK(h.Push("\xa9z") == "\xc3\xa9z");
  CHECK(h.Push("\xf0\x9f") == "");
  CHECK(h.Push("\x98") == "");
  CHECK(h.Push("\x80!") == "\xf0\x9f\x98\x80!");
  CHECK(h.Push("\xff") == "\xef\xbf\xbd");        // never valid
  CHECK(h.Push("\xc3(") == "\xef\xbf\xbd(");      // a lead byte cut short
  CHECK(h.Push("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  CHECK(h.Push("\xe2\x82") == "");
  CHECK(h.Flush() == "\xef\xbf\xbd");  // the stream ended inside a character
  CHECK(h.Flush().empty());
}

TEST_CASE("stop strings are found across pieces and never shown", "[chat]") {
  StopMatcher m({"</end>", "STOP"});
  CHECK(m.Push("hello <") == "hello ");
  CHECK(m.Push("/en") == "");
  CHECK(m.Push("x") == "</enx");
  CHECK(m.Push(" ST") == " ");
  CHECK(m.Push("OP more") == "");
  CHECK(m.Stopped());
  CHECK(m.Push("ignored").empty());
  CHECK(m.Flush().empty());
  StopMatcher none({});
  CHECK(none.Push("a</") == "a</");
  StopMatcher tail({"xyz"});
  CHECK(tail.Push("abcx") == "abc");
  CHECK(tail.Flush() == "x");
}

TEST_CASE("the text codec round-trips text and knows the special tokens", "[chat]") {
  Fixture f;
  for (const std::string s : {"Hello world", "  two spaces\nand a newline", "caf\xc3\xa9 \xf0\x9f\x98\x80",
                              "<turn|> stays text", ""}) {
    const std::vector<int32_t> ids = f.codec.Encode(s);
    CHECK(f.codec.Decode(ids) == s);
    for (int32_t id : ids) CHECK(id != f.codec.Find("<turn|>"));
  }
  CHECK(f.codec.bos_id() == 2);
  CHECK(f.codec.Find("<|turn>") != TextCodec::kNone);
  CHECK(f.codec.Decode(f.codec.Find("<|turn>")).empty());            // control: not printed
  CHECK(f.codec.Decode(f.codec.Find("<|channel>")) == "<|channel>");  // visible marker
  // <turn|>, <eos> and <|tool_response> (tokenizer/chat.h StopTokens).
  const std::vector<int32_t> stops = EndOfTurnIds(f.codec);
  CHECK(stops.size() == 3);
  for (const char* s : {"<turn|>", "<eos>", "<|tool_response>"}) {
    CHECK(std::find(stops.begin(), stops.end(), f.codec.Find(s)) != stops.end());
  }
}

TEST_CASE("the chat template renders Gemma 4's turns", "[chat]") {
  Fixture f;
  const ChatMarkers m = ChatMarkers::Find(f.codec);
  auto enc = [&](const std::string& s) { return f.codec.Encode(s); };
  const std::vector<int32_t> nl = enc("\n");
  const std::vector<HistoryMessage> msgs = {{"system", " Be brief. ", {}},
                                         {"user", "Hi\n", {}},
                                         {"model", "Hello!", {}},
                                         {"user", "How are you?", {}}};
  const std::vector<int32_t> got = RenderHistory(f.codec, msgs, {}, true);
  const std::vector<int32_t> want = Concat({{m.bos, m.turn_open}, enc("system\n"), enc("Be brief."),
                                            {m.turn_close}, nl, {m.turn_open}, enc("user\n"), enc("Hi"),
                                            {m.turn_close}, nl, {m.turn_open}, enc("model\n"), enc("Hello!"),
                                            {m.turn_close}, nl, {m.turn_open}, enc("user\n"),
                                            enc("How are you?"), {m.turn_close}, nl, {m.turn_open},
                                            enc("model\n")});
  CHECK(got == want);
  // Thinking on: a system turn opening with <|think|>, even without a system prompt.
  ChatTemplateOptions think;
  think.thinking = true;
  const std::vector<HistoryMessage> user = {{"user", "Hi", {}}};
  CHECK(RenderHistory(f.codec, user, think, true) ==
        Concat({{m.bos, m.turn_open}, enc("system\n"), {m.think}, nl, {m.turn_close}, nl,
                {m.turn_open}, enc("user\n"), enc("Hi"), {m.turn_close}, nl, {m.turn_open},
                enc("model\n")}));
  // 26B/31B without thinking: the empty thought channel after the generation prompt.
  ChatTemplateOptions big;
  big.empty_thought_when_off = true;
  const std::vector<int32_t> b = RenderHistory(f.codec, user, big, true);
  CHECK(b == Concat({RenderHistory(f.codec, user, {}, true), {m.channel_open}, enc("thought\n"),
                     {m.channel_close}}));
  CHECK(!EmptyThoughtWhenOff(f.codec, "E2B"));
  CHECK(EmptyThoughtWhenOff(f.codec, "31B"));  // the synthetic file has no template of its own
  const std::vector<HistoryMessage> bad = {{"robot", "x", {}}};
  CHECK_THROWS_WITH(RenderHistory(f.codec, bad, {}, true), Catch::Contains("unknown role"));
}

TEST_CASE("the token-level history renders what tokenizer/chat.h's template encodes", "[chat]") {
  Fixture f;
  const std::vector<std::vector<HistoryMessage>> conversations = {
      {{"user", "Hi", {}}},
      {{"system", "  You are helpful.\n", {}}, {"user", "Hello there, friend", {}},
       {"model", "Hello! How can I help?", {}}, {"user", "Tell me\n\na story <turn|>", {}}},
      {{"user", "caf\xc3\xa9 \xf0\x9f\x98\x80 <|turn>", {}}, {"model", "  spaced  ", {}},
       {"user", "x", {}}},
  };
  for (const auto& conv : conversations) {
    for (bool thinking : {false, true}) {
      for (bool large : {false, true}) {
        for (bool gen : {false, true}) {
          ChatTemplateOptions mine;
          mine.thinking = thinking;
          mine.empty_thought_when_off = large;
          std::vector<ChatMessage> theirs;
          for (const HistoryMessage& m : conv) theirs.push_back({m.role, m.content, {}});
          ChatOptions o;
          o.thinking = thinking;
          o.flavor = large ? ChatFlavor::kLarge : ChatFlavor::kSmall;
          o.add_generation_prompt = gen;
          INFO("messages " << conv.size() << " thinking " << thinking << " large " << large
                           << " generation prompt " << gen);
          CHECK(RenderHistory(f.codec, conv, mine, gen) == EncodeChat(f.codec.tokenizer(), theirs, o));
        }
      }
    }
  }
}

TEST_CASE("a turn evaluates only what the cache lacks; the cache holds the rendered history", "[chat]") {
  Fixture f;
  Chat chat(f.session, f.codec, f.sampler);
  GenerateOptions g;
  g.max_tokens = 10;
  TurnStats s1, s2, s3;
  chat.Send("First message, with some words in it", g, nullptr, &s1);
  CHECK(s1.reused == 0);
  CHECK(s1.evaluated == s1.prompt_tokens);
  chat.Send("Second", g, nullptr, &s2);
  // Everything of turn one except the reply's last (never evaluated) token was reused.
  CHECK(s2.reused >= s1.context_used);
  CHECK(s2.evaluated == s2.prompt_tokens - s2.reused);
  // The cache is exactly the conversation as rendered, plus the reply being generated.
  const std::vector<int32_t> history = chat.Render(false);
  const std::vector<int32_t>& cache = f.session.Tokens();
  REQUIRE(cache.size() >= history.size() - 3);
  // Regenerating re-evaluates one token.
  chat.Regenerate(g, nullptr, &s3);
  CHECK(s3.evaluated == 1);
  CHECK(chat.Messages().size() == 4);
  // Clear keeps nothing of the conversation but the cache prefix (<bos>...) is reused.
  chat.Clear();
  TurnStats s4;
  chat.Send("Hi", g, nullptr, &s4);
  CHECK(s4.reused >= 1);
  CHECK(chat.Messages().size() == 2);
}

TEST_CASE("thinking is shown apart and dropped from the history and the cache", "[chat]") {
  Fixture f;
  const ChatMarkers m = ChatMarkers::Find(f.codec);
  Chat chat(f.session, f.codec, f.sampler);
  chat.SetThinking(true);
  const std::vector<int32_t> thought = f.codec.Encode("let me think");
  const std::vector<int32_t> answer = f.codec.Encode("The answer");
  const std::vector<int32_t> script =
      Concat({{m.channel_open}, f.codec.Encode("thought\n"), thought, {m.channel_close}, answer,
              {m.turn_close}});
  std::string shown_thought, shown_answer;
  TurnStats s1;
  const GenerateResult r = chat.Send("Question?", Scripted(script), [&](TextKind k, std::string_view t) {
    (k == TextKind::kThinking ? shown_thought : shown_answer) += t;
  }, &s1);
  CHECK(r.reason == StopReason::kEndOfTurn);
  CHECK(shown_thought == "let me think");
  CHECK(shown_answer == "The answer");
  CHECK(r.thinking == "let me think");
  CHECK(r.answer_tokens == answer);
  REQUIRE(chat.Messages().size() == 2);
  CHECK(chat.Messages()[1].content == "The answer");
  CHECK(chat.Messages()[1].tokens == answer);

  // The cache held the thought; the next turn replaces the reply by its history form: it
  // rewinds to where the reply started, and afterwards the cache is the rendered history.
  const int64_t reply_start = s1.prompt_tokens;
  GenerateOptions g = Scripted({m.turn_close});
  TurnStats s2;
  chat.Send("Next", g, nullptr, &s2);
  CHECK(s2.reused == reply_start);
  const std::vector<int32_t> rendered = chat.Render(false);
  // History now: ... <|turn>model\nThe answer<turn|>\n<|turn>user\nNext<turn|>\n... with an
  // empty second reply; the cache holds the prompt of that reply.
  const std::vector<int32_t> prompt2 = RenderHistory(f.codec, WithSystem("", {chat.Messages()[0], chat.Messages()[1], chat.Messages()[2]}),
                                                  [] { ChatTemplateOptions o; o.thinking = true; return o; }(), true);
  CHECK(f.session.Tokens() == prompt2);
  CHECK(std::search(f.session.Tokens().begin(), f.session.Tokens().end(), thought.begin(), thought.end()) ==
        f.session.Tokens().end());
  CHECK(rendered.size() > prompt2.size());
}

TEST_CASE("conversations save to JSON and load back; bad files get one clear error", "[chat]") {
  Fixture f;
  Chat chat(f.session, f.codec, f.sampler);
  chat.SetSystem("  Sys  ");
  chat.FromJson(R"({"system":"S","thinking":true,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]})");
  CHECK(chat.System() == "S");
  CHECK(chat.Thinking());
  REQUIRE(chat.Messages().size() == 2);
  CHECK(chat.Messages()[1].role == "model");
  Chat other(f.session, f.codec, f.sampler);
  other.FromJson(chat.ToJson());
  CHECK(other.ToJson() == chat.ToJson());
  // A bare list with a leading system message works too.
  other.FromJson(R"([{"role":"system","content":"X"},{"role":"user","content":"y"}])");
  CHECK(other.System() == "X");
  CHECK(other.Messages().size() == 1);
  CHECK_THROWS_WITH(other.FromJson("{"), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(other.FromJson(R"({"messages":[{"role":"user"}]})"), Catch::Contains("message 0"));
  CHECK_THROWS_WITH(other.FromJson(R"({"messages":[{"role":"bot","content":"x"}]})"),
                    Catch::Contains("unknown role"));
  CHECK(other.Messages().size() == 1);  // unchanged by the failed loads
  // Regenerating with nothing to answer is an error, not a crash.
  Chat empty(f.session, f.codec, f.sampler);
  CHECK_THROWS_WITH(empty.Regenerate({}, nullptr), Catch::Contains("nothing to regenerate"));
}

TEST_CASE("a message that does not fit leaves the conversation as it was", "[chat]") {
  Fixture f;
  SessionOptions small;
  small.n_ctx = 24;
  Session session(f.model, small);
  Chat chat(session, f.codec, f.sampler);
  GenerateOptions g;
  g.max_tokens = 2;
  chat.Send("Hi", g, nullptr);
  REQUIRE(chat.Messages().size() == 2);
  CHECK_THROWS_WITH(chat.Send("a message far too long for a context of twenty-four tokens", g, nullptr),
                    Catch::StartsWith("context full"));
  CHECK(chat.Messages().size() == 2);
  // Generation that runs into the end of the context stops cleanly.
  g.max_tokens = -1;
  g.ignore_eos = true;
  chat.Clear();
  TurnStats st;
  const GenerateResult r = chat.Send("Hi", g, nullptr, &st);
  CHECK(r.reason == StopReason::kContextFull);
  CHECK(st.context_used == 24);
}
