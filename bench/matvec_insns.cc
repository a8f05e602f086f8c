// Runs one weight matrix's decode matvec (or a prefill matmul of TOKENS tokens) REPS times on
// one thread: the workload bench/aarch64-insns counts guest instructions of under qemu (see
// bench/aarch64.md).
// Usage: matvec_insns TYPE ROWS COLS REPS [fast|exact [TOKENS]]   e.g. matvec_insns Q4_0 6144 1536 3
#include <tbb/global_control.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/parallel.h"
#include "quant/quantize.h"
#include "quant/types.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: matvec_insns TYPE ROWS COLS REPS [fast|exact [TOKENS]]\n");
    return 2;
  }
  const auto type = gemma::ParseTypeName(argv[1]);
  const long rows = std::atol(argv[2]), cols = std::atol(argv[3]), reps = std::atol(argv[4]);
  const std::string mode = argc > 5 ? argv[5] : "fast";
  const long tokens = argc > 6 ? std::atol(argv[6]) : 1;
  if (!type || rows <= 0 || cols <= 0 || reps < 0 || tokens < 1 ||
      (mode != "fast" && mode != "exact")) {
    std::fprintf(stderr, "matvec_insns: bad arguments\n");
    return 2;
  }
  // One thread: counts then hold no spin-waiting and do not depend on timing.
  gemma::SetNumThreads(1);
  tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);

  // Deterministic pseudo-random weights and activations in [-1, 1).
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / 8388608.0f - 1.0f;
  };
  const size_t row_bytes = gemma::RowBytes(*type, static_cast<size_t>(cols));
  std::vector<uint8_t> w(row_bytes * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols)), x(static_cast<size_t>(cols * tokens));
  for (long r = 0; r < rows; ++r) {
    for (float& v : row) v = next();
    gemma::QuantizeRow(*type, row.data(), row.size(), w.data() + static_cast<size_t>(r) * row_bytes);
  }
  for (float& v : x) v = next();

  const gemma::Matrix m{*type, w.data(), rows, cols, row_bytes};
  const auto precision = mode == "fast" ? gemma::Precision::kFast : gemma::Precision::kExact;
  std::vector<float> y(static_cast<size_t>(rows * tokens));
  double checksum = 0;
  for (long i = 0; i < reps; ++i) {
    gemma::MatMul(m, x.data(), static_cast<size_t>(tokens), y.data(), precision);
    checksum += y[static_cast<size_t>(i % rows)];
  }
  std::printf("%s %ldx%ld %s tokens %ld reps %ld checksum %.6g\n", argv[1], rows, cols,
              mode.c_str(), tokens, reps, checksum);
  return 0;
}
