#include "runtime/generate.h"

#include <algorithm>
#include <chrono>

#include "runtime/text_stream.h"
#include "tokenizer/chat.h"

namespace gemma {

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kEndOfTurn: return "end of turn";
    case StopReason::kMaxTokens: return "token limit";
    case StopReason::kStopString: return "stop string";
    case StopReason::kContextFull: return "context full";
    case StopReason::kCancelled: return "interrupted";
  }
  return "?";
}

std::vector<int32_t> EndOfTurnIds(const TextCodec& codec) {
  return StopTokens(codec.tokenizer());
}

namespace {

// Routes token text to the answer or the thought channel, holding back what is not yet safe
// to show.
class Router {
 public:
  Router(const TextCodec& codec, const GenerateOptions& options, const TextSink& sink,
         GenerateResult& result)
      : codec_(codec),
        sink_(sink),
        result_(result),
        stop_(options.stop_strings),
        open_(codec.Find("<|channel>")),
        close_(codec.Find("<channel|>")) {}

  // Handles one generated token; returns false once a stop string ended the answer.
  bool Token(int32_t id) {
    if (id == open_ && open_ != TextCodec::kNone) {
      EndThinking();
      thinking_ = true;
      in_name_ = true;
      name_.clear();
      return true;
    }
    if (id == close_ && close_ != TextCodec::kNone) {
      EndThinking();
      return true;
    }
    const std::string bytes = codec_.Decode(id);
    if (thinking_) {
      Think(bytes);
      return true;
    }
    result_.answer_tokens.push_back(id);
    Answer(answer_utf8_.Push(bytes));
    return !stop_.Stopped();
  }

  void Finish() {
    EndThinking();
    Answer(answer_utf8_.Flush());
    Answer(stop_.Flush());
  }

 private:
  void Think(std::string_view bytes) {
    if (in_name_) {
      // The channel's name ("thought") runs up to the first newline; it is not shown.
      name_.append(bytes);
      const size_t nl = name_.find('\n');
      if (nl == std::string::npos) return;
      in_name_ = false;
      bytes = std::string_view(name_).substr(nl + 1);
    }
    Emit(TextKind::kThinking, thought_utf8_.Push(bytes));
  }

  void EndThinking() {
    if (!thinking_) return;
    Emit(TextKind::kThinking, thought_utf8_.Flush());
    thinking_ = in_name_ = false;
  }

  void Answer(const std::string& text) {
    if (stop_.Stopped()) return;
    Emit(TextKind::kAnswer, stop_.Push(text));
  }

  void Emit(TextKind kind, const std::string& text) {
    if (text.empty()) return;
    (kind == TextKind::kAnswer ? result_.answer : result_.thinking) += text;
    if (sink_) sink_(kind, text);
  }

  const TextCodec& codec_;
  const TextSink& sink_;
  GenerateResult& result_;
  Utf8Holdback answer_utf8_, thought_utf8_;
  StopMatcher stop_;
  int32_t open_, close_;
  bool thinking_ = false, in_name_ = false;
  std::string name_;
};

}  // namespace

GenerateResult Generate(Session& session, Sampler& sampler, const TextCodec& codec,
                        std::vector<float> logits, const GenerateOptions& options,
                        const TextSink& sink) {
  const auto start = std::chrono::steady_clock::now();
  GenerateResult result;
  Router router(codec, options, sink, result);
  const std::vector<int32_t> end_ids = EndOfTurnIds(codec);
  auto cancelled = [&] { return options.cancel && options.cancel->load(); };

  while (true) {
    if (options.max_tokens >= 0 && result.n_generated >= options.max_tokens) {
      result.reason = StopReason::kMaxTokens;
      break;
    }
    if (cancelled()) {
      result.reason = StopReason::kCancelled;
      break;
    }
    const int32_t id = options.choose ? options.choose(logits, session.Tokens())
                                      : sampler.Sample(logits, session.Tokens());
    ++result.n_generated;
    const bool end = std::find(end_ids.begin(), end_ids.end(), id) != end_ids.end();
    if (end && !options.ignore_eos) {
      result.reason = StopReason::kEndOfTurn;
      break;
    }
    if (!router.Token(id)) {
      result.reason = StopReason::kStopString;
      break;
    }
    if (options.max_tokens >= 0 && result.n_generated >= options.max_tokens) {
      result.reason = StopReason::kMaxTokens;
      break;
    }
    if (session.Position() >= session.ContextSize()) {
      result.reason = StopReason::kContextFull;
      break;
    }
    logits = session.Evaluate(std::span<const int32_t>(&id, 1), LogitsMode::kLast);
  }
  router.Finish();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace gemma
