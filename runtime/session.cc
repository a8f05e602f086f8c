// The Gemma 4 decoder, one stage per function, read top to bottom (spec: shared/spec/gemma4.md §2).
// Activations are fp32 rows: x is [rows][H], one row per token of the current chunk.
#include "runtime/session.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include "kernels/attention.h"
#include "kernels/ops.h"
#include "kernels/rope_table.h"
#include "quant/quantize.h"
#include "runtime/error.h"
#include "runtime/numeric_guard.h"

namespace gemma {

struct Session::Scratch {
  std::vector<float> x, xn, q, k, v, attn, o, ffn, m, m2, ple, gate, router;
  std::vector<int64_t> pos;
  std::vector<float> rope_freqs;  // global-layer frequency divisors
  // RoPE angles of the chunk's positions, one table per kind of layer (sliding / global).
  struct Rope {
    RopeTable table;
    bool valid = false;
  };
  Rope rope[2];
};

namespace {

// The last layer that writes a K/V cache: after it, only rows whose logits are wanted matter.
int LastKvLayer(const ModelConfig& c) {
  int last = 0;
  for (const LayerConfig& l : c.layers) {
    if (l.OwnsKv()) last = l.index;
  }
  return last;
}

bool IsRing(const LayerConfig& l) { return l.sliding && l.window > 0; }

// The last layer that writes a sliding-window cache (-1: none).
int LastSlidingKvLayer(const ModelConfig& c) {
  int last = -1;
  for (const LayerConfig& l : c.layers) {
    if (l.OwnsKv() && IsRing(l)) last = l.index;
  }
  return last;
}

// How far before a rewind target p the sliding caches must be recomputed so that their window
// [p - W + 1, p) comes out exact. Re-running from position a with keys below a unavailable, a
// sliding layer's output at position i is exact once its whole window is exact: each sliding
// attention layer moves the first exact position W - 1 later, global layers read their intact
// caches and move nothing. So the sliding cache of layer l is exact from a + (sum of W - 1 over
// the sliding layers before l), and it must be exact from p - W_l + 1.
int64_t SlidingRecomputeSpan(const ModelConfig& c) {
  const int last = LastSlidingKvLayer(c);
  int64_t shift = 0, span = 0;
  for (const LayerConfig& l : c.layers) {
    if (l.index > last) break;
    if (!IsRing(l)) continue;
    if (l.OwnsKv()) span = std::max<int64_t>(span, shift + l.window - 1);
    shift += l.window - 1;
  }
  return span;
}

std::atomic<RouterGapTrace*> g_router_trace{nullptr};

// Runs fn(i) for i < n, on TBB threads when there is enough work to pay for them.
template <typename Fn>
void ForEach(size_t n, size_t min_parallel, Fn&& fn) {
  if (n < min_parallel) {
    for (size_t i = 0; i < n; ++i) fn(i);
  } else {
    tbb::parallel_for(size_t{0}, n, fn);
  }
}

// Rows of a chunk are independent: prefill chunks spread them over the threads.
constexpr size_t kParallelRowFloats = 16384;

void RmsNormRows(float* x, const float* w, size_t rows, size_t n, float eps) {
  ForEach(rows, rows * n >= kParallelRowFloats ? 2 : rows + 1,
          [&](size_t r) { RmsNorm(x + r * n, w, n, eps, x + r * n); });
}

void AddRows(float* x, const float* y, size_t count) {
  for (size_t i = 0; i < count; ++i) x[i] += y[i];
}

// Keeps rows `keep` (ascending) of a [rows][width] buffer, in place.
void KeepRows(std::vector<float>& buf, size_t width, const std::vector<size_t>& keep) {
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i] != i) {
      std::copy_n(buf.begin() + keep[i] * width, width, buf.begin() + i * width);
    }
  }
}

}  // namespace

Session::Session(const Model& model, SessionOptions options)
    : model_(model),
      opt_(options),
      n_ctx_(options.n_ctx > 0 ? options.n_ctx
                               : std::min<int64_t>(model.config.n_ctx_train, 4096)),
      cache_(model.config, KvCacheOptions{n_ctx_, options.cache_type,
                                          std::max(1, options.batch), options.rewind_margin}),
      s_(std::make_unique<Scratch>()) {
  const ModelConfig& c = model_.config;
  recompute_span_ = SlidingRecomputeSpan(c);
  // Proportional RoPE on global layers: llama.cpp reads the divisors from rope_freqs (1 for a
  // rotating pair, 1e30 for a fixed one). Files without the tensor get Gemma 4's default: the
  // first quarter of the pairs rotate.
  const size_t half = static_cast<size_t>(c.head_dim_full / 2);
  s_->rope_freqs.assign(half, 1e30f);
  if (model_.weights.rope_freqs) {
    std::copy_n(model_.weights.rope_freqs, half, s_->rope_freqs.begin());
  } else {
    std::fill_n(s_->rope_freqs.begin(), half / 4, 1.0f);
  }
}

