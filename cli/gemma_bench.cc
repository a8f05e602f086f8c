// gemma-bench: prompt-processing and generation speed, in the style of llama-bench.
//
//   gemma-bench -m FILE [-p 512] [-n 128] [-t 1,2] [-r 5] [-d 0] [-o md|json]
//
// pp N: one batch of N prompt tokens (logits of the last only); tg N: N single-token decode
// steps. Each test runs at a context depth d (d tokens already in the cache, not timed), after one
// untimed warm-up run. Tokens are random ids, as in llama-bench. Results go to stdout.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <algorithm>
#include <time.h>

#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/parallel.h"
#include "runtime/error.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace {

constexpr const char* kUsage = R"(usage: gemma-bench -m FILE [options]
  -m, --model FILE        model (GGUF)
  -p, --n-prompt LIST     prompt sizes to test, comma-separated (default 512; 0 skips)
  -n, --n-gen LIST        generation lengths to test (default 128; 0 skips)
  -t, --threads LIST      thread counts (default: all cores)
  -r, --repetitions N     timed runs per test (default 5)
  -d, --n-depth LIST      context depths: tokens already in the cache (default 0)
  -o, --output FORMAT     md (default) or json
  --precision MODE        fast (default) or exact
  --cache-type T          KV cache type: f16 (default), bf16, f32 or q8_0
  --mmap                  compute from the file mapping (no huge-page copy of the weights)
  --cpu-time              time runs by the process's CPU time instead of the wall clock (use
                          with -t 1 on a machine shared with other work)
  --depth-fill MODE       prefill (default): the depth's tokens are evaluated; random: the
                          cache is filled with random K/V instead (decode/prefill cost at depth
                          without the prefill; the logits are meaningless)
)";

std::vector<int> ParseList(const std::string& flag, const std::string& s) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (...) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 0 || v > (1 << 24)) {
      gemma::Fail("{}: '{}' is not a non-negative integer", flag, item);
    }
    out.push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  return out;
}

struct Result {
  std::string test;  // "pp512", "tg128", with " @ d4096" when at depth
  int threads = 0;
  int n_tokens = 0;
  int depth = 0;
  std::vector<double> tps;  // tokens per second of each timed run
  double Mean() const {
    double s = 0;
    for (double v : tps) s += v;
    return s / static_cast<double>(tps.size());
  }
  double Sd() const {
    if (tps.size() < 2) return 0.0;
    const double m = Mean();
    double s = 0;
    for (double v : tps) s += (v - m) * (v - m);
    return std::sqrt(s / static_cast<double>(tps.size() - 1));
  }
};

// Wall-clock seconds, or with --cpu-time the process's CPU time: with one thread, the time the
// work took on the CPU, far less disturbed than the wall clock when other processes compete.
double Seconds(bool cpu_time) {
  if (!cpu_time) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string HumanSize(uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1ull << 30));
  return fmt::format("{:.2f} MiB", static_cast<double>(bytes) / (1ull << 20));
}

std::string HumanParams(uint64_t n) {
  if (n >= 1000000000ull) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
  return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
}

