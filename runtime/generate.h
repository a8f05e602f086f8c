// The decode loop: sample a token, show its text, feed it back, until the model ends its turn
// or a limit is hit. Text is streamed through a callback as soon as it is safe to show (whole
// UTF-8 characters, never part of a stop string), split into the thought channel
// (<|channel>thought\n ... <channel|>) and the answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/session.h"
#include "runtime/text_codec.h"

namespace gemma {

enum class StopReason {
  kEndOfTurn,    // the model produced <turn|> or <eos>
  kMaxTokens,    // the -n limit
  kStopString,   // a --stop string appeared in the answer
  kContextFull,  // the context has no room for another token
  kCancelled,    // the cancel flag was raised (Ctrl-C)
};
const char* StopReasonName(StopReason r);

enum class TextKind { kAnswer, kThinking };
using TextSink = std::function<void(TextKind, std::string_view)>;

struct GenerateOptions {
  int64_t max_tokens = -1;                // -1: no limit
  std::vector<std::string> stop_strings;  // end the answer where one appears (not shown)
  bool ignore_eos = false;                // keep going through end-of-turn tokens
  const std::atomic<bool>* cancel = nullptr;  // checked before every token
  // Picks the next token instead of the sampler when set (constrained decoding, scripted
  // tests): gets the logits row and the tokens in the cache.
  std::function<int32_t(std::span<const float>, std::span<const int32_t>)> choose;
};

struct GenerateResult {
  std::string answer;    // the answer text as shown (up to a stop string)
  std::string thinking;  // the thought channel's text, without the channel name
  std::vector<int32_t> answer_tokens;  // ids generated in the answer channel (no stop token)
  int64_t n_generated = 0;             // tokens sampled, including a final end-of-turn token
  double seconds = 0.0;                // wall time of the loop (sampling + forward passes)
  StopReason reason = StopReason::kEndOfTurn;
};

// The ids that end a turn: <turn|>, <eos> and <|tool_response> (tokenizer/chat.h StopTokens;
// spec/tokenizer.md §4: use the set, not the eos key, which some files set to either).
std::vector<int32_t> EndOfTurnIds(const TextCodec& codec);

// Generates from `logits`, the row of the last token already in `session`. The sampled tokens
// are fed to the session one by one, except the last one (an end-of-turn token, or the one that
// hit a limit), which is not needed to continue.
GenerateResult Generate(Session& session, Sampler& sampler, const TextCodec& codec,
                        std::vector<float> logits, const GenerateOptions& options,
                        const TextSink& sink);

}  // namespace gemma
