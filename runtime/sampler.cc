#include "runtime/sampler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/error.h"
#include "runtime/gguf.h"

namespace gemma {

namespace {

// Better candidate first: higher logit, then lower id (so ties are broken the same way on every
// platform and in every stage).
struct Better {
  template <typename E>
  bool operator()(const E& a, const E& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};

// A value from the file, checked against [lo, hi] here: a cast of an out-of-range double to int
// is undefined (top_k = 1e30 became INT_MIN), and Validate() would blame a flag the user never
// gave ("--top-k must be >= 0").
double ReadNumber(const GgufFile& file, const char* key, double fallback, double lo, double hi) {
  const GgufValue* v = file.Find(key);
  if (!v) return fallback;
  if (!v->IsInteger() && !v->IsFloat()) {
    Fail("{}: {} should be a number, found {}", file.Path(), key, GgufTypeName(v->type));
  }
  const double d = v->type == GgufType::U64 ? static_cast<double>(v->AsUInt()) : v->AsDouble();
  if (!(d >= lo && d <= hi)) {
    Fail("{}: {} is {}, expected a number in [{}, {}]", file.Path(), key, d, lo, hi);
  }
  return d;
}

}  // namespace

SamplerParams SamplerParams::FromGguf(const GgufFile& file) {
  SamplerParams p;
  constexpr double kIntMax = std::numeric_limits<int32_t>::max();
  constexpr double kLarge = 1e9;  // far above any sensible temperature or penalty
  p.temp = static_cast<float>(ReadNumber(file, "general.sampling.temp", p.temp, 0, kLarge));
  p.top_k = static_cast<int>(ReadNumber(file, "general.sampling.top_k", p.top_k, 0, kIntMax));
  p.top_p = static_cast<float>(ReadNumber(file, "general.sampling.top_p", p.top_p, 0, 1));
  p.min_p = static_cast<float>(ReadNumber(file, "general.sampling.min_p", p.min_p, 0, 1));
  p.repeat_penalty = static_cast<float>(ReadNumber(file, "general.sampling.penalty_repeat",
                                                   p.repeat_penalty, 1e-6, kLarge));
  p.repeat_last_n = static_cast<int>(
      ReadNumber(file, "general.sampling.penalty_last_n", p.repeat_last_n, 0, kIntMax));
  return p;
}

void SamplerParams::Validate() const {
  if (!std::isfinite(temp) || temp < 0.0f) Fail("--temp must be >= 0, got {}", temp);
  if (top_k < 0) Fail("--top-k must be >= 0 (0: off), got {}", top_k);
  if (!(top_p >= 0.0f && top_p <= 1.0f)) Fail("--top-p must be in [0, 1], got {}", top_p);
  if (!(min_p >= 0.0f && min_p <= 1.0f)) Fail("--min-p must be in [0, 1], got {}", min_p);
  if (!std::isfinite(repeat_penalty) || repeat_penalty <= 0.0f) {
    Fail("--repeat-penalty must be > 0, got {}", repeat_penalty);
  }
  if (repeat_last_n < 0) Fail("--repeat-last-n must be >= 0, got {}", repeat_last_n);
}

std::string SamplerParams::ToString() const {
  return fmt::format("temp {} top-k {} top-p {} min-p {} repeat-penalty {} (last {}) seed {}",
                     temp, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed);
}

void ApplyRepeatPenalty(std::span<float> logits, std::span<const int32_t> recent, float penalty) {
  std::vector<int32_t> seen(recent.begin(), recent.end());
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  for (int32_t id : seen) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size()) continue;
    float& l = logits[static_cast<size_t>(id)];
    l = l > 0.0f ? l / penalty : l * penalty;
  }
}

Sampler::Sampler(const SamplerParams& params) { SetParams(params); }

void Sampler::SetParams(const SamplerParams& params) {
  params.Validate();
  params_ = params;
  Reseed(params.seed);
}

void Sampler::Reseed(uint64_t seed) {
  params_.seed = seed;
  rng_.seed(seed);
}

