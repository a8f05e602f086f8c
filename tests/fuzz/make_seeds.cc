// Writes the seed corpora: make_seeds DIR creates DIR/<target>/<seed> for every fuzz target.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "runtime/error.h"
#include "tests/fuzz/seeds.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  try {
    for (const std::string& target : gemma::fuzz::TargetNames()) {
      const std::filesystem::path dir = std::filesystem::path(argv[1]) / target;
      std::filesystem::create_directories(dir);
      size_t bytes = 0;
      const auto seeds = gemma::fuzz::SeedsFor(target);
      for (const gemma::fuzz::Seed& s : seeds) {
        std::ofstream out(dir / s.name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(s.bytes.data()), static_cast<std::streamsize>(s.bytes.size()));
        if (!out) gemma::Fail("{}: write failed", (dir / s.name).string());
        bytes += s.bytes.size();
      }
      fmt::print("{}: {} seeds, {} bytes\n", dir.string(), seeds.size(), bytes);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
