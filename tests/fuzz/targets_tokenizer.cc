// Fuzz entry points (b) and (c): the tokenizer on arbitrary text and ids, and the tokenizer.json
// loader on arbitrary bytes.
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/vocabs.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gemma::fuzz {

namespace {

// Encode then decode must give the text back (spaces marks aside): the synthetic and the real
// vocabulary both have all 256 byte pieces, so nothing falls back to <unk>. With parse_special
// the control pieces come back only if rendered.
void CheckRoundTrip(const Tokenizer& tok, std::string_view text, bool add_bos, bool parse_special) {
  const std::vector<int32_t> ids = tok.Encode(text, {.add_bos = add_bos, .parse_special = parse_special});
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.VocabSize()) Violate("Encode produced id {} outside the vocabulary", id);
  }
  const bool render = parse_special || add_bos;
  const std::string decoded = tok.Decode(ids, {.render_special = render});
  std::string expected = SpaceMarksToSpaces(text);
  const bool text_has_bos = parse_special && text.substr(0, 5) == "<bos>";
  if (add_bos && tok.Bos() >= 0 && !text_has_bos) expected.insert(0, tok.Piece(tok.Bos()));
  if (decoded != expected) {
    Violate("round trip (bos {}, special {}) of {:?} gave {:?}", add_bos, parse_special,
            std::string(text), decoded);
  }
}

// Decode of any ids: an Error for an id outside the vocabulary, else bytes; streamed, the same
// bytes with ill-formed UTF-8 replaced.
void CheckDecode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool render) {
  bool valid = true;
  for (int32_t id : ids) valid = valid && id >= 0 && id < tok.VocabSize();
  std::string whole;
  try {
    whole = tok.Decode(ids, {.render_special = render});
  } catch (const Error& e) {
    if (valid) Violate("Decode of valid ids threw: {}", e.what());
    CheckRejection(e.what());
    return;
  }
  if (!valid) Violate("Decode accepted an id outside the vocabulary");
  StreamDecoder stream(tok, {.render_special = render});
  std::string streamed;
  for (int32_t id : ids) {
    streamed += stream.Push(id);
    if (stream.Pending() > 3) Violate("stream decoder holds {} bytes back", stream.Pending());
  }
  streamed += stream.Flush();
  if (!utf8::IsValid(streamed)) Violate("stream decoder printed ill-formed UTF-8");
  if (streamed != utf8::ReplaceInvalid(whole)) {
    Violate("streamed {:?} differs from decoded {:?}", streamed, whole);
  }
}

}  // namespace

void TokenizerCodec(std::span<const uint8_t> data) {
  if (data.empty()) return;
  const uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data.data()) + 1, data.size() - 1);
  const Tokenizer* real = RealTokenizer();
  const Tokenizer& tok = (flags & 8) && real ? *real : SynthTokenizer();
  CheckRoundTrip(tok, text, flags & 1, flags & 2);

  // Ids: u16 pairs scaled to the vocabulary with some room above it for rejections.
  std::vector<int32_t> ids;
  const uint32_t range = static_cast<uint32_t>(tok.VocabSize()) + 64;
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    const uint32_t x = static_cast<uint8_t>(text[i]) | (static_cast<uint8_t>(text[i + 1]) << 8);
    const uint32_t id = (flags & 16) ? x * (range / 65536 + 1) % range : x % range;
    ids.push_back(static_cast<int32_t>(id));
  }
  CheckDecode(tok, ids, flags & 4);
}

void TokenizerJson(std::span<const uint8_t> data) {
  constexpr const char* kName = "fuzz.json";
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  try {
    const Tokenizer tok = Tokenizer::FromHfJsonText(text, kName);
    // Whatever vocabulary loaded must tokenize text without crashing; a vocabulary without byte
    // pieces or <unk> may refuse a character, with one line.
    const std::vector<int32_t> ids = tok.Encode("Hi <|turn>user\n\n  a\xC3\xA9\xF0\x9F\x98\x80\xFF",
                                                {.add_bos = true, .parse_special = true});
    (void)tok.Decode(ids, {.render_special = true});
  } catch (const Error& e) {
    const std::string_view m = e.what();
    if (m.rfind("cannot encode the byte", 0) == 0) return CheckRejection(m);
    CheckRejection(m, kName);
  }
}

}  // namespace gemma::fuzz
