#include "cli/args.h"

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <random>

#include "runtime/error.h"

namespace gemma::cli {

const char* const kUsage = R"(usage: gemma-run -m MODEL.gguf [options] [PROMPT]

Chats with a Gemma 4 model. With a prompt (-p, -f, words after the options, or piped stdin)
it prints the answer on stdout and exits; otherwise, on a terminal, it starts a chat.

  -m, --model FILE          Gemma 4 GGUF file (default: $GEMMA_MODEL)
  -p, --prompt TEXT         one-shot prompt ("-": read it from stdin)
  -f, --file FILE           read the prompt from FILE ("-": stdin)
  -sys, --system TEXT       system prompt
  --raw                     no chat template: continue the prompt as plain text
  -n, --n-predict N         generate at most N tokens (default -1: until the model stops)
  -c, --ctx-size N          context size in tokens (default: min(model's, 4096))
  --cache-type T            KV cache type: f16 (default), bf16, f32 or q8_0
  -t, --threads N           threads (default: all cores)
  --mmap                    compute from the file mapping instead of copying the weights into
                            huge pages at load (less memory, 10-15% slower decode)
  --think, --reasoning on   let the model think before answering (<|think|>)
  --hide-thinking           think, but do not show the thoughts
  --stop STRING             stop the answer where STRING appears (repeatable)
  --ignore-eos              keep generating past the end of the turn
  -v, --verbose             model, sampling and timing details on stderr
  --color auto|on|off       dim thoughts and colour the prompt (default: auto, when a terminal)

sampling (defaults: the model file's general.sampling.*, else temp 1, top-k 64, top-p 0.95):
  --temp T                  temperature (0: greedy)
  --top-k N                 keep the N most likely tokens (0: off)
  --top-p P                 keep the smallest set holding probability P (1: off)
  --min-p P                 keep tokens at least P times as likely as the best (0: off)
  --repeat-penalty X        penalise tokens seen in the last --repeat-last-n (default 1: off)
  --repeat-last-n N         (default 64)
  -s, --seed N              random seed (default -1: random); the same seed gives the same text

developer:
  --info                    print the model's structure and exit
  --tokens IDS              prompt given as comma-separated token ids (implies --raw)
  --dump-logits FILE        with --tokens: write {"tokens":[...],"logits":[[...]]} and exit
  --all-logits              ... for every position instead of the last
  --precision fast|exact    int8 activations (default) or fp32 activations
  --tokenize TEXT           print the token ids of TEXT as a JSON array (<bos> first); TEXT "-"
                            reads raw bytes from stdin. Control tokens in TEXT stay text unless
                            --parse-special; --no-bos omits <bos>
  --detokenize IDS          print the text of comma-separated ids exactly (control tokens as
                            their text, no newline added)

  -h, --help                this help
  --version                 print the version

In a chat, /help lists the commands; Ctrl-C stops a reply, Ctrl-D exits.
Exit status: 0 ok, 1 bad usage or input, 130 interrupted.
)";

namespace {

int64_t ToInt(const std::string& flag, const std::string& v, int64_t lo, int64_t hi) {
  int64_t x = 0;
  const char* end = v.data() + v.size();
  const auto [p, ec] = std::from_chars(v.data(), end, x);
  if (v.empty() || ec != std::errc() || p != end) Fail("{}: '{}' is not an integer", flag, v);
  if (x < lo || x > hi) Fail("{}: {} is out of range [{}, {}]", flag, x, lo, hi);
  return x;
}

float ToFloat(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  const float x = std::strtof(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(x)) {
    Fail("{}: '{}' is not a number", flag, v);
  }
  return x;
}

}  // namespace

std::vector<int32_t> ParseIds(const std::string& s) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    ids.push_back(static_cast<int32_t>(ToInt("--tokens", s.substr(pos, comma - pos), 0, INT32_MAX)));
    pos = comma + 1;
  }
  return ids;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("GEMMA_MODEL")) o.model = env;
  std::vector<std::string> words;
  bool only_words = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (only_words || a.empty() || a[0] != '-' || a == "-") {
      words.push_back(a);
      continue;
    }
    if (a == "--") {
      only_words = true;
      continue;
    }
    // --flag=value
    std::optional<std::string> inline_value;
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      if (eq != std::string::npos) {
        inline_value = a.substr(eq + 1);
        a = a.substr(0, eq);
      }
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) Fail("{} needs a value (see gemma-run --help)", a);
      return argv[++i];
    };
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--version") o.version = true;
    else if (a == "-m" || a == "--model") o.model = value();
    else if (a == "-p" || a == "--prompt") o.prompt = value();
    else if (a == "-f" || a == "--file") o.prompt_file = value();
    else if (a == "-sys" || a == "--system" || a == "--system-prompt") o.system = value();
    else if (a == "--raw") o.raw = true;
    else if (a == "-n" || a == "--n-predict") o.n_predict = ToInt(a, value(), -1, INT64_MAX);
    else if (a == "-c" || a == "--ctx-size") o.n_ctx = ToInt(a, value(), 0, INT32_MAX);
    else if (a == "--cache-type") {
      const std::string t = value();
      const auto type = ParseKvType(t);
      if (!type) Fail("--cache-type: expected f16, bf16, f32 or q8_0, got '{}'", t);
      o.cache_type = *type;
    }
    else if (a == "-t" || a == "--threads") o.threads = static_cast<int>(ToInt(a, value(), 1, 4096));
    else if (a == "--stop") o.stops.push_back(value());
    else if (a == "--ignore-eos") o.ignore_eos = true;
    else if (a == "-v" || a == "--verbose") o.verbose = true;
    else if (a == "--mmap") o.mmap = true;
    else if (a == "--think") o.think = true;
    else if (a == "--no-think") o.think = false;
    else if (a == "--hide-thinking") o.hide_thinking = o.think = true;
    else if (a == "--reasoning") {
      const std::string v = value();
      if (v == "on") o.think = true;
      else if (v == "off") o.think = false;
      else Fail("--reasoning: expected on or off, got '{}'", v);
    } else if (a == "--color") {
      const std::string v = value();
      if (v == "auto") o.color = Options::Color::kAuto;
      else if (v == "on" || v == "always") o.color = Options::Color::kOn;
      else if (v == "off" || v == "never") o.color = Options::Color::kOff;
      else Fail("--color: expected auto, on or off, got '{}'", v);
    } else if (a == "--temp") o.temp = ToFloat(a, value());
    else if (a == "--top-k") o.top_k = static_cast<int>(ToInt(a, value(), 0, INT32_MAX));
    else if (a == "--top-p") o.top_p = ToFloat(a, value());
    else if (a == "--min-p") o.min_p = ToFloat(a, value());
    else if (a == "--repeat-penalty") o.repeat_penalty = ToFloat(a, value());
    else if (a == "--repeat-last-n") o.repeat_last_n = static_cast<int>(ToInt(a, value(), 0, INT32_MAX));
    else if (a == "-s" || a == "--seed") o.seed = ToInt(a, value(), -1, INT64_MAX);
    else if (a == "--info") o.info = true;
    else if (a == "--tokens") o.tokens = value();
    else if (a == "--dump-logits") o.dump_logits = value();
    else if (a == "--all-logits") o.all_logits = true;
    else if (a == "--tokenize") o.tokenize = value();
    else if (a == "--detokenize") o.detokenize = value();
    else if (a == "--parse-special") o.parse_special = true;
    else if (a == "--no-bos") o.no_bos = true;
    else if (a == "--precision") {
      const std::string p = value();
      if (p == "exact") o.precision = Precision::kExact;
      else if (p == "fast") o.precision = Precision::kFast;
      else Fail("--precision: expected exact or fast, got '{}'", p);
    } else {
      Fail("unknown option '{}' (see gemma-run --help)", a);
    }
  }
  if (!words.empty()) {
    if (o.prompt) Fail("a prompt was given twice (-p and '{}')", words[0]);
    std::string joined;
    for (const std::string& w : words) joined += (joined.empty() ? "" : " ") + w;
    o.prompt = joined;
  }
  if (o.prompt && !o.prompt_file.empty()) Fail("give the prompt with -p or -f, not both");
  if (!o.tokens.empty() && (o.prompt || !o.prompt_file.empty())) {
    Fail("--tokens is the prompt: do not combine it with -p or -f");
  }
  if (!o.dump_logits.empty() && o.tokens.empty()) Fail("--dump-logits needs --tokens");
  if (o.tokenize && o.detokenize) Fail("--tokenize and --detokenize exclude each other");
  return o;
}

SamplerParams MergeSampling(const Options& o, SamplerParams p) {
  if (o.temp) p.temp = *o.temp;
  if (o.top_k) p.top_k = *o.top_k;
  if (o.top_p) p.top_p = *o.top_p;
  if (o.min_p) p.min_p = *o.min_p;
  if (o.repeat_penalty) p.repeat_penalty = *o.repeat_penalty;
  if (o.repeat_last_n) p.repeat_last_n = *o.repeat_last_n;
  p.seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : std::random_device{}();
  p.Validate();
  return p;
}

}  // namespace gemma::cli
