// Tokenizer throughput: encode and decode MB/s on a deterministic mixed text (prose, code,
// CJK, Hangul, Arabic, Devanagari, emoji, numbers, whitespace runs) of --mb megabytes.
//
//   bench_tokenizer --vocab gemma4_vocab.gguf [--mb 1 | --text FILE] [--reps 7]
//                   [--dump-text F] [--dump-ids F]
//
// --text benchmarks a file instead (e.g. real prose or code, less repetitive than the built-in
// mix, whose small word list flatters the word memo).
// --dump-text / --dump-ids write the text and our ids so another tokenizer (bench/
// llama_tokenize_bench.mjs) can be timed on the very same input and checked against our ids.
// Prints one JSON object. Single-threaded; the best and the median of --reps runs are reported.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

// A fixed-seed generator: the text must be the same on every machine and run.
struct Rng {
  uint64_t s = 0x853c49e6748fea9bULL;
  uint32_t Next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(s >> 33);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Next() % v.size()]; }
};

std::string MixedText(size_t bytes) {
  const std::vector<std::string> words = {
      "the", "of", "and", "model", "tokens", "memory", "computer", "running", "weights", "layer",
      "attention", "quickly", "Gemma", "CPU", "inference", "window", "because", "without",
      "international", "naïve", "café", "résumé", "don't", "it's", "e.g.", "U.S.", "2024", "3.14",
      "1,000", "42%", "$19.99", "(see", "below)", "—", "“quoted”", "x86_64", "AVX-512"};
  const std::vector<std::string> lines = {
      "自然语言处理是人工智能的一个重要领域。", "今日はとても良い天気ですね。散歩に行きましょう！",
      "한국어 문장은 띄어쓰기를 사용합니다. 안녕하세요!", "مرحبا بالعالم، هذه جملة عربية قصيرة.",
      "नमस्ते, यह एक हिंदी वाक्य है।", "Съешь же ещё этих мягких французских булок.",
      "Ελληνικά γράμματα και λέξεις.", "Great job 🎉! 👍🏽 See you at 3pm ☕ 👨‍👩‍👧 🇯🇵",
      "    for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
      "def f(x):\n    return {\"key\": [x, x ** 2, None]}",
      "\tif (ptr != nullptr && ptr->next) return -EINVAL;",
      "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
      "https://example.com/path?query=value&x=1#section", "| col a | col b |\n|-------|-------|"};
  const std::vector<std::string> seps = {" ", " ", " ", " ", ", ", ". ", " ", "  ", "; "};
  Rng rng;
  std::string out;
  out.reserve(bytes + 256);
  while (out.size() < bytes) {
    const uint32_t kind = rng.Next() % 10;
    if (kind < 6) {  // a prose paragraph
      const int n = 20 + static_cast<int>(rng.Next() % 60);
      for (int i = 0; i < n; ++i) out += rng.Pick(words) + rng.Pick(seps);
      out += rng.Next() % 3 ? "\n\n" : "\n";
    } else {
      out += rng.Pick(lines);
      out += rng.Next() % 4 ? "\n" : "\n\n\n";
    }
  }
  // Cut at a line end so the text stays valid UTF-8.
  const size_t cut = out.rfind('\n', bytes);
  out.resize(cut == std::string::npos ? bytes : cut + 1);
  return out;
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU time of this thread: on a shared machine wall time also counts waiting for a core.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string vocab, dump_text, dump_ids, text_file;
    double mb = 1.0;
    int reps = 7;
    if (const char* c = std::getenv("GEMMA_CACHE")) vocab = std::string(c) + "/tokenizer/gemma4_vocab.gguf";
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) gemma::Fail("{} needs a value", a);
        return argv[++i];
      };
      if (a == "--vocab") vocab = value();
      else if (a == "--mb") mb = std::stod(value());
      else if (a == "--reps") reps = std::stoi(value());
      else if (a == "--dump-text") dump_text = value();
      else if (a == "--dump-ids") dump_ids = value();
      else if (a == "--text") text_file = value();
      else gemma::Fail("unknown argument '{}' (--vocab F --mb N --text F --reps N --dump-text F --dump-ids F)", a);
    }
    if (vocab.empty()) gemma::Fail("no vocabulary: pass --vocab FILE.gguf (or set GEMMA_CACHE)");
    if (mb <= 0 || mb > 512 || reps < 1) gemma::Fail("--mb must be in (0, 512] and --reps >= 1");

    const auto t0 = std::chrono::steady_clock::now();
    const gemma::GgufFile file = gemma::GgufFile::Open(vocab);
    const gemma::Tokenizer tok = gemma::Tokenizer::FromGguf(file);
    const auto t1 = std::chrono::steady_clock::now();

    std::string text;
    if (text_file.empty()) {
      text = MixedText(static_cast<size_t>(mb * 1024 * 1024));
    } else {
      std::ifstream in(text_file, std::ios::binary);
      if (!in) gemma::Fail("{}: cannot open", text_file);
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    // A literal "▁" in the input decodes as a space (the one lossy case of Gemma's tokenizer).
    std::string expected;
    for (size_t p = 0;;) {
      const size_t q = text.find("\xE2\x96\x81", p);
      expected.append(text, p, q == std::string::npos ? std::string::npos : q - p);
      if (q == std::string::npos) break;
      expected += ' ';
      p = q + 3;
    }
    std::vector<double> enc, dec, enc_cpu;
    std::vector<int32_t> ids;
    for (int r = 0; r < reps; ++r) {
      const double cpu0 = ThreadCpuSeconds();
      const auto a = std::chrono::steady_clock::now();
      ids = tok.Encode(text);
      const auto b = std::chrono::steady_clock::now();
      enc_cpu.push_back(ThreadCpuSeconds() - cpu0);
      const std::string back = tok.Decode(ids);
      const auto c = std::chrono::steady_clock::now();
      if (back != expected) gemma::Fail("decode(encode(text)) differs from the text");
      enc.push_back(Seconds(a, b));
      dec.push_back(Seconds(b, c));
    }
    std::sort(enc.begin(), enc.end());
    std::sort(enc_cpu.begin(), enc_cpu.end());
    std::sort(dec.begin(), dec.end());
    const double mib = static_cast<double>(text.size()) / (1024.0 * 1024.0);
    if (!dump_text.empty()) std::ofstream(dump_text, std::ios::binary) << text;
    if (!dump_ids.empty()) std::ofstream(dump_ids) << fmt::format("[{}]\n", fmt::join(ids, ","));
    fmt::print(
        "{{\"tool\":\"bench_tokenizer\",\"vocab\":\"{}\",\"load_s\":{:.3f},\"text_bytes\":{},"
        "\"tokens\":{},\"reps\":{},\"encode_s_best\":{:.4f},\"encode_s_median\":{:.4f},"
        "\"encode_MiB_per_s\":{:.2f},\"encode_tokens_per_s\":{:.0f},\"encode_cpu_s_best\":{:.4f},"
        "\"encode_cpu_MiB_per_s\":{:.2f},\"decode_s_best\":{:.4f},\"decode_MiB_per_s\":{:.1f}}}\n",
        vocab, Seconds(t0, t1), text.size(), ids.size(), reps, enc.front(), enc[enc.size() / 2],
        mib / enc.front(), ids.size() / enc.front(), enc_cpu.front(), mib / enc_cpu.front(),
        dec.front(), mib / dec.front());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
