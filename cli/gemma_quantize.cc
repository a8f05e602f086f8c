// gemma-quantize: writes GGUF files. `synth` makes synthetic Gemma 4 models (random weights in
// the real shapes) for tests, benchmarks and the demo; `dequantize` writes the exact F32 twin of
// any model file.
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

#include "quant/quantize.h"
#include "runtime/error.h"
#include "runtime/gguf.h"
#include "runtime/gguf_writer.h"
#include "runtime/synth.h"

namespace {

constexpr const char* kUsage = R"(usage:
  gemma-quantize synth --preset NAME [--type TYPE] [--f32-twin] [--set KEY=VALUE ...]
                       [--vocab FILE.gguf] -o OUT.gguf
      Writes a synthetic Gemma 4 model with seeded random weights in the real tensor layout.
      NAME: tiny, tiny-e, tiny-moe, e2b, e4b, 26b-a4b, 31b.
      TYPE: F32 F16 BF16 Q8_0 Q4_0, or the llama-quantize mixes Q4_K_M Q5_K_M Q6_K.
      --f32-twin   write F32 values equal to the decoded weights of the TYPE file
      --set        override a shape field, e.g. --set n_layer=4 --set sliding=SSF --set seed=7
      --vocab      copy the tokenizer from another GGUF (e.g. a vocab-only file)
  gemma-quantize dequantize IN.gguf OUT.gguf
      Writes the F32 twin of IN: every tensor decoded to F32, metadata unchanged.
  gemma-quantize fingerprint FILE
      Prints a 64-bit FNV-1a hash of the file's bytes (fixtures record which file they match).
)";

int Synth(int argc, char** argv) {
  std::string preset, out;
  std::vector<std::string> sets;
  gemma::SynthOptions opt;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) gemma::Fail("gemma-quantize synth: {} needs a value", a);
      return argv[++i];
    };
    if (a == "--preset") preset = value();
    else if (a == "--type") opt.type = value();
    else if (a == "--f32-twin") opt.f32_twin = true;
    else if (a == "--set") sets.push_back(value());
    else if (a == "--vocab") opt.vocab_from = value();
    else if (a == "-o" || a == "--output") out = value();
    else gemma::Fail("gemma-quantize synth: unknown argument '{}'", a);
  }
  if (preset.empty() || out.empty()) gemma::Fail("gemma-quantize synth: --preset and -o are required");
  gemma::SynthSpec spec = gemma::SynthPreset(preset);
  for (const std::string& s : sets) gemma::ApplySynthOverride(spec, s);
  const gemma::SynthResult r = gemma::WriteSynthModel(spec, opt, out);
  fmt::print(stderr, "wrote {}: {} tensors, {} parameters, {} bytes\n", out, r.n_tensors,
             r.n_params, r.file_bytes);
  return 0;
}

int Dequantize(int argc, char** argv) {
  if (argc != 2) gemma::Fail("gemma-quantize dequantize: expected IN.gguf OUT.gguf");
  const gemma::GgufFile in = gemma::GgufFile::Open(argv[0]);
  gemma::GgufWriter w;
  for (const auto& [key, value] : in.Metadata()) w.Set(key, gemma::GgufWriteValue::Copy(value));
  w.Set("general.file_type", gemma::GgufWriteValue::U32(0));
  w.SetAlignment(static_cast<uint32_t>(in.Alignment()));
  for (const gemma::GgufTensor& t : in.Tensors()) {
    if (!gemma::CanQuantize(t.type)) {
      gemma::Fail("{}: tensor '{}' has type {}, which cannot be decoded", in.Path(), t.name,
                  gemma::TypeName(t.type));
    }
    const gemma::GgufTensor* tp = &t;
    std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    w.AddTensor(std::string(t.name), gemma::GgmlType::F32, ne,
                [tp](uint64_t r0, uint64_t r1, uint8_t* dst) {
                  const uint64_t n = tp->ne[0];
                  for (uint64_t r = r0; r < r1; ++r) {
                    gemma::DequantizeRow(tp->type, tp->data + r * tp->RowBytes(), n,
                                         reinterpret_cast<float*>(dst) + (r - r0) * n);
                  }
                });
  }
  w.Write(argv[1]);
  fmt::print(stderr, "wrote {}: {} tensors as F32\n", argv[1], in.Tensors().size());
  return 0;
}

int Fingerprint(int argc, char** argv) {
  if (argc != 1) gemma::Fail("gemma-quantize fingerprint: expected one FILE");
  fmt::print("{:016x}\n", gemma::FileFingerprint(argv[0]));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
      fmt::print(argc < 2 ? stderr : stdout, "{}", kUsage);
      return argc < 2 ? 1 : 0;
    }
    const std::string cmd = argv[1];
    if (cmd == "synth") return Synth(argc - 2, argv + 2);
    if (cmd == "dequantize") return Dequantize(argc - 2, argv + 2);
    if (cmd == "fingerprint") return Fingerprint(argc - 2, argv + 2);
    gemma::Fail("gemma-quantize: unknown command '{}' (expected synth, dequantize or fingerprint)",
                cmd);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
