// Streaming text out of a token stream safely: a token may end in the middle of a UTF-8
// character (byte-fallback tokens) or of a stop string, so output is held back until it can no
// longer change.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gemma {

// Passes bytes through, holding back a trailing incomplete UTF-8 character until its last
// byte arrives, so a terminal never sees half a character; ill-formed bytes become U+FFFD.
class Utf8Holdback {
 public:
  // Appends `bytes`; returns what can be shown now.
  std::string Push(std::string_view bytes);
  // End of stream: whatever is held back (an incomplete character becomes U+FFFD).
  std::string Flush();

 private:
  std::string held_;
};

// Finds the first occurrence of any stop string in streamed text, holding back a tail that
// could still grow into one.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Appends `text`; returns what can be shown now. After a stop string was found, `Stopped()`
  // is true and the returned text ends right before it; further input is ignored.
  std::string Push(std::string_view text);
  // End of stream: the held-back tail (it never became a stop string).
  std::string Flush();
  bool Stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace gemma
