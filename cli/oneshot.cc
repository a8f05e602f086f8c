// One-shot mode: the answer (only) on stdout, streamed; notes and stats on stderr.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "cli/app.h"
#include "runtime/error.h"

namespace gemma::cli {

std::string StatsLine(const App& app, const TurnStats& s, bool with_load) {
  auto rate = [](int64_t n, double sec) { return sec > 0 ? static_cast<double>(n) / sec : 0.0; };
  std::string line = "[ ";
  if (with_load) line += fmt::format("load {:.2f} s | ", app.load_seconds);
  line += fmt::format("prompt {} tokens", s.evaluated);
  if (s.reused > 0) line += fmt::format(" (+{} cached)", s.reused);
  line += fmt::format(", {:.1f} t/s | generation {} tokens, {:.1f} t/s ]", rate(s.evaluated, s.prompt_seconds),
                      s.generated, rate(s.generated, s.gen_seconds));
  return line;
}

bool WriteOut(std::string_view text) {
  if (text.empty()) return true;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) return false;
  return std::fflush(stdout) == 0;
}

namespace {

// Streams the answer to stdout and the thoughts (unless hidden) dimmed to stderr, so that
// `gemma-run -p ... > out.txt` holds the answer alone.
struct OneShotSink {
  App& app;
  bool stdout_gone = false;
  bool in_thought = false;

  void operator()(TextKind kind, std::string_view text) {
    if (kind == TextKind::kThinking) {
      if (app.opt.hide_thinking) return;
      if (!in_thought) std::fputs(app.err.dim(), stderr);
      in_thought = true;
      std::fwrite(text.data(), 1, text.size(), stderr);
      std::fflush(stderr);
      return;
    }
    EndThought();
    if (stdout_gone) return;
    if (!WriteOut(text)) {
      stdout_gone = true;
      Interrupted().store(true);  // nobody reads any more: stop generating
    }
  }
  void EndThought() {
    if (!in_thought) return;
    std::fprintf(stderr, "%s\n", app.err.reset());
    in_thought = false;
  }
};

int Finish(App& app, const GenerateResult& r, const TurnStats& st, OneShotSink& sink) {
  sink.EndThought();
  if (!sink.stdout_gone && !r.answer.empty() && r.answer.back() != '\n') WriteOut("\n");
  if (r.reason == StopReason::kContextFull) {
    fmt::print(stderr, "gemma-run: stopped: the context ({} tokens) is full; use -c to enlarge it\n",
               st.context_size);
  }
  fmt::print(stderr, "{}\n", StatsLine(app, st, true));
  if (r.reason == StopReason::kCancelled && !sink.stdout_gone) return 130;
  return 0;
}

}  // namespace

int RunOneShot(App& app, const std::string& prompt) {
  if (app.opt.raw) {
    // Plain completion: BOS (Gemma 4 always starts with it) and the text, nothing else.
    std::vector<int32_t> ids;
    if (app.codec->bos_id() != TextCodec::kNone) ids.push_back(app.codec->bos_id());
    const std::vector<int32_t> text = app.codec->Encode(prompt);
    ids.insert(ids.end(), text.begin(), text.end());
    return RunTokens(app, ids);
  }
  Session session(*app.model, app.session);
  if (app.opt.verbose) fmt::print(stderr, "gemma-run: {}\n", session.cache().Describe());
  Sampler sampler(app.sampling);
  GenerateOptions gen;
  gen.max_tokens = app.opt.n_predict;
  gen.stop_strings = app.opt.stops;
  gen.ignore_eos = app.opt.ignore_eos;
  gen.cancel = &Interrupted();
  OneShotSink sink{app};
  TurnStats st;
  GenerateResult r;
  Chat chat(session, *app.codec, sampler, app.chat);
  chat.SetSystem(app.opt.system);
  r = chat.Send(prompt, gen, std::ref(sink), &st);
  if (r.reason == StopReason::kCancelled && st.generated == 0 && st.evaluated == 0) {
    fmt::print(stderr, "gemma-run: interrupted\n");
    return 130;
  }
  return Finish(app, r, st, sink);
}

int RunTokens(App& app, const std::vector<int32_t>& prompt) {
  if (prompt.empty()) Fail("the prompt is empty");
  Session session(*app.model, app.session);
  if (app.opt.verbose) fmt::print(stderr, "gemma-run: {}\n", session.cache().Describe());
  Sampler sampler(app.sampling);
  GenerateOptions gen;
  gen.max_tokens = app.opt.n_predict;
  gen.stop_strings = app.opt.stops;
  gen.ignore_eos = app.opt.ignore_eos;
  gen.cancel = &Interrupted();
  OneShotSink sink{app};
  TurnStats st;
  st.context_size = session.ContextSize();
  if (static_cast<int64_t>(prompt.size()) > session.ContextSize()) {
    Fail("the prompt has {} tokens but the context holds {} (use -c)", prompt.size(),
         session.ContextSize());
  }
  // The same chunked, interruptible prefill as a chat turn.
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> logits;
  constexpr size_t kChunk = 256;
  for (size_t pos = 0; pos < prompt.size(); pos += kChunk) {
    if (Interrupted().load()) {
      fmt::print(stderr, "gemma-run: interrupted\n");
      return 130;
    }
    const size_t end = std::min(prompt.size(), pos + kChunk);
    logits = session.Evaluate(std::span<const int32_t>(prompt.data() + pos, end - pos),
                              end == prompt.size() ? LogitsMode::kLast : LogitsMode::kNone);
  }
  st.prompt_tokens = st.evaluated = static_cast<int64_t>(prompt.size());
  st.prompt_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const GenerateResult r = Generate(session, sampler, *app.codec, std::move(logits), gen, std::ref(sink));
  st.generated = r.n_generated;
  st.gen_seconds = r.seconds;
  st.reason = r.reason;
  st.context_used = session.Position();
  return Finish(app, r, st, sink);
}

}  // namespace gemma::cli
