// MatMul / GeGLU front end: chooses the kernel family for the weight type and precision,
// quantizes the activations once per call (integer weights, Precision::kFast), and splits the
// work into tasks of (row block, token block) whose weights and activations both fit in L2, so
// that prefill streams each weight byte from memory about once.
#include "kernels/matmul.h"

#include <algorithm>
#include <cassert>

#include "kernels/aligned_buffer.h"
#include "kernels/float_kernels.h"
#include "kernels/int8_kernels.h"
#include "kernels/ops.h"
#include "kernels/parallel.h"
#include "kernels/q8_act.h"

namespace gemma {

const Int8Kernels* Int8KernelsFor(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0: return &kInt8Q4_0;
    case GgmlType::Q8_0: return &kInt8Q8_0;
    case GgmlType::Q4_K: return &kInt8Q4_K;
    case GgmlType::Q5_K: return &kInt8Q5_K;
    case GgmlType::Q6_K: return &kInt8Q6_K;
    default: return nullptr;
  }
}

namespace {

constexpr size_t kL2Budget = 256 * 1024;  // bytes of weights, and of activations, per task
constexpr size_t kRowAlign = 16;          // tasks start at multiples of the widest row tile
constexpr size_t kTokenAlign = 6;         // and of the widest token tile

size_t Clamp(size_t v, size_t lo, size_t hi) { return std::max(lo, std::min(v, hi)); }

// A grid of tasks: row blocks of `rb` rows by token blocks of `tb` tokens.
struct Split {
  size_t rows, tokens, rb, tb;
  size_t RowBlocks() const { return (rows + rb - 1) / rb; }
  size_t TokenBlocks() const { return (tokens + tb - 1) / tb; }
  size_t Tasks() const { return RowBlocks() * TokenBlocks(); }
  // Task i covers rows [r0, r1) and tokens [t0, t1); consecutive tasks share a row block.
  void Task(size_t i, size_t& r0, size_t& r1, size_t& t0, size_t& t1) const {
    r0 = i / TokenBlocks() * rb;
    t0 = i % TokenBlocks() * tb;
    r1 = std::min(rows, r0 + rb);
    t1 = std::min(tokens, t0 + tb);
  }
};

// act_bytes_per_token: activation bytes one token of this call reads.
Split PlanSplit(const Matrix& w, size_t n_tokens, size_t act_bytes_per_token) {
  Split s{static_cast<size_t>(w.rows), n_tokens, 0, n_tokens};
  if (n_tokens == 1) {
    // Decode: streaming weights; several tasks per thread so that uneven threads balance.
    const size_t per_thread = 8 * static_cast<size_t>(NumThreads());
    s.rb = std::max(kRowAlign, (s.rows / per_thread + kRowAlign - 1) / kRowAlign * kRowAlign);
  } else {
    s.rb = Clamp(kL2Budget / w.row_bytes / kRowAlign * kRowAlign, kRowAlign, 512);
    s.tb = Clamp(kL2Budget / act_bytes_per_token / kTokenAlign * kTokenAlign, kTokenAlign, 96);
    if (s.tb >= n_tokens) s.tb = n_tokens;
  }
  return s;
}

// Per calling thread: packed activations (two, for GeGLU with differing formats).
Q8Activations& ThreadActivations(int i) {
  thread_local Q8Activations act[2];
  return act[i];
}

// Per worker thread: decoded rows (Precision::kExact) and GeGLU's up-projection tile.
AlignedBuffer<float>& ThreadScratch(int i) {
  thread_local AlignedBuffer<float> buf[2];
  return buf[i];
}

void Pack(const Int8Kernels& k, const float* x, size_t n_tokens, size_t cols,
          Q8Activations& act) {
  act.Resize(n_tokens, cols, k.bias_lanes);
  const size_t tasks = std::min(n_tokens, 4 * static_cast<size_t>(NumThreads()));
  if (tasks <= 1 || n_tokens * cols < 32 * 1024) {
    k.pack(x, 0, n_tokens, &act);
    return;
  }
  ParallelFor(tasks, [&](size_t i) {
    k.pack(x, n_tokens * i / tasks, n_tokens * (i + 1) / tasks, &act);
  });
}

size_t Q8BytesPerToken(size_t cols, size_t bias_lanes) {
  return cols + cols / 32 * (8 + 4 * bias_lanes);
}

// Computes one task of w times the activations into y (relative indexing, see Int8Kernels).
struct Job {
  const Matrix* w;
  const Int8Kernels* k;       // null: float kernels on x
  const Q8Activations* act;
  const float* x;
  void Run(size_t r0, size_t r1, size_t t0, size_t t1, float* y, size_t ldy) const {
    if (k) {
      k->rows(w, act, r0, r1, t0, t1, y, ldy);
    } else {
      AlignedBuffer<float>& scratch = ThreadScratch(0);
      const bool decode = w->type != GgmlType::F32 && w->type != GgmlType::F16 &&
                          w->type != GgmlType::BF16;
      if (decode) scratch.Resize((r1 - r0) * static_cast<size_t>(w->cols));
      FloatMatMulRows(*w, x, r0, r1, t0, t1, y, ldy, scratch.data());
    }
  }
};

Job MakeJob(const Matrix& w, const float* x, size_t n_tokens, Precision precision, int slot) {
  const Int8Kernels* k = precision == Precision::kFast ? Int8KernelsFor(w.type) : nullptr;
  Job job{&w, k, nullptr, x};
  if (k) {
    Q8Activations& act = ThreadActivations(slot);
    Pack(*k, x, n_tokens, static_cast<size_t>(w.cols), act);
    job.act = &act;
  }
  return job;
}

Split PlanJob(const Job& job, size_t n_tokens) {
  if (job.k) {
    return PlanSplit(*job.w, n_tokens,
                     Q8BytesPerToken(static_cast<size_t>(job.w->cols), job.k->bias_lanes));
  }
  // Float kernels: row blocks only (rows decoded once per task for kExact).
  Split s = PlanSplit(*job.w, 1, 0);
  s.tokens = s.tb = n_tokens;
  return s;
}

}  // namespace

