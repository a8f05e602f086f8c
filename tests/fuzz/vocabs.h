// The vocabularies the tokenizer fuzz targets run with, built once per process.
#pragma once

#include "tokenizer/tokenizer.h"

namespace gemma::fuzz {

// The synthetic demo vocabulary of the tiny models (control tokens, all 256 byte pieces, BPE
// merges learnt on a small corpus): what `gemma-quantize synth` writes into a GGUF.
const Tokenizer& SynthTokenizer();

// The real Gemma 4 vocabulary, from the GGUF or tokenizer.json named by $GEMMA_FUZZ_VOCAB (made
// by shared/tools/tokenizer, never committed); nullptr when the variable is unset.
const Tokenizer* RealTokenizer();

}  // namespace gemma::fuzz
