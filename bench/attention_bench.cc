// attention-bench: the attention kernel alone, on Gemma 4 shapes with a KV cache of random
// (unit-RMS) rows, so the cost of attention at depth can be measured without the matmuls.
//
//   attention-bench [--shape e2b|e4b|26b|31b] [--depths 4096,32768,131072] [--prompt 16384]
//                   [--batch 512] [--cache-type f16] [-t THREADS] [-r REPS] [--cpu-time]
//
// decode @ D: one query at position D against D + 1 cached positions in every attention layer
// of the model (each cache-owning layer has its own store; KV-shared layers reuse one), in
// layer order; per-layer times are the last run's averages, model ms/token the median.
// prefill N: the N-token prompt in chunks of --batch tokens (each chunk attends over everything
// before it and itself), weighted the same way. Medians over REPS runs.
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "kernels/kv_format.h"

namespace {

using namespace gemma;

struct ModelShape {
  const char* name;
  int n_head, kv_sliding, kv_global, dim_sliding, dim_global, window;
  int n_sliding, n_global;                // attention layers of each kind (KV-shared ones too)
  int n_sliding_caches, n_global_caches;  // layers that own a cache
};

constexpr ModelShape kShapes[] = {
    {"e2b", 8, 1, 1, 256, 512, 512, 28, 7, 12, 3},
    {"e4b", 8, 2, 2, 256, 512, 512, 35, 7, 20, 4},
    {"26b", 16, 8, 2, 256, 512, 1024, 25, 5, 25, 5},
    {"31b", 32, 16, 4, 256, 512, 1024, 50, 10, 50, 10},
};

// A KV store of `slots` slots with positions [0, end) written (the last `slots` in a ring).
struct Store {
  std::vector<uint8_t> k, v;
  KvView view;
  Store(KvType type, int kv_heads, int dim, int64_t slots, int64_t end) {
    const size_t head_bytes = KvRowBytes(type, static_cast<size_t>(dim));
    const size_t slot_bytes = head_bytes * static_cast<size_t>(kv_heads);
    const size_t n = static_cast<size_t>(std::min(slots, end));
    k.resize(n * slot_bytes);
    v.resize(n * slot_bytes);
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(kv_heads * dim) * 64);
    for (float& x : row) x = normal(rng);
    // Rows cycle through 64 random ones: the values do not matter for speed, memory does.
    const size_t row_floats = static_cast<size_t>(kv_heads * dim);
    for (size_t s = 0; s < n; ++s) {
      EncodeKvRow(type, &row[(s % 64) * row_floats], row_floats, &k[s * slot_bytes]);
      EncodeKvRow(type, &row[((s + 17) % 64) * row_floats], row_floats, &v[s * slot_bytes]);
    }
    view.k = KvStore{type, k.data(), slot_bytes, head_bytes, slots};
    view.v = KvStore{type, v.data(), slot_bytes, head_bytes, slots};
  }
};

// Wall time, or with --cpu-time the process CPU time (with one thread: the time the work took
// on the CPU, much less disturbed than wall time when other processes share the cores).
bool g_cpu_time = false;

double Now() {
  if (!g_cpu_time) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <typename Fn>
double MedianSeconds(int reps, Fn&& fn) {
  fn();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = Now();
    fn();
    t.push_back(Now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Peak fp32 FMA rate right now (16 independent AVX-512 FMA chains): on this shared VM it swings
// from ~270 GFLOP/s (a quiet core) to a fifth of that, so results are printed next to it.
#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx512f"))) double FmaPeakGflops() {
  float init[16][16], mul[16], add[16];
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 16; ++j) init[i][j] = 1.0f + static_cast<float>(i) * 1e-7f;
    mul[i] = 0.9999999f;
    add[i] = 1e-7f;
  }
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_loadu_ps(init[i]);
  const __m512 b = _mm512_loadu_ps(mul), c = _mm512_loadu_ps(add);
  const long n = 20000000;
  const double t0 = Now();
  for (long i = 0; i < n; ++i) {
    for (int k = 0; k < 16; ++k) acc[k] = _mm512_fmadd_ps(acc[k], b, c);
  }
  const double t = Now() - t0;
  float sink = 0.0f, lanes[16];
  for (int k = 0; k < 16; ++k) {
    _mm512_storeu_ps(lanes, acc[k]);
    sink += lanes[0];
  }
  if (sink == 0.0f) std::printf(" ");
  return static_cast<double>(n) * 16 * 32 / t / 1e9;
}
#endif
double CalibrationGflops() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return FmaPeakGflops();
#endif
  return 0.0;
}

