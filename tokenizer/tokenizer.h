// The Gemma 4 tokenizer: text <-> token ids (spec/tokenizer.md, spec/gemma4.md §6).
//
// Encoding, in order:
//  1. Every ASCII space becomes U+2581 "▁". Nothing else changes: no Unicode normalisation, no
//     prefix space, no lower-casing.
//  2. Pieces that must be matched whole are cut out, leftmost-longest (PieceMatcher):
//       - CONTROL (and UNKNOWN) pieces such as <bos>, <|turn>, <turn|>, <|think|>: only when the
//         caller asks (parse_special), i.e. for text a chat template produced. By default a
//         user's literal "<|turn>" stays text.
//       - USER_DEFINED pieces (the 7 "visible" markers <|channel> <channel|> <|tool_call>
//         <tool_call|> <|tool_response> <tool_response|> <|"|>): always.
//       - NORMAL pieces of two or more characters that no merge produces (the HTML tags
//         <table>..</footer>, <unusedN>, [multimodal]): always.
//     Why: the model was trained with SentencePiece, which matches user-defined pieces whole in
//     any text. The Hugging Face tokenizer does the same for these pieces (its non-special
//     added tokens), so "<table>" is one token [168]. llama.cpp stores the HTML tags as NORMAL
//     tokens in the GGUF and reaches them only by merges, of which there are none, so it
//     splits "<table>" into "<", "table", ">". The GGUF has no flag for "user-defined": such a
//     piece is recognised by being unreachable by any merge, which on the real vocabulary
//     selects exactly the Hugging Face added tokens besides whitespace runs (checked in the
//     tests). For the 7 markers the GGUF type is USER_DEFINED, so they are matched even with
//     parse_special off, as SentencePiece matches user-defined pieces. llama.cpp does the same
//     for 6 of them (it retypes the stop token <|tool_response> CONTROL when loading); Hugging
//     Face with split_special_tokens splits all 7 (it calls them special).
//     One more difference, for a literal "▁" typed next to a space: pieces are matched on the
//     normalised text, like SentencePiece and llama.cpp; Hugging Face matches its "▁▁" added
//     tokens in the raw text. tests/data/tokenizer/corpus.json records every such case.
//  3. The rest is cut at runs of "\n". A newline run that is itself a piece is emitted whole
//     (llama.cpp PR #21343; Hugging Face matches these runs as added tokens, same result).
//  4. Every other run is byte-pair encoded by merge rank (BpeEncoder); characters without a
//     piece fall back to their <0xXX> byte pieces. Whitespace runs ("▁▁▁", "\t\t") are reached
//     by merges, which rank first in Gemma's merge list, so they need no special case. For
//     speed, runs are cut at word starts no merge can cross and repeated words are memoized
//     (RunEncoder); the result is the same as BPE over the whole run (tested).
//
// Decoding is lossless: "▁" becomes a space, byte pieces are reassembled into their bytes, and
// nothing is "cleaned up" (llama.cpp's detokenizer drops the space before "?!.,", we do not).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/piece_matcher.h"
#include "tokenizer/run_encoder.h"
#include "tokenizer/vocab.h"

namespace gemma {

class GgufFile;

struct EncodeOptions {
  // Prepend <bos>, unless the result already starts with it (text beginning with "<bos>" and
  // parse_special): a chat template writes <bos> itself, and a doubled BOS degrades the model.
  bool add_bos = false;
  // Match CONTROL pieces in the text. Only for text the program built (a chat template), never
  // for what a user typed.
  bool parse_special = false;
};

struct DecodeOptions {
  // CONTROL, UNKNOWN and UNUSED pieces as their text ("<turn|>"); otherwise they decode to
  // nothing. USER_DEFINED pieces (<|channel> etc.) always print, so that output can be parsed.
  bool render_special = false;
};

// A byte range [begin, end) of a text.
struct TextRange {
  size_t begin = 0, end = 0;
};

class Tokenizer {
 public:
  // From a GGUF's tokenizer.* metadata (tokenizer.ggml.model must be "gemma4"). Only metadata
  // is read: a vocab-only GGUF without tensors works. Throws gemma::Error naming the key.
  static Tokenizer FromGguf(const GgufFile& file);
  // From a Hugging Face tokenizer.json (a byte-fallback BPE with Gemma's normaliser).
  static Tokenizer FromHfJson(const std::string& path);
  static Tokenizer FromHfJsonText(std::string_view json, const std::string& name);
  // From arrays already in memory (tests, synthetic vocabularies).
  static Tokenizer FromSource(const VocabSource& source, std::string chat_template = {});

  std::vector<int32_t> Encode(std::string_view text, EncodeOptions options = {}) const;
  // Encode with parse_special on, except that no CONTROL piece is matched that overlaps one of
  // `plain` (sorted, disjoint): chat prompts whose message text must stay text.
  std::vector<int32_t> EncodeWithPlainRanges(std::string_view text, bool add_bos,
                                             std::span<const TextRange> plain) const;

  // The exact bytes the ids stand for (ill-formed UTF-8 included, if byte pieces spell it:
  // Decode never substitutes). Throws gemma::Error on an id outside the vocabulary.
  std::string Decode(std::span<const int32_t> ids, DecodeOptions options = {}) const;
  // Appends the bytes of one token to out.
  void AppendDecoded(int32_t id, DecodeOptions options, std::string& out) const;

  int32_t VocabSize() const { return vocab_.Size(); }
  std::string_view Piece(int32_t id) const { return vocab_.Piece(id); }
  TokenType Type(int32_t id) const { return vocab_.Type(id); }
  // Id of a piece by its exact text, or -1.
  int32_t Find(std::string_view piece) const { return vocab_.Find(piece); }
  int32_t Bos() const { return vocab_.bos_id; }
  int32_t Eos() const { return vocab_.eos_id; }
  int32_t Unk() const { return vocab_.unk_id; }
  int32_t Pad() const { return vocab_.pad_id; }
  // True if piece `id` is matched whole (never produced by BPE); see step 2 above.
  bool IsMatchedWhole(int32_t id) const;
  // Number of piece strings that occur more than once (tolerated; the later id wins).
  int32_t DuplicatePieces() const { return vocab_.DuplicateCount(); }
  // tokenizer.chat_template from the GGUF, or empty.
  const std::string& ChatTemplate() const { return chat_template_; }
  const Vocab& vocab() const { return vocab_; }

 private:
  Tokenizer(Vocab vocab, std::string chat_template, const std::string& name);
  void EncodeImpl(std::string_view text, bool parse_special, std::span<const TextRange> plain,
                  std::vector<int32_t>& out) const;
  void EncodeSegment(std::string_view segment, RunEncoder& runs,
                     std::vector<int32_t>& out) const;

  Vocab vocab_;
  PieceMatcher matcher_;
  std::vector<bool> matched_whole_;
  std::vector<SpanningPiece> spanning_;  // see run_encoder.h
  bool split_words_ = false;
  std::string chat_template_;
};

}  // namespace gemma
