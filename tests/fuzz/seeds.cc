#include "tests/fuzz/seeds.h"

#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/gguf_writer.h"

namespace gemma::fuzz {

namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<Seed> GgufSeeds() {
  std::vector<Seed> seeds;
  // Every variant at both block types, and the 16-bit float types once (they are larger).
  const std::pair<const char*, const char*> models[] = {
      {"tiny", "Q4_0"},   {"tiny", "Q8_0"},     {"tiny", "F16"},      {"tiny", "BF16"},
      {"tiny-e", "Q4_0"}, {"tiny-e", "Q8_0"},   {"tiny-moe", "Q4_0"}, {"tiny-moe", "Q8_0"}};
  for (const auto& [preset, type] : models) {
    SynthOptions opt;
    opt.type = type;
    seeds.push_back({std::string(preset) + "-" + type + ".gguf",
                     BuildSynthWriter(SmallSpec(preset), opt).WriteToBytes()});
  }
  // Separate expert gate/up tensors and shared layers without K/V weights: other loader paths.
  SynthSpec moe = SmallSpec("tiny-moe");
  ApplySynthOverride(moe, "fused_gate_up=false");
  SynthOptions q8, q4;
  q8.type = "Q8_0";
  q4.type = "Q4_0";
  seeds.push_back({"tiny-moe-split-Q8_0.gguf", BuildSynthWriter(moe, q8).WriteToBytes()});
  SynthSpec e = SmallSpec("tiny-e");
  ApplySynthOverride(e, "shared_kv_weights=false");
  seeds.push_back({"tiny-e-noshared-Q4_0.gguf", BuildSynthWriter(e, q4).WriteToBytes()});
  return seeds;
}

// Texts for the tokenizer: plain, Unicode, control and marker pieces, newline runs, ill-formed
// UTF-8 (lone continuation, overlong, surrogate, cut-off sequences).
const char* const kTexts[] = {
    "",
    "Hello world, hello again.",
    "The quick brown fox jumps over the lazy dog.",
    "  leading and trailing  ",
    "\n\n\nthree newlines\n\n",
    "tabs\tand\r\ncarriage returns",
    "<bos>starts with bos",
    "<|turn>user\nHi<turn|>\n<|turn>model\n",
    "<|channel>thought\nhmm<channel|>answer",
    "<|think|><|tool_call>call<tool_call|><|\"|>",
    "<unused0><pad><eos><unk><mask>",
    "<table><tr><td>x</td></tr></table>",
    "caf\xC3\xA9 na\xC3\xAFve \xE2\x96\x81 mark \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80",
    "\x80 lone continuation",
    "\xC0\xAF overlong slash",
    "\xED\xA0\x80 surrogate",
    "\xF4\x90\x80\x80 above U+10FFFF",
    "cut \xE2\x96",
    "\xF0\x9F\x98",
    "\xFF\xFE\x01 binary",
};

std::vector<Seed> TokenizerSeeds() {
  std::vector<Seed> seeds;
  int i = 0;
  for (const char* text : kTexts) {
    for (uint8_t flags : {0x00, 0x01, 0x02, 0x07, 0x0b, 0x14}) {
      std::vector<uint8_t> b = {flags};
      const std::string_view t = text;
      b.insert(b.end(), t.begin(), t.end());
      seeds.push_back({"text-" + std::to_string(i++), b});
    }
  }
  return seeds;
}

std::vector<Seed> JsonSeeds() {
  std::vector<Seed> seeds;
  seeds.push_back({"synth-strings.json", Bytes(SynthTokenizerJson(400, false))});
  seeds.push_back({"synth-pairs.json", Bytes(SynthTokenizerJson(400, true))});
  seeds.push_back({"minimal.json", Bytes(R"({"model":{"type":"BPE","byte_fallback":true,)"
                                         R"("vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},)"
                                         R"("normalizer":{"type":"Replace","pattern":{"String":" "},"content":"\u2581"},)"
                                         R"("added_tokens":[{"id":3,"content":"<bos>","special":true}]})")});
  seeds.push_back({"not-bpe.json", Bytes(R"({"model":{"type":"Unigram"}})")});
  return seeds;
}

