#include "runtime/printable.h"

#include <fmt/format.h>

#include <cstdint>

namespace gemma {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] and its code point, or 0 if ill-formed.
size_t Utf8At(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || b(1) < lo || b(1) > hi) return 0;
  uint32_t v = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if (k > 1 && (b(k) < 0x80 || b(k) > 0xBF)) return 0;
    v = (v << 6) | (b(k) & 0x3F);
  }
  *cp = v;
  return n;
}

// Characters that move the cursor or reorder text rather than print.
bool Disruptive(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string Printable(std::string_view s, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && out.size() < max_bytes) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    uint32_t cp = 0;
    size_t n = 0;
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out += '\\';
      out += static_cast<char>(c);
      n = 1;
    } else if (c == '\n') {
      out += "\\n";
      n = 1;
    } else if (c == '\t') {
      out += "\\t";
      n = 1;
    } else if (c == '\r') {
      out += "\\r";
      n = 1;
    } else if (c >= 0x80 && (n = Utf8At(s, i, &cp)) > 0) {
      if (Disruptive(cp)) {
        out += fmt::format("\\u{{{:X}}}", cp);
      } else {
        out.append(s.substr(i, n));
      }
    } else {
      out += fmt::format("\\x{:02X}", c);
      n = 1;
    }
    i += n;
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace gemma
