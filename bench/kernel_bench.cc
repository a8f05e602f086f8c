// kernel_bench: speed of the matmul kernels on E2B-sized matrices, next to the machine's own
// streaming read bandwidth measured in the same run.
//
//   decode   one token: MatMul over enough distinct copies of the matrix to exceed the caches
//            (as a model's layers are), reported as weight bytes streamed per second and as a
//            share of the read bandwidth with the same thread count
//   prefill  --tokens (512) tokens through one matrix, in GOPS (2 ops per multiply-add)
//   overhead per-call cost of an (almost) empty ParallelFor, persistent pool vs oneTBB
//
// Every figure is the median of --reps runs after one warm-up. Example:
//   build-test/bench/kernel_bench --threads 1,2 --reps 7 [--target AVX2]
#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/membw.h"
#include "hwy/highway.h"
#include "kernels/matmul.h"
#include "kernels/parallel.h"
#include "quant/quantize.h"
#include "quant/types.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Anonymous memory, 2 MiB aligned, transparent huge pages requested.
struct BigBuffer {
  uint8_t* data = nullptr;
  size_t bytes = 0;
  explicit BigBuffer(size_t n) : bytes((n + (2u << 20) - 1) / (2u << 20) * (2u << 20)) {
    data = static_cast<uint8_t*>(std::aligned_alloc(2u << 20, bytes));
    if (!data) throw std::bad_alloc();
    madvise(data, bytes, MADV_HUGEPAGE);
  }
  ~BigBuffer() { std::free(data); }
  BigBuffer(const BigBuffer&) = delete;
  BigBuffer& operator=(const BigBuffer&) = delete;
};

struct Options {
  std::vector<gemma::GgmlType> types = {
      gemma::GgmlType::Q4_0, gemma::GgmlType::Q8_0, gemma::GgmlType::Q4_K, gemma::GgmlType::Q5_K,
      gemma::GgmlType::Q6_K, gemma::GgmlType::BF16, gemma::GgmlType::F16};
  std::vector<int> threads = {1, 2};
  int reps = 5;
  size_t tokens = 512;
  bool lm_head = true;
  size_t decode_bytes = 512u << 20;  // distinct weight bytes one decode sweep streams
  std::string target;  // Highway target to force (empty: the best one)
};

// ---- read bandwidth ------------------------------------------------------------------------

double ReadBandwidth(const BigBuffer& buf, int threads, int reps) {
  const size_t words = buf.bytes / 8;
  const auto* p = reinterpret_cast<const uint64_t*>(buf.data);
  std::atomic<uint64_t> sink{0};
  std::vector<double> gbs;
  for (int rep = 0; rep <= reps; ++rep) {
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&, i] {
        const size_t begin = words / threads * i / 64 * 64;
        const size_t end = i + 1 == threads ? words : words / threads * (i + 1) / 64 * 64;
        sink += gemma::StreamSum(p + begin, end - begin);
      });
    }
    for (std::thread& t : pool) t.join();
    const auto t1 = Clock::now();
    if (rep > 0) gbs.push_back(static_cast<double>(buf.bytes) / Seconds(t0, t1) / 1e9);
  }
  return Median(gbs);
}

// ---- weights -------------------------------------------------------------------------------

// `copies` copies of a rows x cols matrix in `type`, gaussian values. Only a block of rows is
// quantized (slow reference encoders); the rest repeats it, which costs the kernels the same.
struct WeightSet {
  gemma::GgmlType type;
  size_t rows, cols, row_bytes, matrix_bytes, copies;
  BigBuffer buf;
  WeightSet(gemma::GgmlType t, size_t r, size_t c, size_t n)
      : type(t),
        rows(r),
        cols(c),
        row_bytes(gemma::RowBytes(t, c)),
        matrix_bytes(r * row_bytes),
        copies(n),
        buf(n * r * row_bytes) {
    const size_t seed_rows = std::min<size_t>(rows, 512);
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 1.0f / std::sqrt(static_cast<float>(cols)));
    std::vector<float> row(cols);
    for (size_t i = 0; i < seed_rows; ++i) {
      for (float& v : row) v = dist(rng);
      gemma::QuantizeRow(type, row.data(), cols, buf.data + i * row_bytes);
    }
    const size_t seed_bytes = seed_rows * row_bytes;
    for (size_t off = seed_bytes; off < copies * matrix_bytes; off += seed_bytes) {
      std::memcpy(buf.data + off, buf.data, std::min(seed_bytes, copies * matrix_bytes - off));
    }
  }
  gemma::Matrix Copy(size_t i) const {
    gemma::Matrix m;
    m.type = type;
    m.data = buf.data + i * matrix_bytes;
    m.rows = static_cast<int64_t>(rows);
    m.cols = static_cast<int64_t>(cols);
    m.row_bytes = row_bytes;
    return m;
  }
};