void MatMul(const Matrix& w, const float* x, size_t n_tokens, float* y, Precision precision) {
  if (n_tokens == 0 || w.rows == 0) return;
  assert(w.cols % Traits(w.type).block_size == 0);
  const Job job = MakeJob(w, x, n_tokens, precision, 0);
  const Split s = PlanJob(job, n_tokens);
  const size_t rows = static_cast<size_t>(w.rows);
  ParallelFor(s.Tasks(), [&](size_t i) {
    size_t r0, r1, t0, t1;
    s.Task(i, r0, r1, t0, t1);
    job.Run(r0, r1, t0, t1, y + t0 * rows + r0, rows);
  });
}

void GeGLU(const Matrix& gate, const Matrix& up, const float* x, size_t n_tokens, float* out,
           Precision precision) {
  if (n_tokens == 0 || gate.rows == 0) return;
  assert(gate.rows == up.rows && gate.cols == up.cols);
  const Job gate_job = MakeJob(gate, x, n_tokens, precision, 0);
  Job up_job{&up, gate_job.k, gate_job.act, x};
  if (up.type != gate.type) up_job = MakeJob(up, x, n_tokens, precision, 1);
  const Split s = PlanJob(gate_job, n_tokens);
  const size_t rows = static_cast<size_t>(gate.rows);
  ParallelFor(s.Tasks(), [&](size_t i) {
    size_t r0, r1, t0, t1;
    s.Task(i, r0, r1, t0, t1);
    const size_t nr = r1 - r0;
    float* g = out + t0 * rows + r0;
    gate_job.Run(r0, r1, t0, t1, g, rows);
    AlignedBuffer<float>& u = ThreadScratch(1);
    u.Resize((t1 - t0) * nr);
    up_job.Run(r0, r1, t0, t1, u.data(), nr);
    for (size_t t = 0; t < t1 - t0; ++t) {
      float* gt = g + t * rows;
      const float* ut = u.data() + t * nr;
      if (precision == Precision::kExact) {  // reference numerics (llama.cpp GELU in tests)
        for (size_t j = 0; j < nr; ++j) gt[j] = GeluForExactPath(gt[j]) * ut[j];
      } else {
        GeluTanhMul(gt, ut, gt, nr);
      }
    }
  });
}

}  // namespace gemma