std::vector<int64_t> ParseList(const std::string& s) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    out.push_back(std::stoll(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape_name = "e2b";
  std::vector<int64_t> depths = {4096, 32768, 131072};
  int64_t prompt = 16384, batch = 512;
  KvType type = KvType::kF16;
  int threads = static_cast<int>(tbb::info::default_concurrency()), reps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--shape") shape_name = value();
    else if (a == "--depths") depths = ParseList(value());
    else if (a == "--prompt") prompt = std::stoll(value());
    else if (a == "--batch") batch = std::stoll(value());
    else if (a == "--cache-type") {
      const auto t = ParseKvType(value());
      if (!t) {
        fmt::print(stderr, "--cache-type: f16, bf16, f32 or q8_0\n");
        return 2;
      }
      type = *t;
    } else if (a == "-t") threads = std::stoi(value());
    else if (a == "-r") reps = std::stoi(value());
    else if (a == "--cpu-time") g_cpu_time = true;
    else {
      fmt::print(stderr, "usage: attention-bench [--shape e2b|e4b|26b|31b] [--depths LIST] [--prompt N] "
                         "[--batch N] [--cache-type T] [-t N] [-r N] [--cpu-time]\n");
      return 2;
    }
  }
  const ModelShape* shape = nullptr;
  for (const ModelShape& s : kShapes) {
    if (shape_name == s.name) shape = &s;
  }
  if (!shape) {
    fmt::print(stderr, "unknown shape {}\n", shape_name);
    return 2;
  }
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads));
  fmt::print("# attention-bench: {} shapes, {} cache, {} threads, target {}, median of {} ({} time); "
             "1-thread FMA peak now {:.0f} GFLOP/s (quiet: ~270)\n",
             shape->name, KvTypeName(type), threads, AttentionTarget(), reps, g_cpu_time ? "CPU" : "wall",
             CalibrationGflops());
  const AttentionShape global{shape->n_head, shape->kv_global, shape->dim_global, 0};
  const AttentionShape sliding{shape->n_head, shape->kv_sliding, shape->dim_sliding, shape->window};
  const int64_t ring = (shape->window - 1 + batch + 512 + 255) / 256 * 256;  // as the session sizes it
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.15f);  // scores of std ~3 (speed does not depend on it)

  fmt::print("| test | global layer ms | sliding layer ms | model ms/token | KV GB/s |\n| --- | ---: | ---: | ---: | ---: |\n");
  for (int64_t depth : depths) {
    // One store per cache-owning layer, visited in the model's layer order (sliding layers
    // between globals), so that nothing stays in L3 that would not in the real model.
    std::vector<std::unique_ptr<Store>> gs, ss;
    for (int i = 0; i < shape->n_global_caches; ++i) {
      gs.push_back(std::make_unique<Store>(type, global.n_kv_head, global.head_dim, depth + 1, depth + 1));
    }
    for (int i = 0; i < shape->n_sliding_caches; ++i) {
      ss.push_back(std::make_unique<Store>(type, sliding.n_kv_head, sliding.head_dim, ring, depth + 1));
    }
    std::vector<float> qg(static_cast<size_t>(global.n_head * global.head_dim)), og(qg.size());
    std::vector<float> qs(static_cast<size_t>(sliding.n_head * sliding.head_dim)), os(qs.size());
    for (float& x : qg) x = normal(rng);
    for (float& x : qs) x = normal(rng);
    const int64_t pos = depth;
    double t_global = 0, t_sliding = 0;
    const int per_group = shape->n_sliding / shape->n_global;
    const double per_token = MedianSeconds(reps, [&] {
      int gi = 0, si = 0;
      t_global = t_sliding = 0;
      for (int g = 0; g < shape->n_global; ++g) {
        const double t0 = Now();
        for (int k = 0; k < per_group; ++k, ++si) {
          Attention(sliding, qs.data(), &pos, 1, ss[static_cast<size_t>(si % shape->n_sliding_caches)]->view, os.data());
        }
        const double t1 = Now();
        Attention(global, qg.data(), &pos, 1, gs[static_cast<size_t>(gi++ % shape->n_global_caches)]->view, og.data());
        t_sliding += t1 - t0;
        t_global += Now() - t1;
      }
    });
    const double tg = t_global / shape->n_global, ts = t_sliding / shape->n_sliding;
    // Bytes of K and V read by one global layer (the dominant term at depth).
    const double bytes = 2.0 * static_cast<double>(depth + 1) * global.n_kv_head *
                         static_cast<double>(KvRowBytes(type, static_cast<size_t>(global.head_dim)));
    fmt::print("| decode @ d{} | {:.3f} | {:.3f} | {:.2f} | {:.1f} |\n", depth, tg * 1e3, ts * 1e3,
               per_token * 1e3, bytes / tg / 1e9);
  }

  if (prompt > 0) {
    const Store g(type, global.n_kv_head, global.head_dim, prompt, prompt);
    const Store s(type, sliding.n_kv_head, sliding.head_dim, std::max(ring, prompt), prompt);
    auto run_prompt = [&](const AttentionShape& sh, const KvView& view) {
      const size_t width = static_cast<size_t>(sh.n_head * sh.head_dim);
      std::vector<float> q(static_cast<size_t>(batch) * width), out(q.size());
      for (float& x : q) x = normal(rng);
      std::vector<int64_t> pos(static_cast<size_t>(batch));
      return MedianSeconds(std::max(1, reps / 2), [&] {
        for (int64_t start = 0; start < prompt; start += batch) {
          const int64_t n = std::min(batch, prompt - start);
          std::iota(pos.begin(), pos.begin() + n, start);
          Attention(sh, q.data(), pos.data(), static_cast<size_t>(n), view, out.data());
        }
      });
    };
    const double tg = run_prompt(global, g.view);
    const double ts = run_prompt(sliding, s.view);
    const double total = shape->n_global * tg + shape->n_sliding * ts;
    // Useful flops of causal attention (2 for QK, 2 for PV per visible pair and dim).
    const double np = static_cast<double>(prompt);
    const double flops_g = 4.0 * global.n_head * global.head_dim * np * (np + 1) / 2;
    double pairs_s = 0;
    for (int64_t p = 0; p < prompt; ++p) pairs_s += static_cast<double>(std::min<int64_t>(p + 1, sliding.window));
    const double flops_s = 4.0 * sliding.n_head * sliding.head_dim * pairs_s;
    fmt::print("| prefill {} (chunks of {}) | {:.1f} | {:.1f} | {:.2f} s total, {:.1f} GFLOP/s global, {:.1f} sliding | |\n",
               prompt, batch, tg * 1e3, ts * 1e3, total, flops_g / tg / 1e9, flops_s / ts / 1e9);
  }
  return 0;
}
