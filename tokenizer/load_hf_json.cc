// Tokenizer::FromHfJson: a Hugging Face tokenizer.json of Gemma's kind (BPE with byte
// fallback, normaliser Replace(" " -> "▁")). The pieces are given the token types llama.cpp's
// converter writes into a GGUF (conversion/gemma.py + gguf-py LlamaHfVocab, spec/tokenizer.md
// §7), so that one vocabulary loaded from either file format encodes identically:
//   <0xXX> -> BYTE; the 7 "visible" special tokens -> USER_DEFINED; other special added tokens
//   -> CONTROL; everything else, non-special added tokens included -> NORMAL.
// tokenizer.json has no token-type field, so the 7 names are listed here.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gemma {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;  // Gemma's tokenizer.json nests 5 levels deep

constexpr std::string_view kVisibleMarkers[] = {
    "<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>",
    "<|tool_response>", "<tool_response|>", "<|\"|>"};

std::string Short(const json& j) { return utf8::Escape(j.dump(), 80); }

bool IsSpaceToMark(const json& n) {
  return n.is_object() && n.value("type", "") == "Replace" && n.contains("pattern") &&
         n["pattern"].is_object() && n["pattern"].value("String", "") == " " &&
         n.value("content", "") == "\xE2\x96\x81";
}

// The normaliser must be exactly Gemma's: spaces to "▁", nothing else (no NFKC, no prefix).
void CheckNormalizer(const json& root, const std::string& name) {
  const json n = root.value("normalizer", json());
  bool ok = IsSpaceToMark(n);
  if (!ok && n.is_object() && n.value("type", "") == "Sequence" && n.contains("normalizers") &&
      n["normalizers"].is_array() && n["normalizers"].size() == 1) {
    ok = IsSpaceToMark(n["normalizers"][0]);
  }
  if (!ok) {
    Fail("{}: normalizer is {}, expected Replace(\" \" -> \"\u2581\") only (Gemma 4)", name,
         Short(n));
  }
  // After that normaliser no text contains a space, so Gemma's Split(" ") pre-tokenizer is a
  // no-op; any other pre-tokenizer would change the result.
  const json p = root.value("pre_tokenizer", json());
  const bool split_space = p.is_object() && p.value("type", "") == "Split" &&
                           p.contains("pattern") && p["pattern"].is_object() &&
                           p["pattern"].value("String", "") == " ";
  if (!p.is_null() && !split_space) {
    Fail("{}: pre_tokenizer is {}, expected none or Split(\" \") (Gemma 4)", name, Short(p));
  }
}

}  // namespace

Tokenizer Tokenizer::FromHfJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("{}: cannot open the tokenizer.json", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return FromHfJsonText(ss.str(), path);
}

