// gemma-run's command line: llama.cpp's flag names, parsed into one struct. Bad usage throws
// gemma::Error with a one-line message (main prints it and exits 1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels/kv_format.h"
#include "kernels/matmul.h"
#include "runtime/sampler.h"

namespace gemma::cli {

struct Options {
  std::string model;                  // -m, or $GEMMA_MODEL
  std::optional<std::string> prompt;  // -p TEXT ("-": read stdin), or positional words
  std::string prompt_file;            // -f FILE ("-": stdin)
  std::string system;                 // --system / -sys
  bool raw = false;                   // no chat template: plain completion
  int64_t n_predict = -1;             // -n: max new tokens (-1: until end of turn)
  int64_t n_ctx = 0;                  // -c: context size (0: the session's default)
  KvType cache_type = KvType::kF16;   // --cache-type: KV cache element type
  int threads = 0;                    // -t (0: all cores)
  std::vector<std::string> stops;     // --stop STRING (repeatable)
  bool ignore_eos = false;
  bool verbose = false;
  bool mmap = false;  // --mmap: no huge-page copy of the weights
  bool think = false;                 // --think / --reasoning on
  bool hide_thinking = false;
  enum class Color { kAuto, kOn, kOff } color = Color::kAuto;

  // Sampling: unset values come from the model file's general.sampling.* (or Gemma 4's
  // defaults); a negative seed means a random one.
  std::optional<float> temp, top_p, min_p, repeat_penalty;
  std::optional<int> top_k, repeat_last_n;
  int64_t seed = -1;

  // Developer modes (kept from the first gemma-run).
  bool info = false;
  std::string tokens;       // --tokens IDS: prompt as token ids (raw)
  std::string dump_logits;  // --dump-logits FILE
  bool all_logits = false;
  Precision precision = Precision::kFast;
  std::optional<std::string> tokenize, detokenize;  // --tokenize TEXT / --detokenize IDS
  bool parse_special = false, no_bos = false;

  bool help = false, version = false;
};

// Parses argv (without argv[0]'s handling of the environment: $GEMMA_MODEL is applied here).
Options ParseArgs(int argc, char** argv);

// The sampler settings: the file's defaults overridden by the flags.
SamplerParams MergeSampling(const Options& o, SamplerParams from_file);

// Comma-separated token ids ("2,105,9259"); throws gemma::Error for anything else.
std::vector<int32_t> ParseIds(const std::string& s);

extern const char* const kUsage;

}  // namespace gemma::cli
