#include "runtime/text_stream.h"

#include <algorithm>

namespace gemma {

namespace {

// Bytes a UTF-8 sequence with lead byte c has (0 for a continuation or invalid lead byte).
size_t SequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return 2;
  if (c >= 0xe0 && c <= 0xef) return 3;
  if (c >= 0xf0 && c <= 0xf4) return 4;
  return 0;
}

constexpr const char* kReplacement = "\xef\xbf\xbd";  // U+FFFD

// Whether byte n of the sequence starting at s[i] may follow the bytes before it (the second
// byte of E0/ED/F0/F4 sequences has a narrower range: no overlongs, surrogates or > U+10FFFF).
bool IsContinuation(const std::string& s, size_t i, size_t n) {
  const unsigned char b = static_cast<unsigned char>(s[i + n]);
  if ((b & 0xc0) != 0x80) return false;
  if (n != 1) return true;
  switch (static_cast<unsigned char>(s[i])) {
    case 0xe0: return b >= 0xa0;
    case 0xed: return b < 0xa0;
    case 0xf0: return b >= 0x90;
    case 0xf4: return b < 0x90;
    default: return true;
  }
}

}  // namespace

std::string Utf8Holdback::Push(std::string_view bytes) {
  held_.append(bytes);
  // Copy whole, well-formed characters; an ill-formed byte becomes U+FFFD (random or
  // undertrained models can emit byte tokens that form no character); a well-formed prefix at
  // the end waits for the rest.
  std::string out;
  out.reserve(held_.size());
  size_t i = 0;
  while (i < held_.size()) {
    const unsigned char c = static_cast<unsigned char>(held_[i]);
    const size_t len = SequenceLength(c);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t n = 1;
    while (n < len && i + n < held_.size() && IsContinuation(held_, i, n)) ++n;
    if (n == len) {
      out.append(held_, i, len);
      i += len;
    } else if (i + n == held_.size()) {
      break;  // incomplete so far: keep for the next push
    } else {
      out += kReplacement;  // cut short by a byte that cannot continue it
      i += n;
    }
  }
  held_.erase(0, i);
  return out;
}

std::string Utf8Holdback::Flush() {
  std::string out = held_.empty() ? std::string() : std::string(kReplacement);
  held_.clear();
  return out;
}

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

std::string StopMatcher::Push(std::string_view text) {
  if (stopped_) return {};
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const std::string& s : stops_) {
    for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n) {
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopMatcher::Flush() {
  std::string out = stopped_ ? std::string() : held_;
  held_.clear();
  return out;
}

}  // namespace gemma
