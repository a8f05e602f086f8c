// Parallel loops of the kernels. A decode step runs hundreds of small matmuls, so the cost of
// starting a parallel loop matters as much as its throughput: the default backend is a
// persistent pool whose workers spin briefly between loops (then sleep), with the caller taking
// part in the work. oneTBB is kept as the alternative backend (bench/ compares the two).
#pragma once

#include <cstddef>
#include <type_traits>

namespace gemma {

// Threads used by ParallelFor, the caller included (the CLI's -t). n < 1 means one per CPU.
// Not to be called while a ParallelFor is running.
void SetNumThreads(int n);
int NumThreads();

enum class ParallelBackend { kPool, kTbb };
void SetParallelBackend(ParallelBackend backend);  // for benchmarks
ParallelBackend GetParallelBackend();

// Calls body(task) for every task in [0, n_tasks) across the threads and returns when all are
// done. Tasks are handed out one at a time, so uneven tasks balance. Nested calls run serially;
// calls from several threads at once take turns. At most 2^20 - 1 tasks.
template <typename Body>
void ParallelFor(size_t n_tasks, Body&& body);

namespace detail {
using TaskFn = void (*)(void* ctx, size_t task);
void RunParallel(size_t n_tasks, TaskFn fn, void* ctx);
}  // namespace detail

template <typename Body>
void ParallelFor(size_t n_tasks, Body&& body) {
  if (n_tasks == 0) return;
  using B = std::remove_reference_t<Body>;
  detail::RunParallel(
      n_tasks, [](void* ctx, size_t task) { (*static_cast<B*>(ctx))(task); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

}  // namespace gemma
