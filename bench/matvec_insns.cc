// Runs one weight matrix's decode matvec (n_tokens = 1) REPS times on one thread: the workload
// bench/aarch64-insns counts guest instructions of under qemu (see bench/aarch64.md).
// Usage: matvec_insns TYPE ROWS COLS REPS [fast|exact]     e.g. matvec_insns Q4_0 6144 1536 3
#include <tbb/global_control.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "quant/quantize.h"
#include "quant/types.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: matvec_insns TYPE ROWS COLS REPS [fast|exact]\n");
    return 2;
  }
  const auto type = gemma::ParseTypeName(argv[1]);
  const long rows = std::atol(argv[2]), cols = std::atol(argv[3]), reps = std::atol(argv[4]);
  const std::string mode = argc > 5 ? argv[5] : "fast";
  if (!type || rows <= 0 || cols <= 0 || reps < 0 || (mode != "fast" && mode != "exact")) {
    std::fprintf(stderr, "matvec_insns: bad arguments\n");
    return 2;
  }
  tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);

  // Deterministic pseudo-random weights and activations in [-1, 1).
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / 8388608.0f - 1.0f;
  };
  const size_t row_bytes = gemma::RowBytes(*type, static_cast<size_t>(cols));
  std::vector<uint8_t> w(row_bytes * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols)), x(static_cast<size_t>(cols));
  for (long r = 0; r < rows; ++r) {
    for (float& v : row) v = next();
    gemma::QuantizeRow(*type, row.data(), row.size(), w.data() + static_cast<size_t>(r) * row_bytes);
  }
  for (float& v : x) v = next();

  const gemma::Matrix m{*type, w.data(), rows, cols, row_bytes};
  const auto precision = mode == "fast" ? gemma::Precision::kFast : gemma::Precision::kExact;
  std::vector<float> y(static_cast<size_t>(rows));
  double checksum = 0;
  for (long i = 0; i < reps; ++i) {
    gemma::MatMul(m, x.data(), 1, y.data(), precision);
    checksum += y[static_cast<size_t>(i % rows)];
  }
  std::printf("%s %ldx%ld %s reps %ld checksum %.6g\n", argv[1], rows, cols, mode.c_str(), reps,
              checksum);
  return 0;
}
