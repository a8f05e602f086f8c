#include "tokenizer/utf8.h"

#include <fmt/format.h>

namespace gemma::utf8 {

namespace {

// The well-formed byte sequences (Unicode Table 3-7): the lead byte fixes the length and the
// allowed range of the second byte; later bytes are always 80..BF.
struct LeadInfo {
  uint8_t len;
  uint8_t lo, hi;  // range of the second byte
};

LeadInfo Lead(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};  // continuation byte or overlong C0/C1
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};  // no overlongs
  if (b == 0xED) return {3, 0x80, 0x9F};  // no surrogates
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};  // no overlongs
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // nothing above U+10FFFF
  return {0, 0, 0};
}

}  // namespace

Char Next(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + pos;
  const size_t avail = s.size() - pos;
  const LeadInfo li = Lead(p[0]);
  if (li.len == 1) return {p[0], 1, Status::kOk};
  if (li.len == 0) return {0, 1, Status::kInvalid};
  uint32_t cp = p[0] & (0x7F >> li.len);
  for (uint32_t i = 1; i < li.len; ++i) {
    if (i >= avail) return {0, i, Status::kIncomplete};
    const uint8_t lo = i == 1 ? li.lo : 0x80, hi = i == 1 ? li.hi : 0xBF;
    if (p[i] < lo || p[i] > hi) return {0, i, Status::kInvalid};
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  return {cp, li.len, Status::kOk};
}

bool IsValid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const Char c = Next(s, i);
    if (c.status != Status::kOk) return false;
    i += c.len;
  }
  return true;
}

void Append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string ReplaceInvalid(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Char c = Next(s, i);
    if (c.status == Status::kOk) {
      out.append(s.substr(i, c.len));
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += c.len;
  }
  return out;
}

std::string Escape(std::string_view s, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  for (; i < s.size() && out.size() < max_bytes;) {
    const Char c = Next(s, i);
    if (c.status != Status::kOk) {
      out += fmt::format("\\x{:02X}", static_cast<uint8_t>(s[i]));
      i += 1;
      continue;
    }
    if (c.cp == '\n') out += "\\n";
    else if (c.cp == '\t') out += "\\t";
    else if (c.cp == '\r') out += "\\r";
    else if (c.cp == '\\') out += "\\\\";
    else if (c.cp < 0x20 || c.cp == 0x7F || (c.cp >= 0x80 && c.cp < 0xA0) || c.cp == 0x2028 ||
             c.cp == 0x2029) {
      out += fmt::format("\\u{{{:X}}}", c.cp);
    } else {
      out.append(s.substr(i, c.len));
    }
    i += c.len;
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace gemma::utf8
