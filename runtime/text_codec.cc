#include "runtime/text_codec.h"

#include <algorithm>

#include "runtime/error.h"
#include "runtime/gguf.h"

namespace gemma {

namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581, SentencePiece's space

// Length of the UTF-8 character starting with byte c (1 for a stray continuation byte).
size_t CharLen(unsigned char c) { return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; }

int32_t ReadId(const GgufFile& file, const char* key) {
  const GgufValue* v = file.Find(key);
  if (!v) return TextCodec::kNone;
  if (!v->IsInteger()) Fail("{}: {} should be an integer", file.Path(), key);
  return static_cast<int32_t>(v->AsInt());
}

}  // namespace

TextCodec TextCodec::FromGguf(const GgufFile& file) {
  const GgufValue* tokens = file.Find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->IsArray() || tokens->ElemType() != GgufType::STRING) {
    Fail("{}: tokenizer.ggml.tokens is missing or not an array of strings", file.Path());
  }
  TextCodec c;
  const size_t n = tokens->Size();
  if (n == 0) Fail("{}: tokenizer.ggml.tokens is empty", file.Path());
  c.pieces_.reserve(n);
  for (std::string_view s : tokens->Strings()) c.pieces_.emplace_back(s);
  c.types_.assign(n, kNormal);
  if (const GgufValue* types = file.Find("tokenizer.ggml.token_type")) {
    if (!types->IsArray() || types->Size() != n) {
      Fail("{}: tokenizer.ggml.token_type should be an array of {} types", file.Path(), n);
    }
    for (size_t i = 0; i < n; ++i) c.types_[i] = static_cast<int8_t>(types->Element(i).AsInt());
  }
  std::fill(std::begin(c.byte_ids_), std::end(c.byte_ids_), kNone);
  c.byte_value_.assign(n, -1);
  c.by_text_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = c.pieces_[i];
    const int32_t id = static_cast<int32_t>(i);
    c.by_text_[p] = id;  // duplicates (seen in real files): the later id wins
    if (c.types_[i] == kByte && p.size() == 6 && p.rfind("<0x", 0) == 0 && p[5] == '>') {
      const int b = std::stoi(p.substr(3, 2), nullptr, 16);
      c.byte_value_[i] = static_cast<int16_t>(b);
      c.byte_ids_[b] = id;
    } else if ((c.types_[i] == kNormal || c.types_[i] == 0) && !p.empty()) {
      c.matchable_[p] = id;
      c.max_len_ = std::max(c.max_len_, p.size());
    }
  }
  c.bos_ = ReadId(file, "tokenizer.ggml.bos_token_id");
  c.eos_ = ReadId(file, "tokenizer.ggml.eos_token_id");
  if (c.bos_ == kNone) c.bos_ = c.Find("<bos>");
  if (c.eos_ == kNone) c.eos_ = c.Find("<eos>");
  if ((c.bos_ != kNone && c.bos_ >= c.Size()) || (c.eos_ != kNone && c.eos_ >= c.Size())) {
    Fail("{}: bos/eos token id out of range ({} tokens)", file.Path(), n);
  }
  return c;
}

int32_t TextCodec::Find(std::string_view piece) const {
  const auto it = by_text_.find(piece);
  return it == by_text_.end() ? kNone : it->second;
}

std::vector<int32_t> TextCodec::Encode(std::string_view text) const {
  std::string norm;
  norm.reserve(text.size() + text.size() / 4);
  for (char ch : text) {
    if (ch == ' ') norm += kSpaceMark;
    else norm += ch;
  }
  std::vector<int32_t> out;
  size_t pos = 0;
  while (pos < norm.size()) {
    // The longest piece starting here, trying only lengths that end on a character boundary.
    size_t best_len = 0;
    int32_t best = kNone;
    size_t len = 0;
    while (pos + len < norm.size() && len < max_len_) {
      len += CharLen(static_cast<unsigned char>(norm[pos + len]));
      if (pos + len > norm.size()) break;
      const auto it = matchable_.find(std::string_view(norm).substr(pos, len));
      if (it != matchable_.end()) {
        best = it->second;
        best_len = len;
      }
    }
    if (best != kNone) {
      out.push_back(best);
      pos += best_len;
      continue;
    }
    // No piece: the character's bytes.
    const size_t n = std::min(CharLen(static_cast<unsigned char>(norm[pos])), norm.size() - pos);
    for (size_t i = 0; i < n; ++i) {
      const int32_t b = byte_ids_[static_cast<unsigned char>(norm[pos + i])];
      if (b == kNone) Fail("the vocabulary has no byte piece for 0x{:02X}", static_cast<unsigned char>(norm[pos + i]));
      out.push_back(b);
    }
    pos += n;
  }
  return out;
}

std::string TextCodec::Decode(int32_t id) const {
  if (id < 0 || id >= Size()) return {};
  switch (types_[static_cast<size_t>(id)]) {
    case kByte:
      return byte_value_[static_cast<size_t>(id)] >= 0
                 ? std::string(1, static_cast<char>(byte_value_[static_cast<size_t>(id)]))
                 : std::string();
    case kControl:
    case kUnused:
    case kUnknown:
      return {};
    default:
      break;
  }
  const std::string& p = pieces_[static_cast<size_t>(id)];
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size();) {
    if (p.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      out += ' ';
      i += kSpaceMark.size();
    } else {
      out += p[i++];
    }
  }
  return out;
}

std::string TextCodec::Decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) out += Decode(id);
  return out;
}

}  // namespace gemma