double Sampler::Uniform() {
  // 53 random bits: the same value on every standard library, unlike
  // std::uniform_real_distribution, whose algorithm is implementation-defined.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

std::span<const float> Sampler::Penalised(std::span<const float> logits,
                                          std::span<const int32_t> recent) {
  if (params_.repeat_penalty == 1.0f || params_.repeat_last_n <= 0 || recent.empty()) return logits;
  const size_t n = std::min(recent.size(), static_cast<size_t>(params_.repeat_last_n));
  penalised_.assign(logits.begin(), logits.end());
  ApplyRepeatPenalty(penalised_, recent.last(n), params_.repeat_penalty);
  return penalised_;
}

void Sampler::TopK(std::span<const float> logits, size_t k) {
  // A heap whose front is the worst of the best k seen so far: one comparison per logit for the
  // vast majority that do not make it.
  entries_.clear();
  entries_.reserve(k + 1);
  const Better better;
  for (size_t i = 0; i < logits.size(); ++i) {
    const Entry e{logits[i], static_cast<int32_t>(i)};
    if (entries_.size() < k) {
      entries_.push_back(e);
      std::push_heap(entries_.begin(), entries_.end(), better);
    } else if (better(e, entries_.front())) {
      std::pop_heap(entries_.begin(), entries_.end(), better);
      entries_.back() = e;
      std::push_heap(entries_.begin(), entries_.end(), better);
    }
  }
  SortEntries();
}

void Sampler::SortEntries() { std::sort(entries_.begin(), entries_.end(), Better()); }

void Sampler::TopPAll(std::span<const float> logits) {
  entries_.resize(logits.size());
  float max = -INFINITY;
  for (size_t i = 0; i < logits.size(); ++i) {
    entries_[i] = {logits[i], static_cast<int32_t>(i)};
    max = std::max(max, logits[i]);
  }
  double z = 0.0;
  for (float l : logits) z += std::exp(static_cast<double>(l - max));
  // Sort only the head of the distribution, growing it until it holds mass p: for a peaked
  // model row the first 64 candidates nearly always do.
  const double target = static_cast<double>(params_.top_p) * z;
  double cum = 0.0;
  size_t sorted = 0, step = 64;
  const Better better;
  while (sorted < entries_.size()) {
    const size_t end = std::min(entries_.size(), sorted + step);
    std::nth_element(entries_.begin() + static_cast<ptrdiff_t>(sorted),
                     entries_.begin() + static_cast<ptrdiff_t>(end - 1), entries_.end(), better);
    std::sort(entries_.begin() + static_cast<ptrdiff_t>(sorted),
              entries_.begin() + static_cast<ptrdiff_t>(end), better);
    for (size_t i = sorted; i < end; ++i) {
      cum += std::exp(static_cast<double>(entries_[i].logit - max));
      if (cum >= target) {
        entries_.resize(i + 1);
        return;
      }
    }
    sorted = end;
    step *= 8;
  }
}

std::vector<TokenProb> Sampler::Candidates(std::span<const float> logits,
                                           std::span<const int32_t> recent) {
  return Select(logits, recent, /*sorted=*/true);
}

std::vector<TokenProb> Sampler::Select(std::span<const float> logits,
                                       std::span<const int32_t> recent, bool sorted) {
  if (logits.empty()) Fail("sampler: empty logits row");
  const std::span<const float> row = Penalised(logits, recent);

  if (params_.temp <= 0.0f) {
    const size_t best = static_cast<size_t>(std::max_element(row.begin(), row.end()) - row.begin());
    return {{static_cast<int32_t>(best), 1.0f}};
  }

  // Truncation, on the model's distribution (temperature 1). Each stage keeps a prefix of the
  // candidates sorted best first, so they are applied as successive cuts of one sorted list.
  const bool top_k = params_.top_k > 0 && static_cast<size_t>(params_.top_k) < row.size();
  if (top_k) {
    TopK(row, static_cast<size_t>(params_.top_k));
  } else if (params_.top_p < 1.0f) {
    TopPAll(row);  // already cut at p (its normaliser is the whole row, as without top-k)
  } else {
    // Neither top-k nor top-p: min-p (if any) is a threshold, so filter before sorting.
    const float max = *std::max_element(row.begin(), row.end());
    const float floor = params_.min_p > 0.0f ? max + std::log(params_.min_p) : -INFINITY;
    entries_.clear();
    for (size_t i = 0; i < row.size(); ++i) {
      if (row[i] >= floor) entries_.push_back({row[i], static_cast<int32_t>(i)});
    }
    // Drawing does not need the order; only the full-vocabulary case is worth skipping it for.
    if (sorted || params_.min_p > 0.0f) SortEntries();
    else std::iter_swap(entries_.begin(), std::max_element(entries_.begin(), entries_.end(),
                                                           [](const Entry& a, const Entry& b) {
                                                             return Better()(b, a);
                                                           }));
  }
  const float max = entries_.front().logit;
  if (top_k && params_.top_p < 1.0f) {
    double z = 0.0;
    for (const Entry& e : entries_) z += std::exp(static_cast<double>(e.logit - max));
    const double target = static_cast<double>(params_.top_p) * z;
    double cum = 0.0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      cum += std::exp(static_cast<double>(entries_[i].logit - max));
      if (cum >= target) {
        entries_.resize(i + 1);
        break;
      }
    }
  }
  if (params_.min_p > 0.0f) {
    // p_i >= min_p * p_max  <=>  logit_i >= logit_max + log(min_p): no normaliser needed.
    const float floor = max + std::log(params_.min_p);
    size_t keep = 1;
    while (keep < entries_.size() && entries_[keep].logit >= floor) ++keep;
    entries_.resize(keep);
  }

  // Temperature reshapes what survived.
  std::vector<TokenProb> out(entries_.size());
  double z = 0.0;
  const double inv_t = 1.0 / static_cast<double>(params_.temp);
  std::vector<double> w(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    w[i] = std::exp(static_cast<double>(entries_[i].logit - max) * inv_t);
    z += w[i];
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    out[i] = {entries_[i].id, static_cast<float>(w[i] / z)};
  }
  return out;
}

int32_t Sampler::Sample(std::span<const float> logits, std::span<const int32_t> recent) {
  const std::vector<TokenProb> c = Select(logits, recent, /*sorted=*/false);
  if (c.size() == 1) return c[0].id;
  double u = Uniform();
  for (const TokenProb& t : c) {
    u -= static_cast<double>(t.p);
    if (u < 0.0) return t.id;
  }
  return c.back().id;  // rounding: the probabilities summed to slightly under 1
}

}  // namespace gemma
