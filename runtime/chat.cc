#include "runtime/chat.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/printable.h"
#include "runtime/text_stream.h"

namespace gemma {

std::vector<HistoryMessage> WithSystem(const std::string& system,
                                    const std::vector<HistoryMessage>& messages) {
  std::vector<HistoryMessage> all;
  all.reserve(messages.size() + 1);
  if (!system.empty()) all.push_back({"system", system, {}});
  all.insert(all.end(), messages.begin(), messages.end());
  return all;
}

std::vector<int32_t> HistoryTokens(const TextCodec& codec, const std::vector<int32_t>& generated,
                                   const std::string& content) {
  // Shown text went through the same UTF-8 clean-up, so compare with it applied. Whitespace
  // at the edges is compared trimmed: the model's own (blank) tokens stay in its history
  // rather than making the next turn evaluate the whole reply again.
  Utf8Holdback clean;
  std::string text = clean.Push(codec.Decode(generated));
  text += clean.Flush();
  if (Trim(text) != content) return {};
  return generated;
}

Chat::Chat(Session& session, const TextCodec& codec, Sampler& sampler, ChatTemplateOptions options)
    : session_(session), codec_(codec), sampler_(sampler), options_(options) {
  ChatMarkers::Find(codec_);  // fail now, with a clear message, for a non-chat vocabulary
}

std::vector<int32_t> Chat::Render(bool add_generation_prompt) const {
  return RenderHistory(codec_, WithSystem(system_, messages_), options_, add_generation_prompt);
}

std::vector<float> Chat::Sync(const std::vector<int32_t>& tokens, TurnStats* stats,
                              const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  if (tokens.empty()) Fail("nothing to evaluate");
  if (static_cast<int64_t>(tokens.size()) > session_.ContextSize()) {
    Fail("context full: the conversation needs {} tokens, the context holds {}", tokens.size(),
         session_.ContextSize());
  }
  const std::vector<int32_t>& have = session_.Tokens();
  size_t common = static_cast<size_t>(
      std::mismatch(have.begin(), have.end(), tokens.begin(), tokens.end()).first - have.begin());
  // The last token is always evaluated again: its logits are what the reply starts from.
  common = std::min(common, tokens.size() - 1);
  session_.Rewind(static_cast<int64_t>(common));

  // Chunks of a few hundred tokens keep Ctrl-C responsive during a long prefill while staying
  // large enough for the batched matmuls.
  constexpr size_t kChunk = 256;
  std::vector<float> logits;
  for (size_t pos = common; pos < tokens.size(); pos += kChunk) {
    if (cancel && cancel->load()) return {};
    const size_t end = std::min(tokens.size(), pos + kChunk);
    logits = session_.Evaluate(std::span<const int32_t>(tokens.data() + pos, end - pos),
                               end == tokens.size() ? LogitsMode::kLast : LogitsMode::kNone);
  }
  if (stats) {
    stats->prompt_tokens = static_cast<int64_t>(tokens.size());
    stats->reused = static_cast<int64_t>(common);
    stats->evaluated = static_cast<int64_t>(tokens.size() - common);
    stats->prompt_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return logits;
}

GenerateResult Chat::Reply(const GenerateOptions& options, const TextSink& sink,
                           TurnStats* stats, bool drop_user_on_failure) {
  auto drop_user = [&] {
    if (drop_user_on_failure) messages_.pop_back();
  };
  TurnStats local;
  TurnStats& st = stats ? *stats : local;
  st = TurnStats{};
  st.context_size = session_.ContextSize();
  GenerateResult result;
  std::vector<float> logits;
  try {
    logits = Sync(Render(true), &st, options.cancel);
  } catch (const Error&) {
    drop_user();  // the user's message does not fit: leave the history as it was
    st.context_used = session_.Position();
    throw;
  }
  if (logits.empty()) {  // interrupted during the prompt
    drop_user();
    result.reason = st.reason = StopReason::kCancelled;
    st.context_used = session_.Position();
    return result;
  }
  result = Generate(session_, sampler_, codec_, std::move(logits), options, sink);
  st.generated = result.n_generated;
  st.gen_seconds = result.seconds;
  st.reason = result.reason;

  HistoryMessage reply{"model", Trim(result.answer), {}};
  if (reply.content.empty() &&
      (result.reason == StopReason::kCancelled || result.reason == StopReason::kContextFull)) {
    drop_user();  // nothing to keep: as if the turn had not happened
  } else {
    reply.tokens = HistoryTokens(codec_, result.answer_tokens, reply.content);
    messages_.push_back(std::move(reply));
  }
  st.context_used = session_.Position();
  return result;
}

GenerateResult Chat::Send(std::string_view user_text, const GenerateOptions& options,
                          const TextSink& sink, TurnStats* stats) {
  messages_.push_back({"user", Trim(user_text), {}});
  return Reply(options, sink, stats, /*drop_user_on_failure=*/true);
}

GenerateResult Chat::Regenerate(const GenerateOptions& options, const TextSink& sink,
                                TurnStats* stats) {
  if (!messages_.empty() && messages_.back().role == "model") messages_.pop_back();
  if (messages_.empty() || messages_.back().role != "user") {
    Fail("nothing to regenerate: no message to answer yet");
  }
  // The user's message was in the history before: it stays there whatever happens.
  return Reply(options, sink, stats, /*drop_user_on_failure=*/false);
}

std::string Chat::ToJson() const {
  nlohmann::json j;
  j["system"] = system_;
  j["thinking"] = options_.thinking;
  j["messages"] = nlohmann::json::array();
  for (const HistoryMessage& m : messages_) {
    j["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void Chat::FromJson(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    Fail("not valid JSON ({})", e.what());
  }
  const nlohmann::json* list = &j;
  std::string system;
  bool thinking = options_.thinking;
  if (j.is_object()) {
    if (j.contains("system")) {
      if (!j["system"].is_string()) Fail("\"system\" should be a string");
      system = j["system"].get<std::string>();
    }
    if (j.contains("thinking")) {
      if (!j["thinking"].is_boolean()) Fail("\"thinking\" should be true or false");
      thinking = j["thinking"].get<bool>();
    }
    if (!j.contains("messages")) Fail("no \"messages\" array");
    list = &j["messages"];
  }
  if (!list->is_array()) Fail("\"messages\" should be an array");
  std::vector<HistoryMessage> messages;
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& m = (*list)[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
        !m.contains("content") || !m["content"].is_string()) {
      Fail("message {} should be {{\"role\": \"...\", \"content\": \"...\"}}", i);
    }
    std::string role = m["role"].get<std::string>();
    if (role == "assistant") role = "model";
    if (role == "system" && i == 0 && system.empty()) {
      system = m["content"].get<std::string>();
      continue;
    }
    if (role != "user" && role != "model") {
      Fail("message {}: unknown role '{}' (expected user or model)", i, Printable(role));
    }
    messages.push_back({role, Trim(m["content"].get<std::string>()), {}});
  }
  system_ = Trim(system);
  options_.thinking = thinking;
  messages_ = std::move(messages);
}

}  // namespace gemma