std::vector<float> Activations(size_t n) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

// Seconds per decode sweep over all copies (one token).
double DecodeSweep(const WeightSet& w, const float* x, float* y, int reps) {
  std::vector<double> s;
  for (int rep = 0; rep <= reps; ++rep) {
    const auto t0 = Clock::now();
    for (size_t i = 0; i < w.copies; ++i) gemma::MatMul(w.Copy(i), x, 1, y);
    const auto t1 = Clock::now();
    if (rep > 0) s.push_back(Seconds(t0, t1));
  }
  return Median(s);
}

double Prefill(const WeightSet& w, const float* x, size_t tokens, float* y, int reps) {
  std::vector<double> s;
  for (int rep = 0; rep <= reps; ++rep) {
    const auto t0 = Clock::now();
    gemma::MatMul(w.Copy(0), x, tokens, y);
    const auto t1 = Clock::now();
    if (rep > 0) s.push_back(Seconds(t0, t1));
  }
  return Median(s);
}

// Microseconds per ParallelFor of `tasks` trivial tasks.
double ParallelOverhead(size_t tasks, int reps) {
  std::atomic<size_t> sink{0};
  std::vector<double> us;
  constexpr int kCalls = 20000;
  for (int rep = 0; rep <= reps; ++rep) {
    const auto t0 = Clock::now();
    for (int c = 0; c < kCalls; ++c) gemma::ParallelFor(tasks, [&](size_t t) { sink += t; });
    const auto t1 = Clock::now();
    if (rep > 0) us.push_back(Seconds(t0, t1) / kCalls * 1e6);
  }
  return Median(us);
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    out.push_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// Makes dispatch use the compiled target called `name` (e.g. AVX2 on an AVX-512 machine, to
// see what a laptop without AVX-512 runs).
void ForceTarget(const std::string& name) {
  std::string known;
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
    if (name == hwy::TargetName(t)) {
      hwy::SetSupportedTargetsForTest(t);
      return;
    }
    known += std::string(known.empty() ? "" : " ") + hwy::TargetName(t);
  }
  throw std::runtime_error("target " + name + " is not compiled in or not supported here (" +
                           known + ")");
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--types") {
      o.types.clear();
      for (const std::string& t : Split(value())) {
        const auto type = gemma::ParseTypeName(t);
        if (!type) throw std::runtime_error("unknown type " + t);
        o.types.push_back(*type);
      }
    } else if (a == "--threads") {
      o.threads.clear();
      for (const std::string& t : Split(value())) o.threads.push_back(std::stoi(t));
    } else if (a == "--reps") {
      o.reps = std::stoi(value());
    } else if (a == "--tokens") {
      o.tokens = std::stoul(value());
    } else if (a == "--no-lm-head") {
      o.lm_head = false;
    } else if (a == "--decode-mib") {
      o.decode_bytes = std::stoul(value()) << 20;
    } else if (a == "--target") {
      o.target = value();
    } else {
      throw std::runtime_error("unknown argument " + a +
                               " (--types T,.. --threads N,.. --reps N --tokens N --no-lm-head "
                               "--decode-mib N --target NAME)");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = ParseArgs(argc, argv);
  if (!o.target.empty()) ForceTarget(o.target);
  const int64_t targets = hwy::SupportedTargets() & HWY_TARGETS;
  fmt::print("kernel_bench: Highway target {}, {} hardware threads, median of {} runs\n\n",
             hwy::TargetName(targets & -targets), std::thread::hardware_concurrency(), o.reps);

  std::vector<double> bandwidth(o.threads.size());
  {
    BigBuffer buf(1u << 30);
    std::memset(buf.data, 1, buf.bytes);
    for (size_t i = 0; i < o.threads.size(); ++i) {
      bandwidth[i] = ReadBandwidth(buf, o.threads[i], o.reps);
      fmt::print("read bandwidth, {} thread(s): {:.1f} GB/s (1 GiB buffer)\n", o.threads[i],
                 bandwidth[i]);
    }
  }

  fmt::print("\nParallelFor overhead (us per call, trivial tasks):\n");
  for (int threads : o.threads) {
    if (threads < 2) continue;
    gemma::SetNumThreads(threads);
    for (auto backend : {gemma::ParallelBackend::kPool, gemma::ParallelBackend::kTbb}) {
      gemma::SetParallelBackend(backend);
      fmt::print("  {} threads, {:4}: 2 tasks {:.2f}, 64 tasks {:.2f}\n", threads,
                 backend == gemma::ParallelBackend::kPool ? "pool" : "tbb",
                 ParallelOverhead(2, o.reps), ParallelOverhead(64, o.reps));
    }
  }
  // The same comparison on real work: a decode sweep of small (L2-sized) Q4_0 matrices, where
  // per-call overhead matters most.
  {
    const WeightSet w_small(gemma::GgmlType::Q4_0, 1536, 1536, 64);
    const std::vector<float> xs = Activations(1536);
    std::vector<float> ys(1536);
    for (int threads : o.threads) {
      if (threads < 2) continue;
      gemma::SetNumThreads(threads);
      for (auto backend : {gemma::ParallelBackend::kPool, gemma::ParallelBackend::kTbb}) {
        gemma::SetParallelBackend(backend);
        const double s = DecodeSweep(w_small, xs.data(), ys.data(), o.reps);
        fmt::print("  {} threads, {:4}: decode 1536x1536 Q4_0, {:.1f} us per call\n", threads,
                   backend == gemma::ParallelBackend::kPool ? "pool" : "tbb",
                   s / w_small.copies * 1e6);
      }
    }
  }
  gemma::SetParallelBackend(gemma::ParallelBackend::kPool);

  struct Shape {
    const char* name;
    size_t rows, cols;
  };
  std::vector<Shape> shapes = {{"ffn_gate/up 6144x1536", 6144, 1536},
                               {"ffn_down 1536x6144", 1536, 6144},
                               {"attn_q 2048x1536", 2048, 1536}};
  if (o.lm_head) shapes.push_back({"lm_head 262144x1536", 262144, 1536});

  fmt::print(
      "\n| type | matrix (rows x cols) | threads | decode GB/s | % of read BW | decode us |"
      " prefill {} GOPS |\n|---|---|---|---|---|---|---|\n",
      o.tokens);
  const std::vector<float> x = Activations(o.tokens * 6144);
  std::vector<float> y(o.tokens * 262144);
  for (gemma::GgmlType type : o.types) {
    for (const Shape& sh : shapes) {
      const size_t matrix_bytes = sh.rows * gemma::RowBytes(type, sh.cols);
      const size_t copies = std::max<size_t>(1, (o.decode_bytes + matrix_bytes - 1) / matrix_bytes);
      const WeightSet w(type, sh.rows, sh.cols, copies);
      const bool is_lm_head = sh.rows == 262144;
      for (size_t ti = 0; ti < o.threads.size(); ++ti) {
        gemma::SetNumThreads(o.threads[ti]);
        const double sweep = DecodeSweep(w, x.data(), y.data(), o.reps);
        const double gbs = static_cast<double>(copies * matrix_bytes) / sweep / 1e9;
        std::string prefill = "-";
        if (!is_lm_head) {
          const double s = Prefill(w, x.data(), o.tokens, y.data(), o.reps);
          prefill = fmt::format("{:.0f}", 2.0 * sh.rows * sh.cols * o.tokens / s / 1e9);
        }
        fmt::print("| {} | {} | {} | {:.1f} | {:.0f}% | {:.0f} | {} |\n", gemma::TypeName(type),
                   sh.name, o.threads[ti], gbs, 100 * gbs / bandwidth[ti], sweep / copies * 1e6,
                   prefill);
        std::fflush(stdout);
      }
    }
  }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "kernel_bench: {}\n", e.what());
  return 1;
}
