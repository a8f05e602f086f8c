// Fuzz entry point (a): everything gemma-run does with a model file before it talks to a user.
#include <tbb/global_control.h>

#include <vector>

#include "runtime/error.h"
#include "runtime/model.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tests/fuzz/check.h"
#include "tokenizer/tokenizer.h"

namespace gemma::fuzz {

namespace {

// Loads the model the way Model::Load does, minus the mmap. Throws gemma::Error.
void LoadAndRun(std::span<const uint8_t> data) {
  GgufFile file = GgufFile::FromBytes(std::vector<uint8_t>(data.begin(), data.end()), kGgufName);
  ModelConfig config = ReadModelConfig(file);
  ModelWeights weights = BindWeights(file, config);
  const Model model{std::move(file), std::move(config), std::move(weights)};
  (void)DescribeModel(model);

  // The tensors are in the input, so the work here is bounded by its size. Two tokens reach
  // attention over a cache of more than one position.
  SessionOptions options;
  options.n_ctx = 2;
  Session session(model, options);
  const int32_t ids[2] = {0, model.config.n_vocab > 1 ? 1 : 0};
  const std::vector<float> logits = session.Evaluate(ids, LogitsMode::kLast);
  if (logits.size() != static_cast<size_t>(model.config.n_vocab)) {
    Violate("Evaluate returned {} logits for a vocabulary of {}", logits.size(),
            model.config.n_vocab);
  }
}

// The chat mode also builds a tokenizer and sampler settings from the same metadata.
void LoadTokenizer(std::span<const uint8_t> data) {
  const GgufFile file =
      GgufFile::FromBytes(std::vector<uint8_t>(data.begin(), data.end()), kGgufName);
  // What the file sets is range-checked naming the file, so Validate() (whose messages name
  // command-line flags) must accept it.
  SamplerParams::FromGguf(file).Validate();
  const Tokenizer tok = Tokenizer::FromGguf(file);
  const std::vector<int32_t> ids = tok.Encode("Hello <|turn>user\n wörld\xF0\x9F\x98\x80",
                                              {.add_bos = true, .parse_special = true});
  (void)tok.Decode(ids, {.render_special = true});
}

}  // namespace

void GgufModel(std::span<const uint8_t> data) {
  // One worker thread: the fuzzer runs one input at a time and the machine is shared.
  static tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
  try {
    LoadAndRun(data);
  } catch (const Error& e) {
    CheckRejection(e.what(), kGgufName);
  }
  try {
    LoadTokenizer(data);
  } catch (const Error& e) {
    CheckRejection(e.what(), kGgufName);
  }
}

}  // namespace gemma::fuzz