Session::~Session() = default;

void SetRouterGapTraceForTesting(RouterGapTrace* trace) { g_router_trace = trace; }

void Session::Rewind(int64_t pos) {
  if (pos < 0 || pos > pos_) Fail("cannot rewind to position {} (the cache holds {})", pos, pos_);
  pos_ = pos;
  tokens_.resize(static_cast<size_t>(pos));
  RestoreSlidingWindows();
}

void Session::RestoreSlidingWindows() {
  const ModelConfig& c = model_.config;
  bool intact = true;
  for (const LayerConfig& l : c.layers) {
    if (l.OwnsKv() && IsRing(l) &&
        cache_.OldestStored(l.index) > std::max<int64_t>(0, pos_ - l.window + 1)) {
      intact = false;
    }
  }
  if (intact) return;
  const int64_t from = std::max<int64_t>(0, pos_ - recompute_span_);
  for (const LayerConfig& l : c.layers) {
    if (l.OwnsKv() && IsRing(l)) cache_.DiscardBefore(l.index, from);
  }
  const size_t batch = static_cast<size_t>(std::max(1, opt_.batch));
  std::vector<float> no_logits;
  for (int64_t p = from; p < pos_; p += static_cast<int64_t>(batch)) {
    const size_t n = std::min(batch, static_cast<size_t>(pos_ - p));
    const std::span<const int32_t> chunk(tokens_.data() + p, n);
    ForwardChunk(chunk, p, std::vector<bool>(n, false), no_logits, from);
  }
  recomputed_ += pos_ - from;
}

void Session::LoadRandomContextForBenchmark(std::span<const int32_t> tokens) {
  if (pos_ != 0) Fail("LoadRandomContextForBenchmark needs an empty session (it holds {} tokens)", pos_);
  if (static_cast<int64_t>(tokens.size()) > n_ctx_) {
    Fail("context full: {} tokens exceed the context size {}", tokens.size(), n_ctx_);
  }
  cache_.FillRandom(static_cast<int64_t>(tokens.size()), 0x5eed);
  tokens_.assign(tokens.begin(), tokens.end());
  pos_ = static_cast<int64_t>(tokens.size());
}

std::vector<float> Session::ShiftContext(int64_t keep, int64_t n_discard, LogitsMode mode) {
  if (keep < 0 || n_discard < 0 || keep + n_discard > pos_) {
    Fail("cannot drop tokens [{}, {}) from a context of {} tokens", keep, keep + n_discard, pos_);
  }
  const std::vector<int32_t> tail(tokens_.begin() + keep + n_discard, tokens_.end());
  Rewind(keep);
  return Evaluate(tail, mode);
}

std::vector<float> Session::Evaluate(std::span<const int32_t> tokens, LogitsMode mode) {
  const ModelConfig& c = model_.config;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab) {
      Fail("token id {} at index {} is out of range (the vocabulary has {} tokens)", tokens[i], i,
           c.n_vocab);
    }
  }
  if (pos_ + static_cast<int64_t>(tokens.size()) > n_ctx_) {
    Fail("context full: {} tokens in the cache plus {} new exceed the context size {}", pos_,
         tokens.size(), n_ctx_);
  }
  std::vector<float> logits;
  const size_t batch = static_cast<size_t>(std::max(1, opt_.batch));
  const int64_t start_pos = pos_;
  try {
    for (size_t start = 0; start < tokens.size(); start += batch) {
      const size_t n = std::min(batch, tokens.size() - start);
      std::vector<bool> want(n, mode == LogitsMode::kAll);
      if (mode == LogitsMode::kLast && start + n == tokens.size()) want[n - 1] = true;
      ForwardChunk(tokens.subspan(start, n), pos_, want, logits);
      pos_ += static_cast<int64_t>(n);
      tokens_.insert(tokens_.end(), tokens.begin() + static_cast<std::ptrdiff_t>(start),
                     tokens.begin() + static_cast<std::ptrdiff_t>(start + n));
    }
  } catch (const Error&) {
    Rewind(start_pos);  // a later chunk failed (non-finite activations): forget the earlier ones
    throw;
  }
  return logits;
}

