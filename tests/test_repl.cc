// The interactive chat, driven on a pseudo-terminal like a user would: turns that reuse the KV
// cache, /clear, /regen, Ctrl-C during a reply and at the prompt, Ctrl-D, multi-line input,
// /save and /load; and the terminal's settings are the same after exit as before.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "process.h"
#include "test_util.h"

using namespace gemma;
using test::Pty;

namespace {

const std::string& ModelPath() {
  static const std::string path = test::SynthModel("tiny", "Q8_0");
  return path;
}

std::vector<std::string> Args(std::vector<std::string> extra) {
  std::vector<std::string> a = {"-m", ModelPath(), "-t", "1", "--color", "off", "-s", "1"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Waits for the prompt and for the line editor to be reading.
bool Prompt(Pty& p) { return p.Expect(">>> ") && p.WaitForLineEditor(); }

struct TurnCounts {
  long prompt = -1, evaluated = -1, reused = -1, generated = -1, context = -1;
};

// Reads the numbers /stats prints.
TurnCounts Stats(Pty& p) {
  p.Send("/stats\r");
  TurnCounts c;
  REQUIRE(p.Expect("session:"));
  const std::string out = p.Output();
  const size_t at = out.rfind("last reply:");
  REQUIRE(at != std::string::npos);
  std::smatch m;
  const std::string tail = out.substr(at);
  REQUIRE(std::regex_search(tail, m, std::regex(R"(prompt (\d+) tokens \(evaluated (\d+), reused (\d+)\).*generated (\d+),[^\n]*\n[^\n]*context: (\d+) of)")));
  c.prompt = std::stol(m[1]);
  c.evaluated = std::stol(m[2]);
  c.reused = std::stol(m[3]);
  c.generated = std::stol(m[4]);
  c.context = std::stol(m[5]);
  return c;
}

nlohmann::json Saved(Pty& p, const std::string& name) {
  const std::string file = test::ScratchPath(name);
  p.Send("/save " + file + "\r");
  REQUIRE(p.Expect("(saved"));
  std::ifstream in(file);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

void ExitWithCtrlD(Pty& p) {
  REQUIRE(Prompt(p));
  p.Send("\x04");
  CHECK(p.Wait() == 0);
  CHECK(test::SameTerminalSettings(p.Current(), p.Initial()));
}

}  // namespace

TEST_CASE("repl: a second turn evaluates only its new tokens", "[cli][repl]") {
  Pty p(Args({"-n", "12", "--temp", "0"}));
  REQUIRE(Prompt(p));
  p.Send("Hello there, this is the first message of our conversation, a long one\r");
  REQUIRE(Prompt(p));
  const TurnCounts t1 = Stats(p);
  CHECK(t1.reused == 0);
  CHECK(t1.evaluated == t1.prompt);
  CHECK(t1.generated == 12);
  REQUIRE(Prompt(p));
  p.Send("ok\r");
  REQUIRE(Prompt(p));
  const TurnCounts t2 = Stats(p);
  // The whole first turn (prompt and the reply's evaluated tokens) came from the cache; only
  // the end of the reply, the new user turn and the generation prompt were evaluated.
  CHECK(t2.reused >= t1.context - 1);
  CHECK(t2.evaluated == t2.prompt - t2.reused);
  CHECK(t2.evaluated < 24);  // "<turn|>\n<|turn>user\nok<turn|>\n<|turn>model\n" and the like
  CHECK(t2.evaluated < t1.evaluated);
  ExitWithCtrlD(p);
}

TEST_CASE("repl: /regen re-answers from the cached prompt; /clear starts over", "[cli][repl]") {
  Pty p(Args({"-n", "8"}));
  REQUIRE(Prompt(p));
  p.Send("Tell me something about the weather today please\r");
  REQUIRE(Prompt(p));
  const TurnCounts first = Stats(p);
  REQUIRE(Prompt(p));
  p.Send("/regen\r");
  REQUIRE(Prompt(p));
  const TurnCounts regen = Stats(p);
  CHECK(regen.prompt == first.prompt);  // the same conversation up to the reply
  CHECK(regen.evaluated == 1);          // only the last prompt token, for its logits
  const nlohmann::json saved = Saved(p, "regen.json");
  REQUIRE(saved["messages"].size() == 2);  // the old reply was replaced, not added to
  CHECK(saved["messages"][0]["role"] == "user");
  CHECK(saved["messages"][1]["role"] == "model");

  REQUIRE(Prompt(p));
  p.Send("/clear\r");
  REQUIRE(p.Expect("(new conversation)"));
  REQUIRE(Prompt(p));
  CHECK(Saved(p, "cleared.json")["messages"].empty());
  REQUIRE(Prompt(p));
  p.Send("Hi\r");
  REQUIRE(Prompt(p));
  const TurnCounts after = Stats(p);
  CHECK(after.prompt < first.prompt);    // the old conversation is gone
  CHECK(after.context < first.context + 8);
  ExitWithCtrlD(p);
}

TEST_CASE("repl: Ctrl-C stops a reply, then Ctrl-C at the prompt exits 130", "[cli][repl]") {
  Pty p(Args({"--ignore-eos", "-n", "-1", "-c", "16384"}));
  REQUIRE(Prompt(p));
  p.Send("Talk forever\r");
  REQUIRE(p.Expect("Talk forever"));
  REQUIRE(p.Expect("\n"));
  // Let the reply start showing (a Ctrl-C during the prompt would drop the whole turn).
  for (int i = 0; i < 20000 && p.Rest().empty(); ++i) {
  }
  REQUIRE(!p.Rest().empty());
  p.Send("\x03");
  REQUIRE(p.Expect("[stopped]"));
  REQUIRE(Prompt(p));
  // The stopped reply is kept in the conversation.
  const nlohmann::json saved = Saved(p, "stopped.json");
  CHECK(saved["messages"].size() == 2);
  REQUIRE(Prompt(p));
  p.Send("\x03");
  CHECK(p.Expect("Ctrl-C again"));
  p.Send("\x03");
  CHECK(p.Wait() == 130);
  CHECK(test::SameTerminalSettings(p.Current(), p.Initial()));
}

TEST_CASE("repl: one Ctrl-C at the prompt does not exit; typing resets it", "[cli][repl]") {
  Pty p(Args({"-n", "4"}));
  REQUIRE(Prompt(p));
  p.Send("half a line");
  p.Send("\x03");
  REQUIRE(p.Expect("Ctrl-C again"));
  REQUIRE(Prompt(p));
  p.Send("/help\r");
  REQUIRE(p.Expect("/regen"));
  REQUIRE(Prompt(p));
  p.Send("\x03");
  REQUIRE(p.Expect("Ctrl-C again"));
  REQUIRE(Prompt(p));
  p.Send("/exit\r");
  CHECK(p.Wait() == 0);
  CHECK(test::SameTerminalSettings(p.Current(), p.Initial()));
}

TEST_CASE("repl: multi-line input with \"\"\" blocks and trailing backslashes", "[cli][repl]") {
  Pty p(Args({"-n", "2"}));
  REQUIRE(Prompt(p));
  p.Send("\"\"\"\r");
  REQUIRE(p.Expect("... "));
  p.Send("first line\r");
  REQUIRE(p.Expect("... "));
  p.Send("second line\"\"\"\r");
  REQUIRE(Prompt(p));
  p.Send("one \\\r");
  REQUIRE(p.Expect("... "));
  p.Send("two\r");
  REQUIRE(Prompt(p));
  const nlohmann::json saved = Saved(p, "multiline.json");
  REQUIRE(saved["messages"].size() >= 3);
  CHECK(saved["messages"][0]["content"] == "first line\nsecond line");
  const auto& m = saved["messages"];
  CHECK(m[m.size() - 2]["content"] == "one \ntwo");
  ExitWithCtrlD(p);
}

TEST_CASE("repl: /system, /think, /set and /save -> /load round trip", "[cli][repl]") {
  const std::string file = test::ScratchPath("conv.json");
  {
    Pty p(Args({"-n", "3"}));
    REQUIRE(Prompt(p));
    p.Send("/system You are terse.\r");
    REQUIRE(p.Expect("(system prompt set)"));
    p.Send("/think on\r");
    REQUIRE(p.Expect("(thinking on)"));
    p.Send("/set temp 0.5\r");
    REQUIRE(p.Expect("(temp = 0.5)"));
    p.Send("/set\r");
    REQUIRE(p.Expect("temp 0.5 "));
    p.Send("/set top-p 7\r");
    REQUIRE(p.Expect("--top-p must be in [0, 1]"));
    p.Send("/set bogus 1\r");
    REQUIRE(p.Expect("unknown setting"));
    p.Send("/nonsense\r");
    REQUIRE(p.Expect("unknown command"));
    p.Send("What is up?\r");
    REQUIRE(Prompt(p));
    p.Send("/save " + file + "\r");
    REQUIRE(p.Expect("(saved 2 messages"));
    p.Send("/load /nonexistent.json\r");
    REQUIRE(p.Expect("cannot open"));
    ExitWithCtrlD(p);
  }
  std::ifstream in(file);
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["system"] == "You are terse.");
  CHECK(j["thinking"] == true);
  REQUIRE(j["messages"].size() == 2);
  CHECK(j["messages"][0]["content"] == "What is up?");

  Pty p(Args({"-n", "3"}));
  REQUIRE(Prompt(p));
  p.Send("/load " + file + "\r");
  REQUIRE(p.Expect("(loaded 2 messages"));
  p.Send("/system\r");
  REQUIRE(p.Expect("You are terse."));
  p.Send("And then?\r");
  REQUIRE(Prompt(p));
  const nlohmann::json after = Saved(p, "conv2.json");
  CHECK(after["messages"].size() == 4);
  CHECK(after["thinking"] == true);
  ExitWithCtrlD(p);
}

TEST_CASE("repl: a full context says so and offers /clear", "[cli][repl]") {
  Pty p(Args({"-c", "48", "--ignore-eos"}));
  REQUIRE(Prompt(p));
  p.Send("Hello\r");
  REQUIRE(p.Expect("context full"));
  REQUIRE(p.Expect("/clear"));
  REQUIRE(Prompt(p));
  p.Send("This next message cannot fit into what is left of the context at all\r");
  REQUIRE(p.Expect("context full"));
  REQUIRE(Prompt(p));
  p.Send("/clear\r");
  REQUIRE(Prompt(p));
  p.Send("/set n 2\r");
  REQUIRE(Prompt(p));
  p.Send("Hi\r");
  ExitWithCtrlD(p);
}
