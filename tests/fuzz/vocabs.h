// The vocabularies the tokenizer fuzz targets run with, built once per process.
#pragma once

#include "runtime/text_codec.h"
#include "tokenizer/tokenizer.h"

namespace gemma::fuzz {

// The synthetic demo vocabulary of the tiny models (control tokens, all 256 byte pieces, BPE
// merges learnt on a small corpus): what `gemma-quantize synth` writes into a GGUF.
const Tokenizer& SynthTokenizer();
// The same vocabulary behind the conversation layer's TextCodec (what the REPL renders with).
const TextCodec& SynthCodec();

// The real Gemma 4 vocabulary, from the GGUF or tokenizer.json named by $GEMMA_FUZZ_VOCAB (made
// by shared/tools/tokenizer, never committed); nullptr when the variable is unset.
const Tokenizer* RealTokenizer();

}  // namespace gemma::fuzz
