// cache-memory: how much memory the KV cache really takes, against what its layout implies.
//
//   cache-memory -m FILE [-c 131072] [--cache-type f16] [--fill N] [--depth-fill random|prefill]
//
// Creates a session with a context of -c tokens, then fills N positions (default: all), and
// prints the layout (Describe), its bytes, the bytes of the cache's pages that are resident
// (mincore) after creation and after the fill, and the process's anonymous resident memory
// (RssAnon) and peak resident memory (VmHWM, which also counts the mapped model file).
#include <fmt/format.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace {

// A field of /proc/self/status in bytes (0 if absent).
uint64_t StatusBytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

double MiB(uint64_t b) { return static_cast<double>(b) / (1 << 20); }

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string model_path, fill_mode = "random";
    int64_t n_ctx = 131072, fill = -1;
    gemma::KvType type = gemma::KvType::kF16;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) gemma::Fail("{} needs a value", a);
        return argv[++i];
      };
      if (a == "-m") model_path = value();
      else if (a == "-c") n_ctx = std::stoll(value());
      else if (a == "--fill") fill = std::stoll(value());
      else if (a == "--depth-fill") fill_mode = value();
      else if (a == "--cache-type") {
        const auto t = gemma::ParseKvType(value());
        if (!t) gemma::Fail("--cache-type: f16, bf16, f32 or q8_0");
        type = *t;
      } else {
        gemma::Fail("usage: cache-memory -m FILE [-c N] [--cache-type T] [--fill N] [--depth-fill random|prefill]");
      }
    }
    if (fill < 0) fill = n_ctx;
    const gemma::Model model = gemma::Model::Load(model_path);
    const uint64_t anon0 = StatusBytes("RssAnon");
    gemma::SessionOptions opt;
    opt.n_ctx = n_ctx;
    opt.cache_type = type;
    gemma::Session session(model, opt);
    const gemma::KvCache& cache = session.cache();
    fmt::print("{}\n", cache.Describe());
    fmt::print("layout bytes:                  {} ({:.1f} MiB)\n", cache.Bytes(), MiB(cache.Bytes()));
    fmt::print("resident after creation:       {:.1f} MiB (process RssAnon +{:.1f} MiB)\n",
               MiB(cache.ResidentBytes()), MiB(StatusBytes("RssAnon") - anon0));

    std::mt19937 rng(1);
    std::uniform_int_distribution<int32_t> tok(0, model.config.n_vocab - 1);
    std::vector<int32_t> tokens(static_cast<size_t>(fill));
    for (int32_t& t : tokens) t = tok(rng);
    if (fill_mode == "prefill") {
      session.Evaluate(tokens, gemma::LogitsMode::kNone);
    } else {
      session.LoadRandomContextForBenchmark(tokens);
    }
    const uint64_t resident = cache.ResidentBytes();
    fmt::print("resident after {} positions: {:.1f} MiB = {:.1f}% of the layout "
               "(process RssAnon +{:.1f} MiB, VmHWM {:.1f} MiB incl. mapped weights)\n",
               fill, MiB(resident), 100.0 * static_cast<double>(resident) / static_cast<double>(cache.Bytes()),
               MiB(StatusBytes("RssAnon") - anon0), MiB(StatusBytes("VmHWM")));
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