Tokenizer Tokenizer::FromHfJsonText(std::string_view text, const std::string& name) {
  json root;
  try {
    // Copying or printing a value recurses once per level: refuse deep nesting while parsing.
    root = json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) Fail("{}: JSON nested deeper than {} levels", name, kMaxDepth);
      return true;
    });
  } catch (const json::exception& e) {
    Fail("{}: not valid JSON ({})", name, utf8::Escape(e.what(), 160));
  }
  // Every access below may meet a value of the wrong JSON type; that json::exception becomes a
  // gemma::Error naming the file (the catch at the end).
  try {
    if (!root.is_object() || !root.contains("model") || !root["model"].is_object()) {
      Fail("{}: no \"model\" object (expected a Hugging Face tokenizer.json)", name);
    }
    const json& model = root["model"];
    if (model.value("type", "") != "BPE") {
      Fail("{}: model.type is {}, expected \"BPE\"", name, Short(model.value("type", json())));
    }
    if (model.value("byte_fallback", false) != true) {
      Fail("{}: model.byte_fallback is not true, expected a byte-fallback BPE (Gemma)", name);
    }
    CheckNormalizer(root, name);

    // Vocabulary: piece -> id, ids 0..n-1 each exactly once.
    const json& vocab = model.at("vocab");
    if (!vocab.is_object()) Fail("{}: model.vocab is not an object", name);
    std::vector<std::string> tokens(vocab.size());
    std::vector<bool> seen(vocab.size(), false);
    for (const auto& [piece, idj] : vocab.items()) {
      if (!idj.is_number_integer()) Fail("{}: model.vocab['{}'] is not an integer", name, utf8::Escape(piece));
      const int64_t id = idj.get<int64_t>();
      if (id < 0 || id >= static_cast<int64_t>(tokens.size()) || seen[id]) {
        Fail("{}: model.vocab['{}'] = {}, expected distinct ids 0..{}", name, utf8::Escape(piece),
             id, tokens.size() - 1);
      }
      seen[id] = true;
      tokens[id] = piece;
    }

    // Added tokens: those inside the vocabulary must agree with it; those past it extend it.
    std::vector<int32_t> types;
    std::vector<bool> special(tokens.size(), false);
    const json added = root.value("added_tokens", json::array());
    if (!added.is_array()) Fail("{}: added_tokens is not an array", name);
    std::vector<std::pair<int64_t, const json*>> extra;
    for (const json& a : added) {
      // get<int64_t>() of a float is a plain cast: undefined for 1e300, silently 1 for 1.5.
      if (!a.at("id").is_number_integer()) {
        Fail("{}: added token id {} is not an integer", name, Short(a.at("id")));
      }
      const int64_t id = a.at("id").get<int64_t>();
      const std::string& content = a.at("content").get_ref<const std::string&>();
      if (id < 0) Fail("{}: added token '{}' has id {}", name, utf8::Escape(content), id);
      if (id < static_cast<int64_t>(tokens.size())) {
        if (tokens[id] != content) {
          Fail("{}: added token {} is '{}', but model.vocab has '{}' there", name, id,
               utf8::Escape(content), utf8::Escape(tokens[id]));
        }
        special[id] = a.value("special", false);
      } else {
        extra.emplace_back(id, &a);
      }
    }
    std::sort(extra.begin(), extra.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [id, a] : extra) {
      if (id != static_cast<int64_t>(tokens.size())) {
        Fail("{}: added token id {} leaves a gap after the {} ids before it", name, id,
             tokens.size());
      }
      tokens.push_back((*a).at("content").get<std::string>());
      special.push_back((*a).value("special", false));
    }

    VocabSource src;
    src.name = name;
    src.types_key = "token types";
    src.merges_key = "model.merges";
    src.tokens.assign(tokens.begin(), tokens.end());
    src.types.resize(tokens.size());
    for (size_t id = 0; id < tokens.size(); ++id) {
      const std::string& t = tokens[id];
      TokenType type = TokenType::kNormal;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        type = TokenType::kByte;  // Vocab::Build checks the hex digits
      } else if (special[id]) {
        type = TokenType::kControl;
        for (std::string_view v : kVisibleMarkers) {
          if (t == v) type = TokenType::kUserDefined;
        }
      }
      src.types[id] = static_cast<int32_t>(type);
    }

    // Merges: "left right" strings (older files) or [left, right] pairs (newer files).
    const json& merges = model.at("merges");
    if (!merges.is_array()) Fail("{}: model.merges is not an array", name);
    src.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const json& m = merges[i];
      if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        src.merges.emplace_back(m[0].get_ref<const std::string&>(),
                                m[1].get_ref<const std::string&>());
        continue;
      }
      if (!m.is_string()) Fail("{}: model.merges[{}] is {}, expected \"a b\" or [a, b]", name, i, Short(m));
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.size() > 1 ? s.find(' ', 1) : std::string::npos;
      if (sp == std::string::npos) {
        Fail("{}: model.merges[{}] is '{}', expected two pieces separated by a space", name, i,
             utf8::Escape(s));
      }
      src.merges.emplace_back(std::string_view(s).substr(0, sp), std::string_view(s).substr(sp + 1));
    }
    return FromSource(src);
  } catch (const json::exception& e) {
    Fail("{}: unexpected tokenizer.json structure ({})", name, utf8::Escape(e.what(), 160));
  }
}

}  // namespace gemma
