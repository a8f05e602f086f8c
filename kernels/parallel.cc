#include "kernels/parallel.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace gemma {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// A job is published as one 64-bit word: epoch (24 bits) | task count (20) | next task (20).
// Workers claim tasks with compare-and-swap on it, so a worker that wakes up late can never
// claim a task of a newer job by mistake: its swap fails once the epoch has moved on. The job's
// function and context are read only after a successful claim; they cannot change before that
// task is finished, because a new job starts only when every task of the current one is done.
constexpr int kFieldBits = 20;
constexpr uint64_t kFieldMask = (uint64_t{1} << kFieldBits) - 1;
constexpr size_t kMaxTasks = kFieldMask;

uint64_t Pack(uint64_t epoch, uint64_t n, uint64_t next) {
  return (epoch << (2 * kFieldBits)) | (n << kFieldBits) | next;
}
uint64_t EpochOf(uint64_t w) { return w >> (2 * kFieldBits); }
uint64_t CountOf(uint64_t w) { return (w >> kFieldBits) & kFieldMask; }
uint64_t NextOf(uint64_t w) { return w & kFieldMask; }

thread_local bool t_inside_parallel = false;

class SpinPool {
 public:
  explicit SpinPool(int n_threads) {
    for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }
  ~SpinPool() {
    stop_.store(true);
    Wake();
    for (std::thread& t : workers_) t.join();
  }

  void Run(size_t n_tasks, detail::TaskFn fn, void* ctx) {
    assert(n_tasks <= kMaxTasks);
    fn_.store(fn, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    epoch_ = (epoch_ + 1) & ((uint64_t{1} << 24) - 1);
    job_.store(Pack(epoch_, n_tasks, 0), std::memory_order_release);
    Wake();
    RunTasks(epoch_);
    while (done_.load(std::memory_order_acquire) != n_tasks) CpuRelax();
  }

 private:
  // Tells spinning workers (through wake_) and sleeping ones (through the condition variable:
  // a sleeper checks wake_ under the mutex, so it either sees the new value or is notified).
  void Wake() {
    wake_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleep_mu_);
      sleep_cv_.notify_all();
    }
  }

  // Claims and runs tasks of job `epoch` until none is left (or the job is gone).
  void RunTasks(uint64_t epoch) {
    uint64_t w = job_.load(std::memory_order_acquire);
    for (;;) {
      if (EpochOf(w) != epoch || NextOf(w) >= CountOf(w)) return;
      if (!job_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        continue;
      }
      const detail::TaskFn fn = fn_.load(std::memory_order_relaxed);
      fn(ctx_.load(std::memory_order_relaxed), NextOf(w));
      done_.fetch_add(1, std::memory_order_release);
      w = job_.load(std::memory_order_acquire);
    }
  }

  void WorkerLoop() {
    t_inside_parallel = true;
    // wake_ starts at 0 before any worker exists; a worker that starts late must still see
    // the wake-ups (jobs, or the destructor's) that happened before it ran.
    uint32_t seen = 0;
    for (;;) {
      // Spin for a while (decode steps start parallel loops every few microseconds), then
      // sleep so that an idle process does not burn a CPU.
      const auto start = std::chrono::steady_clock::now();
      while (wake_.load(std::memory_order_acquire) == seen) {
        for (int i = 0; i < 64; ++i) CpuRelax();
        if (std::chrono::steady_clock::now() - start > kSpinTime) {
          std::unique_lock<std::mutex> lock(sleep_mu_);
          sleeping_.fetch_add(1, std::memory_order_seq_cst);
          sleep_cv_.wait(lock, [&] { return wake_.load(std::memory_order_seq_cst) != seen; });
          sleeping_.fetch_sub(1, std::memory_order_seq_cst);
        }
      }
      seen = wake_.load(std::memory_order_acquire);
      if (stop_.load()) return;
      RunTasks(EpochOf(job_.load(std::memory_order_acquire)));
    }
  }

  static constexpr std::chrono::microseconds kSpinTime{200};

  std::vector<std::thread> workers_;
  uint64_t epoch_ = 0;  // written by the caller only
  std::atomic<uint64_t> job_{0};
  std::atomic<detail::TaskFn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<size_t> done_{0};
  std::atomic<uint32_t> wake_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stop_{false};
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
};

struct State {
  std::mutex mu;      // guards the fields below
  std::mutex run_mu;  // one parallel loop at a time
  int n_threads = 0;
  ParallelBackend backend = ParallelBackend::kPool;
  std::unique_ptr<SpinPool> pool;
  std::unique_ptr<tbb::task_arena> arena;
};

State& GetState() {
  static State s;
  return s;
}

int DefaultThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace

void SetNumThreads(int n) {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.n_threads = n < 1 ? DefaultThreads() : n;
  s.pool.reset();
  s.arena.reset();
}

int NumThreads() {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.n_threads == 0) s.n_threads = DefaultThreads();
  return s.n_threads;
}

void SetParallelBackend(ParallelBackend backend) {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.backend = backend;
}

ParallelBackend GetParallelBackend() {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.backend;
}

namespace detail {

void RunParallel(size_t n_tasks, TaskFn fn, void* ctx) {
  State& s = GetState();
  const int n_threads = NumThreads();
  if (n_tasks == 1 || n_threads == 1 || t_inside_parallel) {
    for (size_t t = 0; t < n_tasks; ++t) fn(ctx, t);
    return;
  }
  std::lock_guard<std::mutex> run_lock(s.run_mu);
  t_inside_parallel = true;
  if (s.backend == ParallelBackend::kTbb) {
    if (!s.arena) s.arena = std::make_unique<tbb::task_arena>(n_threads);
    s.arena->execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<size_t>(0, n_tasks, 1),
          [&](const tbb::blocked_range<size_t>& r) {
            const bool was_inside = t_inside_parallel;
            t_inside_parallel = true;
            for (size_t t = r.begin(); t != r.end(); ++t) fn(ctx, t);
            t_inside_parallel = was_inside;
          },
          tbb::simple_partitioner());
    });
  } else {
    if (!s.pool) s.pool = std::make_unique<SpinPool>(n_threads);
    s.pool->Run(n_tasks, fn, ctx);
  }
  t_inside_parallel = false;
}

}  // namespace detail
}  // namespace gemma
