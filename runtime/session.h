// A conversation's state over one model: the KV cache and the position. Evaluate() runs the
// Gemma 4 decoder on new tokens (a prompt batch or one decoded token) and returns logits only
// where the caller needs them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "kernels/kv_format.h"
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
  KvType cache_type = KvType::kF16;  // element type of the KV cache (gemma-run --cache-type)
  // Sliding-window layers keep this many positions beyond their window and one batch, so that
  // Rewind() by up to batch + rewind_margin tokens needs no recomputation.
  int64_t rewind_margin = 512;
};

// Test hook (process-wide, like SetLlamaCppGeluForTesting): while set, every MoE layer appends
// (position, p_k - p_k+1) for each row it routes: the gap between the last chosen expert's
// probability and the best unchosen one. A gap near zero is a near-tie that rounding noise can
// flip, which changes that position's output discontinuously.
using RouterGapTrace = std::vector<std::pair<int64_t, float>>;
void SetRouterGapTraceForTesting(RouterGapTrace* trace);

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
  //
  // Cost: nothing when the sliding-window rings still hold the window before pos, which they do
  // for rewinds of up to batch + rewind_margin tokens. Farther back, the rings are rebuilt by
  // re-running the layers up to the last sliding-window cache over the last RecomputeSpan()
  // tokens before pos (global-layer caches are intact and reused): for E2B (window 512, 14 of
  // 35 layers) that is about 6.1K tokens through 40% of the model, whatever the context length.
  void Rewind(int64_t pos);

  // Context shift for when the context is full: drops tokens [keep, keep + n_discard) (e.g. the
  // oldest turns after the system prompt) and moves the later ones down, as if the conversation
  // had never contained the dropped tokens. Recompute-based and exact: costs a Rewind(keep)
  // plus a prefill of the Position() - keep - n_discard tokens after the gap. Returns the logits
  // `mode` asks for, of the re-evaluated tail. Throws gemma::Error (session unchanged) for a
  // range outside [0, Position()).
  std::vector<float> ShiftContext(int64_t keep, int64_t n_discard,
                                  LogitsMode mode = LogitsMode::kNone);

  // Benchmark helper: makes the session look as if `tokens` had been evaluated, but fills the
  // KV cache with random unit-RMS K/V instead of running the model, so that decoding at a depth
  // of 128K tokens can be timed without first spending an hour on prefill. The logits that
  // follow are meaningless; the work and memory traffic of attention over the cache are real.
  // Requires an empty session (Position() == 0).
  void LoadRandomContextForBenchmark(std::span<const int32_t> tokens);

  // Tokens before a rewind target that Rewind() re-runs when the rings lost the window.
  int64_t RecomputeSpan() const { return recompute_span_; }
  // Total tokens Rewind() has re-run so far (for tests and diagnostics).
  int64_t RecomputedTokens() const { return recomputed_; }
  const Model& model() const { return model_; }
  const KvCache& cache() const { return cache_; }

 private:
  struct Scratch;
  // One chunk at positions [start, start + tokens.size()); `want` marks the rows whose logits
  // are returned (appended to `logits`). With recompute_from >= 0 it only rebuilds the
  // sliding-window caches (see Rewind): global caches are left alone, sliding attention sees
  // no key below recompute_from, and it stops after the last sliding-window cache.
  void ForwardChunk(std::span<const int32_t> tokens, int64_t start, const std::vector<bool>& want,
                    std::vector<float>& logits, int64_t recompute_from = -1);
  // After a rewind: re-runs what the sliding-window rings lost.
  void RestoreSlidingWindows();

  const Model& model_;
  SessionOptions opt_;
  int64_t n_ctx_;
  int64_t pos_ = 0;
  std::vector<int32_t> tokens_;
  int64_t recompute_span_ = 0;
  int64_t recomputed_ = 0;
  KvCache cache_;
  std::unique_ptr<Scratch> s_;
};

}  // namespace gemma
