// Text taken from a model file (metadata keys, tensor names, string values) shown in a message
// or on the terminal. A hostile file could otherwise break the one-line error format with
// newlines, or send escape sequences to the user's terminal.
#pragma once

#include <string>
#include <string_view>

namespace gemma {

// `s` safe to print on one line: printable ASCII and well-formed UTF-8 stay as they are;
// backslash, control characters, C1 controls, line/paragraph separators, bidirectional
// overrides and bytes that are not UTF-8 become escapes (\n, \\, \x1B, \u{202E}); strings longer
// than `max_bytes` are cut, ending in "...".
std::string Printable(std::string_view s, size_t max_bytes = 96);

}  // namespace gemma
