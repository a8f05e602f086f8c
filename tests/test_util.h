// Helpers shared by the tests: scratch files and synthetic models.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/synth.h"

namespace gemma::test {

// A fresh scratch directory for this test process (removed at exit).
inline const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::filesystem::path p = std::filesystem::path(base ? base : "/tmp") /
                              ("gemma-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(p);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ScratchDir(), ec);
    });
    return p;
  }();
  return dir;
}

inline std::string ScratchPath(const std::string& name) { return (ScratchDir() / name).string(); }

// Writes (once per process) a synthetic model and returns its path.
inline std::string SynthModel(const std::string& preset, const std::string& type = "F32",
                              const std::vector<std::string>& sets = {}, bool f32_twin = false) {
  std::string name = preset + "-" + type + (f32_twin ? "-twin" : "");
  for (const std::string& s : sets) name += "-" + s;
  for (char& c : name) {
    if (c == '=' || c == ',' || c == '/') c = '_';
  }
  const std::string path = ScratchPath(name + ".gguf");
  if (!std::filesystem::exists(path)) {
    SynthSpec spec = SynthPreset(preset);
    for (const std::string& s : sets) ApplySynthOverride(spec, s);
    SynthOptions opt;
    opt.type = type;
    opt.f32_twin = f32_twin;
    WriteSynthModel(spec, opt, path);
  }
  return path;
}

// Like SynthModel, but for the multi-GB models: kept in $GEMMA_CACHE/synth/ (git-ignored, set
// by scripts/test) so that runs reuse it instead of writing gigabytes to a scratch directory
// each time. Written under a temporary name and renamed, so a killed run leaves no partial file.
// `valid` checks an existing file (e.g. its fingerprint); a file that fails it is rewritten.
template <typename Valid>
std::string CachedSynthModel(const std::string& preset, const std::string& type, Valid valid) {
  const char* cache = std::getenv("GEMMA_CACHE");
  if (!cache || !*cache) return SynthModel(preset, type);
  const std::filesystem::path dir = std::filesystem::path(cache) / "synth";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / (preset + "-" + type + ".gguf")).string();
  if (std::filesystem::exists(path) && valid(path)) return path;
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  SynthOptions opt;
  opt.type = type;
  WriteSynthModel(SynthPreset(preset), opt, tmp);
  std::filesystem::rename(tmp, path);
  return path;
}

// Path of a committed fixture under tests/data.
inline std::string DataPath(const std::string& name) {
  const char* dir = std::getenv("GEMMA_TEST_DATA");
  return std::string(dir ? dir : "tests/data") + "/" + name;
}

}  // namespace gemma::test

#include <functional>

#include "runtime/gguf.h"
#include "runtime/gguf_writer.h"

namespace gemma::test {

// A writer holding a copy of `f`; `keep_tensor` may drop tensors. Used to build broken variants
// of good files.
inline GgufWriter CopyOf(const GgufFile& f,
                         const std::function<bool(std::string_view)>& keep_tensor = nullptr) {
  GgufWriter w;
  for (const auto& [k, v] : f.Metadata()) w.Set(k, GgufWriteValue::Copy(v));
  for (const GgufTensor& t : f.Tensors()) {
    if (keep_tensor && !keep_tensor(t.name)) continue;
    w.AddTensorData(std::string(t.name), t.type, {t.ne.begin(), t.ne.begin() + t.n_dims},
                    std::vector<uint8_t>(t.data, t.data + t.n_bytes));
  }
  return w;
}

}  // namespace gemma::test
