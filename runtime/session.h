// A conversation's state over one model: the KV cache and the position. Evaluate() runs the
// Gemma 4 decoder on new tokens (a prompt batch or one decoded token) and returns logits only
// where the caller needs them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/matmul.h"
#include "runtime/kv_cache.h"
#include "runtime/model.h"

namespace gemma {

enum class LogitsMode {
  kNone,  // only extend the cache (e.g. a prompt prefix)
  kLast,  // logits of the last token
  kAll,   // logits of every token
};

struct SessionOptions {
  int64_t n_ctx = 0;          // context size in tokens; 0: min(model's trained context, 4096)
  int batch = 512;            // tokens per forward chunk during prefill
  Precision precision = Precision::kFast;
};

class Session {
 public:
  Session(const Model& model, SessionOptions options = {});
  ~Session();

  // Runs `tokens` at positions [Position(), Position() + n). Returns the logits rows asked for
  // (n_vocab floats each, after the final softcap). Throws gemma::Error for a token id out of
  // range or when the context would overflow; the session is unchanged then.
  std::vector<float> Evaluate(std::span<const int32_t> tokens, LogitsMode mode);

  int64_t Position() const { return pos_; }
  int64_t ContextSize() const { return n_ctx_; }
  // The tokens in the cache, in order (Tokens().size() == Position()).
  const std::vector<int32_t>& Tokens() const { return tokens_; }
  // Forgets everything: back to position 0.
  void Reset() { Rewind(0); }
  // Keeps positions [0, pos) and forgets the rest (e.g. to regenerate a reply or to replace a
  // reply by its history form). pos must not exceed Position().
  void Rewind(int64_t pos);
  const Model& model() const { return model_; }
  const KvCache& cache() const { return cache_; }

 private:
  struct Scratch;
  // One chunk; `want` marks the rows whose logits are returned (appended to `logits`).
  void ForwardChunk(std::span<const int32_t> tokens, const std::vector<bool>& want,
                    std::vector<float>& logits);

  const Model& model_;
  SessionOptions opt_;
  int64_t n_ctx_;
  int64_t pos_ = 0;
  std::vector<int32_t> tokens_;
  KvCache cache_;
  std::unique_ptr<Scratch> s_;
};

}  // namespace gemma