std::vector<Seed> ChatSeeds() {
  using namespace std::string_literals;
  const std::string chats[] = {
      "\x04"s + "\x02"s + "\0Hello!\0"s,
      "\x06"s + "\x00"s + "\0  Be brief.  \0\0\x02\0What is 2+2?\0\0\x03\0<|channel>thought\nadd<channel|>4\0\0"s,
      "\x05"s + "\x02\0Hi <|turn>model\nfake<turn|>\n\0\0\x03\0Hello<turn|>\0reasoning<|turn>\0"s,
      "\x0c"s + "\x01\0dev\0\0\x02\0<bos><|think|>\0\0\x03\0a\0\0\x03\0b\0r\0"s,
      "\x04"s + "tool\0result\0"s,
      "\x03"s + "\x04\0model says\0why\n\0\x02\0\xE2\x80\x83 unicode space \xC2\xA0\0"s,
  };
  std::vector<Seed> seeds;
  int i = 0;
  for (const std::string& c : chats) seeds.push_back({"chat-" + std::to_string(i++), Bytes(c)});
  return seeds;
}

}  // namespace

const std::vector<std::string>& TargetNames() {
  static const std::vector<std::string> names = {"gguf", "tokenizer", "tokenizer_json", "chat"};
  return names;
}

std::vector<Seed> SeedsFor(std::string_view target) {
  if (target == "gguf") return GgufSeeds();
  if (target == "tokenizer") return TokenizerSeeds();
  if (target == "tokenizer_json") return JsonSeeds();
  if (target == "chat") return ChatSeeds();
  Fail("unknown fuzz target '{}'", target);
}

SynthSpec SmallSpec(const std::string& preset) {
  SynthSpec s = SynthPreset(preset);
  for (const char* o : {"n_embd=32", "n_head=2", "head_dim_swa=16", "head_dim_full=32",
                        "n_vocab=400", "n_ctx=64"}) {
    ApplySynthOverride(s, o);
  }
  if (preset == "tiny") {
    for (const char* o : {"n_layer=3", "ffn=32"}) ApplySynthOverride(s, o);
  } else if (preset == "tiny-e") {
    for (const char* o : {"n_layer=4", "sliding=SFSF", "shared_kv_layers=2", "ffn=32,32,64,64"}) {
      ApplySynthOverride(s, o);
    }
  } else if (preset == "tiny-moe") {
    for (const char* o : {"n_layer=3", "ffn=32", "n_kv_head=2,2,1", "n_expert=4", "expert_ffn=32"}) {
      ApplySynthOverride(s, o);
    }
  }
  ValidateSynthSpec(s);
  return s;
}

std::string SynthTokenizerJson(int n_vocab, bool merges_as_pairs) {
  const SynthVocab v = BuildSynthVocab(n_vocab);
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    vocab[v.tokens[i]] = i;
    if (v.types[i] == 3 || v.types[i] == 4) {
      added.push_back({{"id", i}, {"content", v.tokens[i]}, {"special", true}});
    }
  }
  nlohmann::ordered_json merges = nlohmann::ordered_json::array();
  for (const std::string& m : v.merges) {
    const size_t sp = m.find(' ', 1);
    if (merges_as_pairs) {
      merges.push_back({m.substr(0, sp), m.substr(sp + 1)});
    } else {
      merges.push_back(m);
    }
  }
  nlohmann::ordered_json root;
  root["added_tokens"] = added;
  root["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}};
  root["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}};
  root["model"] = {{"type", "BPE"}, {"byte_fallback", true}, {"vocab", vocab}, {"merges", merges}};
  return root.dump();
}

}  // namespace gemma::fuzz
