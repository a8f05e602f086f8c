// A loaded Gemma 4 model: the mapped GGUF file, its validated config and its weight views.
#pragma once

#include <string>

#include "runtime/gguf.h"
#include "runtime/model_config.h"
#include "runtime/weights.h"

namespace gemma {

struct LoadOptions {
  // Copy the matrices a decode step streams (all but the embedding lookup tables) into huge
  // pages (runtime/huge_pages.h); false computes straight from the file mapping (--mmap).
  bool huge_pages = true;
};

struct Model {
  GgufFile file;
  ModelConfig config;
  ModelWeights weights;
  uint64_t huge_page_bytes = 0;  // weight bytes copied into huge pages at load

  // Maps, parses and validates `path`. Throws gemma::Error.
  static Model Load(const std::string& path, const LoadOptions& options = {});
};

// The --info summary: variant, layers (type, head dim, heads, KV heads, FFN width, KV source),
// tensor count and bytes by weight type.
std::string DescribeModel(const Model& model);

}  // namespace gemma
