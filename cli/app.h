// What both modes of gemma-run share: the loaded model, its tokenizer, the session settings,
// the sampler settings, output styles, and the stats line.
#pragma once

#include <string>

#include "cli/args.h"
#include "cli/terminal.h"
#include "runtime/chat.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "runtime/text_codec.h"

namespace gemma::cli {

struct App {
  Options opt;
  const Model* model = nullptr;
  const TextCodec* codec = nullptr;
  SessionOptions session;
  SamplerParams sampling;
  ChatTemplateOptions chat;
  double load_seconds = 0.0;
  Style out, err;  // styles for stdout and stderr (on only where that stream is a terminal)
};

// "[ load 0.04 s | prompt 12 tokens, 310.2 t/s | generation 32 tokens, 95.0 t/s ]"
std::string StatsLine(const App& app, const TurnStats& s, bool with_load);

// Writes to stdout and flushes; false once stdout is gone (EPIPE: the reader quit).
bool WriteOut(std::string_view text);

// The one-shot modes; return the process exit status.
int RunOneShot(App& app, const std::string& prompt);
int RunTokens(App& app, const std::vector<int32_t>& prompt);
// The interactive chat; returns the process exit status.
int RunRepl(App& app);

}  // namespace gemma::cli