// The file's quantization as llama-bench names it: general.file_type (llama_ftype) when it is
// one gemma-run computes with, else the weight type that holds most of the model's bytes.
// (Q4_K_M files hold most bytes in Q6_K: the per-layer embedding table.)
std::string MainType(const gemma::GgufFile& f) {
  if (const gemma::GgufValue* ft = f.Find("general.file_type"); ft && ft->IsInteger()) {
    switch (ft->AsInt()) {
      case 0: return "F32";
      case 1: return "F16";
      case 2: return "Q4_0";
      case 7: return "Q8_0";
      case 14: return "Q4_K_S";
      case 15: return "Q4_K_M";
      case 16: return "Q5_K_S";
      case 17: return "Q5_K_M";
      case 18: return "Q6_K";
      case 32: return "BF16";
      default: break;
    }
  }
  std::vector<std::pair<uint64_t, std::string>> by;
  for (const gemma::GgufTensor& t : f.Tensors()) {
    const std::string name(gemma::TypeName(t.type));
    auto it = std::find_if(by.begin(), by.end(), [&](auto& e) { return e.second == name; });
    if (it == by.end()) by.emplace_back(t.n_bytes, name);
    else it->first += t.n_bytes;
  }
  std::sort(by.rbegin(), by.rend());
  return by.empty() ? "?" : by[0].second;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string model_path, output = "md";
    std::vector<int> prompts = {512}, gens = {128}, depths = {0};
    std::vector<int> threads = {static_cast<int>(tbb::info::default_concurrency())};
    int reps = 5;
    gemma::Precision precision = gemma::Precision::kFast;
    gemma::KvType cache_type = gemma::KvType::kF16;
    bool random_depth = false, cpu_time = false;
    gemma::LoadOptions load;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) gemma::Fail("{} needs a value", a);
        return argv[++i];
      };
      if (a == "-h" || a == "--help") {
        fmt::print("{}", kUsage);
        return 0;
      } else if (a == "-m" || a == "--model") model_path = value();
      else if (a == "-p" || a == "--n-prompt") prompts = ParseList(a, value());
      else if (a == "-n" || a == "--n-gen") gens = ParseList(a, value());
      else if (a == "-t" || a == "--threads") threads = ParseList(a, value());
      else if (a == "-d" || a == "--n-depth") depths = ParseList(a, value());
      else if (a == "-r" || a == "--repetitions") reps = std::max(1, ParseList(a, value())[0]);
      else if (a == "-o" || a == "--output") {
        output = value();
        if (output != "md" && output != "json") gemma::Fail("-o: expected md or json");
      } else if (a == "--mmap") {
        load.huge_pages = false;
      } else if (a == "--cpu-time") {
        cpu_time = true;
      } else if (a == "--depth-fill") {
        const std::string m = value();
        if (m == "random") random_depth = true;
        else if (m != "prefill") gemma::Fail("--depth-fill: expected prefill or random");
      } else if (a == "--cache-type") {
        const std::string t = value();
        const auto type = gemma::ParseKvType(t);
        if (!type) gemma::Fail("--cache-type: expected f16, bf16, f32 or q8_0, got '{}'", t);
        cache_type = *type;
      } else if (a == "--precision") {
        const std::string p = value();
        if (p == "exact") precision = gemma::Precision::kExact;
        else if (p != "fast") gemma::Fail("--precision: expected exact or fast");
      } else {
        gemma::Fail("unknown argument '{}' (see gemma-bench --help)", a);
      }
    }
    if (model_path.empty()) gemma::Fail("no model given: use -m FILE.gguf");
    for (int t : threads) {
      if (t < 1) gemma::Fail("-t: thread counts must be at least 1");
    }

    const auto load_start = std::chrono::steady_clock::now();
    const gemma::Model model = gemma::Model::Load(model_path, load);
    fmt::print(stderr, "loaded in {:.2f} s; {:.2f} GiB of weights in huge pages{}\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count(),
               static_cast<double>(model.huge_page_bytes) / (1ull << 30),
               load.huge_pages ? "" : " (--mmap)");
    uint64_t n_params = 0;
    for (const auto& t : model.file.Tensors()) n_params += t.n_elements;
    const std::string name = model.config.name.empty() ? model_path : model.config.name;
    const std::string type = MainType(model.file);

    int max_ctx = 1;
    for (int d : depths) {
      for (int p : prompts) max_ctx = std::max(max_ctx, d + p);
      for (int n : gens) max_ctx = std::max(max_ctx, d + n);
    }
    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> tok(0, model.config.n_vocab - 1);
    auto random_tokens = [&](int n) {
      std::vector<int32_t> v(static_cast<size_t>(n));
      for (int32_t& t : v) t = tok(rng);
      return v;
    };

    std::vector<Result> results;
    for (int nt : threads) {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                static_cast<size_t>(nt));
      gemma::SetNumThreads(nt);  // the matmul thread pool (TBB runs the rest)
      gemma::SessionOptions opt;
      opt.n_ctx = max_ctx;
      opt.precision = precision;
      opt.cache_type = cache_type;
      gemma::Session session(model, opt);
      if (nt == threads.front()) fmt::print(stderr, "{}\n", session.cache().Describe());
      for (int depth : depths) {
        // The context is built once per depth; every run rewinds to it (free unless a run wrote
        // more than the sliding-window rings' margin, then Rewind rebuilds them, untimed).
        const std::vector<int32_t> context = random_tokens(depth);
        session.Reset();
        if (depth > 0) {
          const auto t0 = std::chrono::steady_clock::now();
          if (random_depth) {
            session.LoadRandomContextForBenchmark(context);
          } else {
            session.Evaluate(context, gemma::LogitsMode::kNone);
          }
          if (output == "md") {
            fmt::print(stderr, "  depth {} ({}): {:.1f} s\n", depth, random_depth ? "random K/V" : "prefilled",
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
          }
        }
        auto run = [&](bool prompt, int n) {
          Result r;
          r.test = fmt::format("{}{}", prompt ? "pp" : "tg", n);
          if (depth > 0) r.test += fmt::format(" @ d{}", depth);
          r.threads = nt;
          r.n_tokens = n;
          r.depth = depth;
          for (int rep = -1; rep < reps; ++rep) {  // rep -1 is the warm-up
            session.Rewind(depth);
            const std::vector<int32_t> toks = random_tokens(n);
            const double t0 = Seconds(cpu_time);
            if (prompt) {
              session.Evaluate(toks, gemma::LogitsMode::kLast);
            } else {
              for (int32_t t : toks) session.Evaluate(std::span<const int32_t>(&t, 1), gemma::LogitsMode::kLast);
            }
            const double s = Seconds(cpu_time) - t0;
            if (rep >= 0) r.tps.push_back(n / s);
          }
          results.push_back(r);
          if (output == "md") {
            fmt::print(stderr, "  {} t={}: {:.2f} t/s\n", r.test, nt, r.Mean());
          }
        };
        for (int p : prompts) {
          if (p > 0) run(true, p);
        }
        for (int n : gens) {
          if (n > 0) run(false, n);
        }
      }
    }

    if (output == "json") {
      fmt::print("[\n");
      for (size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        fmt::print("  {{\"model\": \"{}\", \"size\": {}, \"params\": {}, \"type\": \"{}\", "
                   "\"threads\": {}, \"test\": \"{}\", \"n_tokens\": {}, \"depth\": {}, "
                   "\"avg_ts\": {:.4f}, \"stddev_ts\": {:.4f}, \"samples_ts\": [{}]}}{}\n",
                   name, model.file.FileSize(), n_params, type, r.threads, r.test, r.n_tokens,
                   r.depth, r.Mean(), r.Sd(), fmt::join(r.tps, ", "),
                   i + 1 < results.size() ? "," : "");
      }
      fmt::print("]\n");
    } else {
      fmt::print("| model | size | params | type | threads | test | t/s |\n");
      fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
      for (const Result& r : results) {
        fmt::print("| {} | {} | {} | {} | {} | {} | {:.2f} ± {:.2f} |\n", name,
                   HumanSize(model.file.FileSize()), HumanParams(n_params), type, r.threads,
                   r.test, r.Mean(), r.Sd());
      }
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