void Session::ForwardChunk(std::span<const int32_t> tokens, int64_t start,
                           const std::vector<bool>& want, std::vector<float>& logits,
                           int64_t recompute_from) {
  const bool recompute = recompute_from >= 0;
  const ModelConfig& c = model_.config;
  const ModelWeights& w = model_.weights;
  Scratch& s = *s_;
  const Precision prec = opt_.precision;
  const size_t H = static_cast<size_t>(c.n_embd);
  const size_t P = static_cast<size_t>(c.n_embd_per_layer);
  const size_t L = static_cast<size_t>(c.n_layer);
  const float eps = c.norm_eps;
  size_t rows = tokens.size();

  s.pos.resize(rows);
  std::iota(s.pos.begin(), s.pos.end(), start);
  for (Scratch::Rope& r : s.rope) r.valid = false;
  // The chunk's RoPE angles for a layer's kind, computed on first use.
  auto rope = [&](const LayerConfig& l) -> const RopeTable& {
    Scratch::Rope& r = s.rope[l.sliding ? 0 : 1];
    if (!r.valid) {
      r.table.Build(s.pos.data(), rows, static_cast<size_t>(l.rope_dims), l.rope_base,
                    l.sliding ? nullptr : s.rope_freqs.data());
      r.valid = true;
    }
    return r.table;
  };

  // Embedding: the token's row times sqrt(H).
  s.x.resize(rows * H);
  const float embd_scale = std::sqrt(static_cast<float>(H));
  ForEach(rows, 16, [&](size_t r) {
    float* xr = &s.x[r * H];
    DequantizeRow(w.token_embd.type, w.token_embd.Row(tokens[r]), H, xr);
    for (size_t i = 0; i < H; ++i) xr[i] *= embd_scale;
  });
  CheckFinite(s.x.data(), rows, H, s.pos.data(), model_.file.Path(), "the token embedding");

  // Per-layer embeddings (E-models): token part plus a projection of the scaled embedding.
  if (P > 0) {
    const size_t LP = L * P;
    s.ple.resize(rows * LP);
    MatMul(w.ple_model_proj, s.x.data(), rows, s.ple.data(), prec);
    const float proj_scale = 1.0f / std::sqrt(static_cast<float>(H));
    const float tok_scale = std::sqrt(static_cast<float>(P));
    const float mix_scale = 1.0f / std::sqrt(2.0f);
    ForEach(rows, 4, [&](size_t r) {
      std::vector<float> tok_row(LP);
      float* pr = &s.ple[r * LP];
      for (size_t i = 0; i < LP; ++i) pr[i] *= proj_scale;
      for (size_t l = 0; l < L; ++l) RmsNorm(pr + l * P, w.ple_proj_norm, P, eps, pr + l * P);
      DequantizeRow(w.ple_token_embd.type, w.ple_token_embd.Row(tokens[r]), LP, tok_row.data());
      for (size_t i = 0; i < LP; ++i) pr[i] = (pr[i] + tok_row[i] * tok_scale) * mix_scale;
    });
  }

  std::vector<size_t> wanted;
  for (size_t r = 0; r < rows; ++r) {
    if (want[r]) wanted.push_back(r);
  }
  const int last_kv = LastKvLayer(c);
  const int last_sliding_kv = LastSlidingKvLayer(c);

  for (const LayerConfig& l : c.layers) {
    const LayerWeights& lw = w.layers[l.index];
    const size_t d = static_cast<size_t>(l.head_dim);
    const size_t q_dim = static_cast<size_t>(l.QDim());
    const size_t kv_dim = static_cast<size_t>(l.KvDim());

    // ---- attention ------------------------------------------------------------------------
    s.xn = s.x;
    RmsNormRows(s.xn.data(), lw.attn_norm, rows, H, eps);

    // While recomputing rings, global caches are intact: only sliding layers write.
    if (l.OwnsKv() && (!recompute || IsRing(l))) {
      s.k.resize(rows * kv_dim);
      s.v.resize(rows * kv_dim);
      MatMul(lw.attn_k, s.xn.data(), rows, s.k.data(), prec);
      if (l.has_v) {
        MatMul(lw.attn_v, s.xn.data(), rows, s.v.data(), prec);
      } else {
        s.v = s.k;  // V is the raw K projection (before K's norm and RoPE)
      }
      // K: per-head RMSNorm with weight, then RoPE; V: weight-less RMSNorm. In place.
      const RopeTable& angles = rope(l);
      const size_t kv_heads = static_cast<size_t>(l.n_kv_head);
      ForEach(rows * kv_heads, 64, [&](size_t i) {
        const size_t r = i / kv_heads, h = i % kv_heads;
        float* kh = &s.k[r * kv_dim + h * d];
        float* vh = &s.v[r * kv_dim + h * d];
        RmsNorm(kh, lw.attn_k_norm, d, eps, kh);
        angles.Apply(r, kh, d);
        RmsNorm(vh, nullptr, d, eps, vh);
      });
      // Checked before they enter the cache: attention's max and clamps would hide a nan.
      CheckFinite(s.k.data(), rows, kv_dim, s.pos.data(), model_.file.Path(), "the keys", l.index);
      CheckFinite(s.v.data(), rows, kv_dim, s.pos.data(), model_.file.Path(), "the values", l.index);
      cache_.Write(l.index, s.pos.data(), rows, s.k.data(), s.v.data(), kv_dim);
    }
    if (recompute && l.index == last_sliding_kv) return;  // nothing later feeds a ring

    // Past the last cache-writing layer only the rows whose logits are wanted matter.
    if (l.index == last_kv && wanted.size() < rows) {
      if (wanted.empty()) return;
      KeepRows(s.x, H, wanted);
      KeepRows(s.xn, H, wanted);
      if (P > 0) KeepRows(s.ple, L * P, wanted);
      for (size_t i = 0; i < wanted.size(); ++i) s.pos[i] = s.pos[wanted[i]];
      rows = wanted.size();
      for (size_t i = 0; i < rows; ++i) wanted[i] = i;
      for (Scratch::Rope& r : s.rope) r.valid = false;  // positions changed
    }

    s.q.resize(rows * q_dim);
    MatMul(lw.attn_q, s.xn.data(), rows, s.q.data(), prec);
    {
      const RopeTable& angles = rope(l);
      const size_t heads = static_cast<size_t>(l.n_head);
      ForEach(rows * heads, 64, [&](size_t i) {
        float* qh = &s.q[i * d];  // row i / heads, head i % heads
        RmsNorm(qh, lw.attn_q_norm, d, eps, qh);
        angles.Apply(i / heads, qh, d);
      });
    }
    CheckFinite(s.q.data(), rows, q_dim, s.pos.data(), model_.file.Path(), "the queries", l.index);

    const AttentionShape shape{l.n_head, l.n_kv_head, l.head_dim, l.window};
    KvView kv = cache_.View(l.index);
    if (recompute && IsRing(l)) kv.min_pos = recompute_from;  // the ring lost what lies before
    s.attn.resize(rows * q_dim);
    Attention(shape, s.q.data(), s.pos.data(), rows, kv, s.attn.data());
    s.o.resize(rows * H);
    MatMul(lw.attn_output, s.attn.data(), rows, s.o.data(), prec);
    RmsNormRows(s.o.data(), lw.post_attention_norm, rows, H, eps);
    AddRows(s.x.data(), s.o.data(), rows * H);

    // ---- feed-forward ---------------------------------------------------------------------
    const size_t F = static_cast<size_t>(l.ffn_dim);
    s.xn = s.x;
    RmsNormRows(s.xn.data(), lw.ffn_norm, rows, H, eps);
    s.ffn.resize(rows * F);
    GeGLU(lw.ffn_gate, lw.ffn_up, s.xn.data(), rows, s.ffn.data(), prec);
    s.m.resize(rows * H);
    MatMul(lw.ffn_down, s.ffn.data(), rows, s.m.data(), prec);

    if (l.moe) {
      // Dense ("shared expert") branch gets its own post-norm; the routed experts are added.
      RmsNormRows(s.m.data(), lw.post_ffw_norm_1, rows, H, eps);

      // Router on the post-attention residual: rms(x) / sqrt(H) * scale, softmax, top-k,
      // renormalised, times the per-expert scale.
      const size_t E = static_cast<size_t>(c.n_expert);
      const size_t K = static_cast<size_t>(c.n_expert_used);
      s.xn = s.x;
      const float inv_sqrt_h = 1.0f / std::sqrt(static_cast<float>(H));
      for (size_t r = 0; r < rows; ++r) {
        float* zr = &s.xn[r * H];
        RmsNorm(zr, nullptr, H, eps, zr);
        for (size_t i = 0; i < H; ++i) zr[i] *= inv_sqrt_h * lw.router_scale[i];
      }
      s.router.resize(rows * E);
      MatMul(lw.router, s.xn.data(), rows, s.router.data(), prec);

      std::vector<std::vector<std::pair<size_t, float>>> by_expert(E);  // (row, weight)
      std::vector<size_t> order(E);
      for (size_t r = 0; r < rows; ++r) {
        float* pr = &s.router[r * E];
        Softmax(pr, E);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + K, order.end(),
                          [&](size_t a, size_t b) { return pr[a] > pr[b] || (pr[a] == pr[b] && a < b); });
        if (RouterGapTrace* trace = g_router_trace.load(std::memory_order_relaxed); trace && K < E) {
          float runner_up = 0.0f;
          for (size_t k = K; k < E; ++k) runner_up = std::max(runner_up, pr[order[k]]);
          trace->emplace_back(s.pos[r], pr[order[K - 1]] - runner_up);
        }
        float sum = 0.0f;
        for (size_t k = 0; k < K; ++k) sum += pr[order[k]];
        sum = std::max(sum, 6.103515625e-5f);
        for (size_t k = 0; k < K; ++k) {
          const size_t e = order[k];
          const float scale = lw.expert_scale ? lw.expert_scale[e] : 1.0f;
          by_expert[e].emplace_back(r, pr[e] / sum * scale);
        }
      }

      s.xn = s.x;
      RmsNormRows(s.xn.data(), lw.pre_ffw_norm_2, rows, H, eps);
      s.m2.assign(rows * H, 0.0f);
      const size_t Fe = static_cast<size_t>(c.expert_ffn_dim);
      std::vector<float> in, hidden, out;
      for (size_t e = 0; e < E; ++e) {
        const auto& sel = by_expert[e];
        if (sel.empty()) continue;  // only the selected experts are computed
        in.resize(sel.size() * H);
        for (size_t i = 0; i < sel.size(); ++i) {
          std::copy_n(&s.xn[sel[i].first * H], H, &in[i * H]);
        }
        hidden.resize(sel.size() * Fe);
        GeGLU(lw.experts.Gate(static_cast<int>(e)), lw.experts.Up(static_cast<int>(e)), in.data(),
              sel.size(), hidden.data(), prec);
        out.resize(sel.size() * H);
        MatMul(lw.experts.Down(static_cast<int>(e)), hidden.data(), sel.size(), out.data(), prec);
        for (size_t i = 0; i < sel.size(); ++i) {
          float* dst = &s.m2[sel[i].first * H];
          for (size_t j = 0; j < H; ++j) dst[j] += sel[i].second * out[i * H + j];
        }
      }
      RmsNormRows(s.m2.data(), lw.post_ffw_norm_2, rows, H, eps);
      AddRows(s.m.data(), s.m2.data(), rows * H);
    }
    RmsNormRows(s.m.data(), lw.post_ffw_norm, rows, H, eps);
    AddRows(s.x.data(), s.m.data(), rows * H);

    // ---- per-layer embedding injection (E-models) -----------------------------------------
    if (P > 0) {
      auto gelu = prec == Precision::kExact ? GeluForExactPath : static_cast<float (*)(float)>(GeluTanh);
      s.gate.resize(rows * P);
      MatMul(lw.ple_gate, s.x.data(), rows, s.gate.data(), prec);
      for (size_t r = 0; r < rows; ++r) {
        float* g = &s.gate[r * P];
        const float* ple = &s.ple[r * L * P + static_cast<size_t>(l.index) * P];
        for (size_t i = 0; i < P; ++i) g[i] = gelu(g[i]) * ple[i];
      }
      MatMul(lw.ple_proj, s.gate.data(), rows, s.o.data(), prec);
      RmsNormRows(s.o.data(), lw.ple_post_norm, rows, H, eps);
      AddRows(s.x.data(), s.o.data(), rows * H);
    }

    if (lw.output_scale != 1.0f) {
      for (size_t i = 0; i < rows * H; ++i) s.x[i] *= lw.output_scale;
    }
    CheckFinite(s.x.data(), rows, H, s.pos.data(), model_.file.Path(), "", l.index);
  }

  // ---- output: final norm, tied LM head, softcap (only the wanted rows remain) --------------
  const size_t V = static_cast<size_t>(c.n_vocab);
  RmsNormRows(s.x.data(), w.output_norm, rows, H, eps);
  const size_t first = logits.size();
  logits.resize(first + rows * V);
  MatMul(w.output, s.x.data(), rows, logits.data() + first, prec);
  if (c.final_softcap > 0) Softcap(logits.data() + first, rows * V, c.final_softcap);
  CheckFinite(logits.data() + first, rows, V, s.pos.data(), model_.file.Path(), "the output head");
}

}  // namespace gemma
