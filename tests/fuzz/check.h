// Small checks shared by the fuzz entry points (targets_*.cc).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "tests/fuzz/targets.h"

namespace gemma::fuzz {

template <typename... Args>
[[noreturn]] void Violate(fmt::format_string<Args...> format, Args&&... args) {
  throw Violation(fmt::format(format, std::forward<Args>(args)...));
}

// A rejection message must be one line and, when `name` is given, start with "name: " so the
// user knows which file is bad.
inline void CheckRejection(std::string_view message, std::string_view name = {}) {
  if (message.find('\n') != std::string_view::npos || message.find('\r') != std::string_view::npos) {
    Violate("error message spans several lines: {:?}", std::string(message));
  }
  if (message.empty()) Violate("empty error message");
  if (!name.empty() && message.substr(0, name.size() + 2) != fmt::format("{}: ", name)) {
    Violate("error message does not start with '{}: ': {:?}", name, std::string(message));
  }
}

// Text with every U+2581 (the tokenizer's space mark) turned into a space: what a lossless
// encode/decode round trip gives back.
inline std::string SpaceMarksToSpaces(std::string_view s) {
  constexpr std::string_view kMark = "\xE2\x96\x81";
  std::string out;
  for (size_t p = 0;;) {
    const size_t q = s.find(kMark, p);
    if (q == std::string_view::npos) return out.append(s.substr(p));
    out.append(s.substr(p, q - p));
    out += ' ';
    p = q + kMark.size();
  }
}

}  // namespace gemma::fuzz
