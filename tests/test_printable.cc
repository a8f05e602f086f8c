// Printable(): names and strings from a model file, made safe for one-line messages.
#include <catch2/catch.hpp>

#include "runtime/error.h"
#include "runtime/gguf.h"
#include "runtime/gguf_writer.h"
#include "runtime/model_config.h"
#include "runtime/printable.h"

using namespace gemma;

TEST_CASE("Printable keeps text and escapes what would disturb a terminal", "[printable]") {
  CHECK(Printable("blk.0.attn_q.weight") == "blk.0.attn_q.weight");
  CHECK(Printable("caf\xC3\xA9 \xE6\x97\xA5\xF0\x9F\x98\x80") == "caf\xC3\xA9 \xE6\x97\xA5\xF0\x9F\x98\x80");
  CHECK(Printable("a\nb\tc\rd") == "a\\nb\\tc\\rd");
  CHECK(Printable("back\\slash") == "back\\\\slash");
  CHECK(Printable("\x1B[2J\x07") == "\\x1B[2J\\x07");
  CHECK(Printable("\x7F") == "\\x7F");
  CHECK(Printable("\xC2\x9B") == "\\u{9B}");               // C1 control (CSI)
  CHECK(Printable("\xE2\x80\xAE" "evil") == "\\u{202E}evil");  // right-to-left override
  CHECK(Printable("\xE2\x80\xA8") == "\\u{2028}");
  CHECK(Printable("\xFF\xC0\xAF") == "\\xFF\\xC0\\xAF");      // not UTF-8, overlong
  CHECK(Printable("\xED\xA0\x80") == "\\xED\\xA0\\x80");      // surrogate
  CHECK(Printable("\xE2\x96") == "\\xE2\\x96");               // cut off
  CHECK(Printable(std::string_view("a\0b", 3)) == "a\\x00b");
  CHECK(Printable(std::string(300, 'x'), 10) == std::string(10, 'x') + "...");
}

TEST_CASE("file-supplied names in GGUF errors stay on one line", "[printable]") {
  GgufWriter w;
  const std::string key = "evil\nkey\x1B[31m";
  w.Set(key, GgufWriteValue::Bool(true));
  std::vector<uint8_t> b = w.WriteToBytes();
  b[24 + 8 + key.size() + 4] = 7;  // the bool after header, key and type tag: not 0 or 1
  try {
    GgufFile::FromBytes(b, "x.gguf");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "x.gguf: key 'evil\\nkey\\x1B[31m': boolean byte 7 is not 0 or 1");
  }
  GgufWriter arch;
  arch.Set("general.architecture", GgufWriteValue::String("llama\n\x1B]0;pwned\x07"));
  try {
    ReadModelConfig(GgufFile::FromBytes(arch.WriteToBytes(), "a.gguf"));
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "a.gguf: architecture 'llama\\n\\x1B]0;pwned\\x07' is not supported (gemma-run runs gemma4 models)");
  }
}
