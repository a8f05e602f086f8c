// Writes tests/data/ggml_quant_blocks.bin: rows of floats encoded and decoded by llama.cpp's own
// ggml reference quantizers (libggml-base.so from the llama-ref install, loaded with dlopen), so
// tests can check gemma-run's encoders and decoders against ggml byte for byte without needing
// llama.cpp at test time.
//
//   L=$HOME/.cache/gemma-llama-ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   build-test/tests/ggml_quant_fixture $L/libggml-base.so tests/data/ggml_quant_blocks.bin
//
// File format (little endian): "GQFX", u32 record count, then per record: u32 ggml type id,
// u32 n, f32[n] input, u32 byte count, encoded bytes, f32[n] ggml's decoding of those bytes.
#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

using QuantizeFn = void (*)(const float*, void*, int64_t);
using DequantizeFn = void (*)(const void*, float*, int64_t);

struct Format {
  uint32_t id;
  const char* suffix;  // ggml symbol suffix
  uint32_t block, bytes;
};

constexpr Format kFormats[] = {
    {2, "q4_0", 32, 18}, {8, "q8_0", 32, 34}, {12, "q4_K", 256, 144},
    {13, "q5_K", 256, 176}, {14, "q6_K", 256, 210},
};

// Rows that exercise the encoders' corner cases: gaussian, all positive, mostly zero blocks,
// single outliers, tiny magnitudes, a sign-flipped ramp.
std::vector<std::vector<float>> Inputs(size_t n) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<std::vector<float>> rows;
  for (int kind = 0; kind < 6; ++kind) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) {
      switch (kind) {
        case 0: x[i] = 0.02f * normal(rng); break;
        case 1: x[i] = uniform(rng) + 0.5f; break;
        case 2: x[i] = (i / 64) % 2 || (i >= 256 && i < 512) ? 0.0f : normal(rng); break;
        case 3: x[i] = (i % 97 == 5 ? 40.0f : 0.1f) * normal(rng); break;
        case 4: x[i] = 1e-6f * normal(rng); break;
        case 5: x[i] = (static_cast<float>(i % 37) - 18.0f) * (i % 2 ? -0.3f : 0.3f); break;
      }
    }
    rows.push_back(x);
  }
  return rows;
}

void Put32(FILE* f, uint32_t v) { std::fwrite(&v, 4, 1, f); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ggml_quant_fixture LIBGGML_BASE.so OUT.bin\n");
    return 1;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
    return 1;
  }
  constexpr size_t kN = 512;
  const auto inputs = Inputs(kN);
  FILE* out = std::fopen(argv[2], "wb");
  if (!out) {
    std::perror(argv[2]);
    return 1;
  }
  std::fwrite("GQFX", 1, 4, out);
  Put32(out, static_cast<uint32_t>(std::size(kFormats) * inputs.size()));
  for (const Format& fmt : kFormats) {
    const std::string q = std::string("quantize_row_") + fmt.suffix + "_ref";
    const std::string dq = std::string("dequantize_row_") + fmt.suffix;
    auto quantize = reinterpret_cast<QuantizeFn>(dlsym(lib, q.c_str()));
    auto dequantize = reinterpret_cast<DequantizeFn>(dlsym(lib, dq.c_str()));
    if (!quantize || !dequantize) {
      std::fprintf(stderr, "missing %s or %s\n", q.c_str(), dq.c_str());
      return 1;
    }
    for (const auto& x : inputs) {
      std::vector<uint8_t> bytes(kN / fmt.block * fmt.bytes);
      std::vector<float> y(kN);
      quantize(x.data(), bytes.data(), kN);
      dequantize(bytes.data(), y.data(), kN);
      Put32(out, fmt.id);
      Put32(out, kN);
      std::fwrite(x.data(), 4, kN, out);
      Put32(out, static_cast<uint32_t>(bytes.size()));
      std::fwrite(bytes.data(), 1, bytes.size(), out);
      std::fwrite(y.data(), 4, kN, out);
    }
  }
  std::fclose(out);
  std::fprintf(stderr, "wrote %s\n", argv[2]);
  return 0;
}
