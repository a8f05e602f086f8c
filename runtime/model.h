// A loaded Gemma 4 model: the mapped GGUF file, its validated config and its weight views.
#pragma once

#include <string>

#include "runtime/gguf.h"
#include "runtime/model_config.h"
#include "runtime/weights.h"

namespace gemma {

struct Model {
  GgufFile file;
  ModelConfig config;
  ModelWeights weights;

  // Maps, parses and validates `path`. Throws gemma::Error.
  static Model Load(const std::string& path);
};

// The --info summary: variant, layers (type, head dim, heads, KV heads, FFN width, KV source),
// tensor count and bytes by weight type.
std::string DescribeModel(const Model& model);

}  // namespace gemma
