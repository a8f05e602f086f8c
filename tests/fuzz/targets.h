// The fuzzed entry points. The libFuzzer executables (fuzz_*.cc) call them on mutated bytes; the
// unit test test_fuzz_regressions replays the seed corpora and every committed crash input
// through exactly the same functions in the ordinary builds.
//
// An input may be rejected: that is a gemma::Error whose message is one line and names the
// input, and the function returns normally. Anything else is a bug and throws Violation (the
// fuzzer turns the uncaught exception into a crash report, the test into a failure): another
// exception type, a message of several lines or without the input's name, a broken invariant
// such as a lossy encode/decode round trip. Memory errors are the sanitizers' business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace gemma::fuzz {

struct Violation : std::logic_error {
  using std::logic_error::logic_error;
};

// (a) GGUF bytes -> GgufFile::FromBytes -> ReadModelConfig -> BindWeights -> DescribeModel,
//     two tokens through a Session, and the tokenizer and sampler defaults of the same file.
void GgufModel(std::span<const uint8_t> data);

// (b) byte 0 picks the vocabulary and options, the rest is text to encode (checked to decode
//     back to itself) and, read as little-endian u16s, ids to decode in one go and streamed.
void TokenizerCodec(std::span<const uint8_t> data);

// (c) the bytes as a Hugging Face tokenizer.json; what loads must encode and decode.
void TokenizerJson(std::span<const uint8_t> data);

// (d) byte 0 picks flavour, thinking and generation prompt; the rest is NUL-separated
//     (role, content, reasoning) triples. Rendered by both chat renderers with the synthetic
//     vocabulary; checked that no message text turns into a control token.
void ChatTemplate(std::span<const uint8_t> data);

// The name the GGUF target gives its input in messages.
inline constexpr const char* kGgufName = "fuzz.gguf";

}  // namespace gemma::fuzz
