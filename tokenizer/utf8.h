// UTF-8 scanning for the tokenizer. Text reaching the tokenizer may be any bytes (stdin, files,
// model output cut at a token boundary), so every function here accepts ill-formed input and
// never reads past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gemma::utf8 {

enum class Status : uint8_t {
  kOk,          // a complete, well-formed character
  kInvalid,     // an ill-formed sequence (its maximal subpart, at least one byte)
  kIncomplete,  // a well-formed prefix cut off by the end of the input
};

struct Char {
  uint32_t cp = 0;  // the code point when kOk
  uint32_t len = 0; // bytes consumed: the character, the maximal ill-formed subpart, or the prefix
  Status status = Status::kOk;
};

// Decodes the character starting at s[pos] (pos < s.size()). For ill-formed input `len` is the
// length of the "maximal subpart" (Unicode 15, §3.9 U+FFFD substitution): the longest prefix
// that could still start a well-formed sequence, or 1. This is the convention browsers and
// Python use, so one U+FFFD per returned kInvalid reproduces their replacement exactly.
Char Next(std::string_view s, size_t pos);

// True if every byte of s belongs to a well-formed character.
bool IsValid(std::string_view s);

// Appends the UTF-8 encoding of cp (cp <= 0x10FFFF, not a surrogate).
void Append(std::string& out, uint32_t cp);

// s with every ill-formed subpart replaced by U+FFFD (a trailing incomplete sequence too).
std::string ReplaceInvalid(std::string_view s);

// A short, printable, single-line rendering of s for error messages: control characters and
// ill-formed bytes are escaped, long strings are cut to `max_bytes` with "...".
std::string Escape(std::string_view s, size_t max_bytes = 48);

}  // namespace gemma::utf8
