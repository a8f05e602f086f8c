// A conversation with a Gemma 4 model that keeps its KV cache between turns.
//
// The conversation is a list of messages; before each reply it is rendered with the chat
// template and the session is brought to exactly those tokens: the longest prefix already in
// the cache is kept and only the rest is evaluated (Session::Rewind + Evaluate). So a new turn
// costs only its own tokens, /regen rewinds to the end of the user's turn, /clear keeps the
// cached system prompt, and a reply whose thinking is dropped from the history is replaced in
// the cache by its history form: the cache always holds what the template renders.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/chat_template.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "runtime/text_codec.h"

namespace gemma {

// What one turn cost.
struct TurnStats {
  int64_t prompt_tokens = 0;  // the rendered conversation, generation prompt included
  int64_t reused = 0;         // of those, already in the cache
  int64_t evaluated = 0;      // of those, run through the model this turn
  double prompt_seconds = 0.0;
  int64_t generated = 0;
  double gen_seconds = 0.0;
  int64_t context_used = 0;   // tokens in the cache after the turn
  int64_t context_size = 0;
  StopReason reason = StopReason::kEndOfTurn;
};

class Chat {
 public:
  Chat(Session& session, const TextCodec& codec, Sampler& sampler,
       ChatTemplateOptions options = {});

  // Adds the user's message and generates the reply, streaming it through `sink`. The reply
  // (its answer, trimmed, without thinking) joins the history, also when stopped early; a turn
  // interrupted or cut by a full context before any answer leaves the history unchanged.
  GenerateResult Send(std::string_view user_text, const GenerateOptions& options,
                      const TextSink& sink, TurnStats* stats = nullptr);
  // Drops the last reply and generates a new one for the same user message. Throws
  // gemma::Error when there is no user message to answer.
  GenerateResult Regenerate(const GenerateOptions& options, const TextSink& sink,
                            TurnStats* stats = nullptr);

  // Forgets the messages (the system prompt stays). The cache is trimmed lazily, next turn.
  void Clear() { messages_.clear(); }
  void SetSystem(std::string_view text) { system_ = Trim(text); }
  const std::string& System() const { return system_; }
  void SetThinking(bool on) { options_.thinking = on; }
  bool Thinking() const { return options_.thinking; }
  const std::vector<HistoryMessage>& Messages() const { return messages_; }

  // {"system": "...", "thinking": false, "messages": [{"role": "user", "content": "..."}, ...]}
  std::string ToJson() const;
  // Replaces the conversation by one from ToJson() (or a bare array of messages). Throws
  // gemma::Error with a one-line reason for malformed input.
  void FromJson(std::string_view json);

  // The conversation rendered with the template (system prompt included).
  std::vector<int32_t> Render(bool add_generation_prompt) const;

  // Brings the session's cache to `tokens`: keeps the longest common prefix, evaluates the rest
  // (in chunks, checking `cancel` between them) and returns the logits of the last token.
  // Returns an empty vector when cancelled. Throws gemma::Error (session unchanged beyond the
  // common prefix) when the tokens do not fit the context.
  std::vector<float> Sync(const std::vector<int32_t>& tokens, TurnStats* stats,
                          const std::atomic<bool>* cancel);

  Session& session() { return session_; }

 private:
  GenerateResult Reply(const GenerateOptions& options, const TextSink& sink, TurnStats* stats,
                       bool drop_user_on_failure);

  Session& session_;
  const TextCodec& codec_;
  Sampler& sampler_;
  ChatTemplateOptions options_;
  std::string system_;
  std::vector<HistoryMessage> messages_;  // user and model turns, alternating
};

// The ids to keep for a reply in the history: the generated answer ids if they spell
// `content` (the trimmed, shown answer) up to whitespace at the edges; empty (re-encode the
// text) otherwise, e.g. after a stop string cut the text inside a token. Keeping the model's
// own ids is what lets the next turn reuse the cached reply instead of evaluating it again.
std::vector<int32_t> HistoryTokens(const TextCodec& codec, const std::vector<int32_t>& generated,
                                   const std::string& content);

// Messages as they go into the template: the system prompt (if any) first.
std::vector<HistoryMessage> WithSystem(const std::string& system,
                                    const std::vector<HistoryMessage>& messages);

}  // namespace gemma
