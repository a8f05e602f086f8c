// Choosing the next token from a row of logits: repeat penalty, top-k, top-p, min-p,
// temperature, then a seeded draw. A library piece: no terminal, no flags.
//
// The order follows llama.cpp's default chain (penalties -> top-k -> top-p -> min-p ->
// temperature -> draw), so the same settings mean the same thing to users of both: the
// truncations look at the model's own distribution (temperature 1) and the temperature only
// reshapes what survives them.
//
// Cost: a Gemma 4 row has 262,144 logits and sampling runs once per generated token, so nothing
// here sorts the whole row. Top-k is a single pass with a k-element heap; top-p without top-k
// sorts a growing prefix found by partial selection (nth_element), which stops as soon as the
// kept mass reaches p.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace gemma {

class GgufFile;

struct SamplerParams {
  float temp = 1.0f;           // <= 0: greedy (argmax after the repeat penalty)
  int top_k = 64;              // <= 0: off
  float top_p = 0.95f;         // >= 1: off
  float min_p = 0.0f;          // <= 0: off
  float repeat_penalty = 1.0f; // 1: off
  int repeat_last_n = 64;      // tokens of recent context the penalty looks at (0: off)
  uint64_t seed = 0;

  // Gemma 4's published defaults (temp 1.0, top-k 64, top-p 0.95), overridden by the file's
  // general.sampling.* keys when present. Throws gemma::Error for a key of the wrong type.
  static SamplerParams FromGguf(const GgufFile& file);

  // Checks ranges; throws gemma::Error naming the parameter ("--top-p must be in [0, 1], got 2").
  void Validate() const;
  std::string ToString() const;  // "temp 1 top-k 64 top-p 0.95 min-p 0 repeat-penalty 1 (last 64)"
};

// One surviving candidate: token id and its probability after all stages.
struct TokenProb {
  int32_t id;
  float p;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  const SamplerParams& params() const { return params_; }
  // New parameters; the random stream restarts from params.seed.
  void SetParams(const SamplerParams& params);
  // Restarts the random stream (the same seed then gives the same draws again).
  void Reseed(uint64_t seed);

  // The candidates that survive the penalty and truncation stages, with their probabilities
  // after temperature, most likely first (ties: lower id first). `recent` is the context the
  // repeat penalty looks at (only its last repeat_last_n tokens are used). Greedy (temp <= 0)
  // gives the argmax alone with p = 1.
  std::vector<TokenProb> Candidates(std::span<const float> logits,
                                    std::span<const int32_t> recent = {});

  // Draws one token from Candidates().
  int32_t Sample(std::span<const float> logits, std::span<const int32_t> recent = {});

  // A uniform double in [0, 1) from the sampler's stream (exposed for tests).
  double Uniform();

 private:
  struct Entry {
    float logit;
    int32_t id;
  };
  // Rows of `logits` after the repeat penalty: a copy only when some token is penalised.
  std::vector<TokenProb> Select(std::span<const float> logits, std::span<const int32_t> recent,
                                bool sorted);
  std::span<const float> Penalised(std::span<const float> logits, std::span<const int32_t> recent);
  void TopK(std::span<const float> logits, size_t k);
  void TopPAll(std::span<const float> logits);  // top-p with top-k off: partial selection
  void SortEntries();

  SamplerParams params_;
  std::mt19937_64 rng_;
  std::vector<float> penalised_;  // scratch: the penalised copy of a row
  std::vector<Entry> entries_;    // scratch: candidates, sorted descending when handed on
  std::vector<int32_t> seen_;     // scratch: distinct recent tokens
};

// The repeat penalty as llama.cpp applies it: every distinct token among `recent` has its
// logit divided by `penalty` when positive and multiplied by it otherwise. In place.
void ApplyRepeatPenalty(std::span<float> logits, std::span<const int32_t> recent, float penalty);

}  // namespace gemma
