// The interactive chat: read a message (or a /command), stream the reply, repeat. The model
// work is the library's Chat; this file is input, output and commands.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "cli/app.h"
#include "cli/line_reader.h"
#include "runtime/error.h"

namespace gemma::cli {

namespace {

constexpr const char* kHelp = R"(Commands:
  /help              this list
  /exit, /bye        leave (also Ctrl-D)
  /clear             start a new conversation (the system prompt stays)
  /regen             answer the last message again
  /system [TEXT]     show or set the system prompt
  /set               show the sampling settings
  /set NAME VALUE    change one: temp, top-k, top-p, min-p, repeat-penalty, repeat-last-n,
                     seed, n (max tokens per reply, -1: no limit)
  /think on|off      let the model think before answering
  /stats             tokens and speed of the last reply, context used
  /save FILE         save the conversation as JSON
  /load FILE         load a conversation saved with /save
Multi-line input: end a line with \ to continue it, or put the text between """ lines.
Ctrl-C stops a reply; Ctrl-C twice at the prompt exits.
)";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Repl {
 public:
  explicit Repl(App& app)
      : app_(app),
        session_(*app.model, app.session),
        sampler_(app.sampling),
        chat_(session_, *app.codec, sampler_, app.chat),
        reader_(DefaultHistoryPath()) {
    chat_.SetSystem(app.opt.system);
    gen_.max_tokens = app.opt.n_predict;
    gen_.stop_strings = app.opt.stops;
    gen_.ignore_eos = app.opt.ignore_eos;
    gen_.cancel = &Interrupted();
  }

  int Run() {
    const ModelConfig& c = app_.model->config;
    fmt::print(stderr, "gemma-run: {} ({}, {} layers), context {} tokens{}. /help for commands, Ctrl-D to exit.\n",
               c.name.empty() ? "model" : c.name, c.Variant(), c.n_layer, session_.ContextSize(),
               chat_.Thinking() ? ", thinking on" : "");
    fmt::print(stderr, "gemma-run: {} (memory is committed as the context fills)\n",
               session_.cache().Describe());
    int ctrl_c = 0;  // Ctrl-Cs in a row with nothing typed in between
    while (true) {
      std::string input;
      const LineReader::Status st = ReadMessage(input);
      if (st == LineReader::Status::kEof) {
        WriteOut("\n");
        return 0;
      }
      if (st == LineReader::Status::kInterrupted) {
        Interrupted().store(false);
        if (++ctrl_c >= 2) {
          WriteOut("\n");
          return 130;
        }
        fmt::print(stderr, "\n(Ctrl-C again to exit; Ctrl-D or /exit also leave)\n");
        continue;
      }
      ctrl_c = 0;
      if (Trim(input).empty()) continue;
      reader_.AddHistory(input);
      if (input[0] == '/' && input.size() > 1 && std::isalpha(static_cast<unsigned char>(input[1]))) {
        bool quit = false;
        try {
          quit = Command(input);
        } catch (const Error& e) {
          fmt::print(stderr, "error: {}\n", e.what());
        }
        if (quit) return 0;
      } else {
        Turn([&](const TextSink& sink) { return chat_.Send(input, gen_, sink, &last_); });
      }
      // A reply stopped with Ctrl-C counts as the first of the two that exit; that Ctrl-C is
      // used up (a later one, even during the reply's last moments, is a new one).
      if (last_.reason == StopReason::kCancelled) {
        ctrl_c = 1;
        Interrupted().store(false);
      }
      last_.reason = StopReason::kEndOfTurn;
    }
  }

 private:
  // One message: a line, lines joined by a trailing backslash, or a """ block.
  LineReader::Status ReadMessage(std::string& out) {
    std::string line;
    LineReader::Status st = reader_.Read(">>> ", line);
    if (st != LineReader::Status::kLine) return st;
    if (line.rfind("\"\"\"", 0) == 0) {
      std::string rest = line.substr(3);
      // """text""" on one line
      if (rest.size() >= 3 && rest.compare(rest.size() - 3, 3, "\"\"\"") == 0) {
        out = rest.substr(0, rest.size() - 3);
        return LineReader::Status::kLine;
      }
      out = rest;
      bool first = rest.empty();
      while (true) {
        st = reader_.Read("... ", line);
        if (st != LineReader::Status::kLine) return st;
        const bool end = line.size() >= 3 && line.compare(line.size() - 3, 3, "\"\"\"") == 0;
        if (end) line.resize(line.size() - 3);
        if (!(end && line.empty())) {
          out += (first ? "" : "\n") + line;
          first = false;
        }
        if (end) return LineReader::Status::kLine;
      }
    }
    out = line;
    while (!out.empty() && out.back() == '\\') {
      out.back() = '\n';
      st = reader_.Read("... ", line);
      if (st != LineReader::Status::kLine) return st;
      out += line;
    }
    return LineReader::Status::kLine;
  }

  // Runs one reply, streaming it; reports how it ended.
  void Turn(const std::function<GenerateResult(const TextSink&)>& go) {
    const Style& s = app_.out;
    bool in_thought = false, any = false, hidden_note = false;
    char last = '\n';
    auto sink = [&](TextKind kind, std::string_view text) {
      if (kind == TextKind::kThinking) {
        if (app_.opt.hide_thinking) {
          if (!hidden_note && s.on) WriteOut(fmt::format("{}Thinking...{}", s.dim(), s.reset()));
          hidden_note = true;
          return;
        }
        if (!in_thought) WriteOut(s.dim());
        in_thought = true;
      } else {
        if (hidden_note) {
          WriteOut("\r\x1b[K");  // erase "Thinking..."
          hidden_note = false;
        }
        if (in_thought) {
          WriteOut(s.reset());
          WriteOut(last == '\n' ? "\n" : "\n\n");
          in_thought = false;
        }
      }
      WriteOut(text);
      if (!text.empty()) last = text.back();
      any = true;
    };
    GenerateResult r;
    try {
      r = go(sink);
    } catch (const Error& e) {
      if (in_thought) WriteOut(s.reset());
      if (any && last != '\n') WriteOut("\n");
      const std::string what = e.what();
      if (what.rfind("context full", 0) == 0) {
        fmt::print(stderr, "{}. /clear starts a new conversation.\n", what);
      } else {
        fmt::print(stderr, "error: {}\n", what);
      }
      return;
    }
    if (in_thought) WriteOut(s.reset());
    if (hidden_note) WriteOut("\r\x1b[K");
    if (any && last != '\n') WriteOut("\n");
    switch (r.reason) {
      case StopReason::kCancelled:
        fmt::print(stderr, "{}[stopped]{}\n", app_.err.dim(), app_.err.reset());
        break;
      case StopReason::kContextFull:
        fmt::print(stderr, "context full ({} tokens). /clear starts a new conversation.\n",
                   session_.ContextSize());
        break;
      case StopReason::kMaxTokens:
        if (app_.opt.verbose) fmt::print(stderr, "[token limit reached]\n");
        break;
      default:
        break;
    }
    ++turns_;
    total_evaluated_ += last_.evaluated;
    total_generated_ += last_.generated;
    if (app_.opt.verbose) {
      fmt::print(stderr, "{} [context {}/{}]\n", StatsLine(app_, last_, false), last_.context_used,
                 last_.context_size);
    }
  }

  // Handles a /command; returns true to leave.
  bool Command(const std::string& line) {
    const size_t sp = line.find_first_of(" \t");
    const std::string cmd = line.substr(0, sp);
    const std::string arg = sp == std::string::npos ? std::string() : Trim(line.substr(sp + 1));
    if (cmd == "/help" || cmd == "/?") {
      WriteOut(kHelp);
    } else if (cmd == "/exit" || cmd == "/bye" || cmd == "/quit") {
      return true;
    } else if (cmd == "/clear") {
      chat_.Clear();
      WriteOut("(new conversation)\n");
    } else if (cmd == "/regen") {
      Turn([&](const TextSink& sink) { return chat_.Regenerate(gen_, sink, &last_); });
    } else if (cmd == "/system") {
      if (arg.empty()) {
        WriteOut(chat_.System().empty() ? "(no system prompt)\n" : chat_.System() + "\n");
      } else {
        chat_.SetSystem(arg);
        WriteOut("(system prompt set)\n");
      }
    } else if (cmd == "/set") {
      Set(arg);
    } else if (cmd == "/think") {
      if (arg == "on" || arg == "off") {
        chat_.SetThinking(arg == "on");
        WriteOut(fmt::format("(thinking {})\n", arg));
      } else if (arg.empty()) {
        WriteOut(fmt::format("(thinking is {})\n", chat_.Thinking() ? "on" : "off"));
      } else {
        Fail("/think: expected on or off, got '{}'", arg);
      }
    } else if (cmd == "/stats") {
      Stats();
    } else if (cmd == "/save") {
      if (arg.empty()) Fail("/save needs a file name");
      const std::string json = chat_.ToJson();
      std::ofstream out(arg, std::ios::binary);
      out.write(json.data(), static_cast<std::streamsize>(json.size()));
      out.close();
      if (!out) Fail("{}: cannot write", arg);
      WriteOut(fmt::format("(saved {} messages to {})\n", chat_.Messages().size(), arg));
    } else if (cmd == "/load") {
      if (arg.empty()) Fail("/load needs a file name");
      const std::string text = ReadFile(arg);
      try {
        chat_.FromJson(text);
      } catch (const Error& e) {
        Fail("{}: {}", arg, e.what());
      }
      WriteOut(fmt::format("(loaded {} messages from {})\n", chat_.Messages().size(), arg));
    } else {
      Fail("unknown command {} (see /help)", cmd);
    }
    return false;
  }

  void Set(const std::string& arg) {
    SamplerParams p = sampler_.params();
    if (arg.empty()) {
      WriteOut(fmt::format("{} n {}\n", p.ToString(), gen_.max_tokens));
      return;
    }
    const size_t sp = arg.find_first_of(" \t");
    const std::string name = arg.substr(0, sp);
    const std::string value = sp == std::string::npos ? std::string() : Trim(arg.substr(sp + 1));
    if (value.empty()) Fail("/set {} needs a value", name);
    // Reuse the command-line parser, so values mean and are checked the same way.
    std::string flag = name == "n" ? "-n" : name == "seed" ? "--seed" : "--" + name;
    std::vector<std::string> argv_s = {"gemma-run", "-m", "x", flag, value};
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    Options o;
    try {
      o = ParseArgs(static_cast<int>(argv.size()), argv.data());
    } catch (const Error&) {
      if (name != "n" && name != "seed" && name != "temp" && name != "top-k" && name != "top-p" &&
          name != "min-p" && name != "repeat-penalty" && name != "repeat-last-n") {
        Fail("/set: unknown setting '{}' (temp, top-k, top-p, min-p, repeat-penalty, "
             "repeat-last-n, seed, n)", name);
      }
      throw;
    }
    if (name == "n") {
      gen_.max_tokens = o.n_predict;
    } else if (name == "seed") {
      if (o.seed < 0) Fail("/set seed: expected a number >= 0");
      sampler_.Reseed(static_cast<uint64_t>(o.seed));
    } else {
      const uint64_t seed = p.seed;
      o.seed = static_cast<int64_t>(seed);
      SamplerParams merged = MergeSampling(o, p);
      sampler_.SetParams(merged);
    }
    WriteOut(fmt::format("({} = {})\n", name, value));
  }

  void Stats() {
    auto rate = [](int64_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; };
    if (turns_ == 0) {
      WriteOut("no reply yet\n");
    } else {
      WriteOut(fmt::format(
          "last reply: prompt {} tokens (evaluated {}, reused {}), {:.1f} t/s | generated {}, "
          "{:.1f} t/s\n",
          last_.prompt_tokens, last_.evaluated, last_.reused,
          rate(last_.evaluated, last_.prompt_seconds), last_.generated,
          rate(last_.generated, last_.gen_seconds)));
    }
    WriteOut(fmt::format("context: {} of {} tokens used\n", session_.Position(),
                         session_.ContextSize()));
    WriteOut(fmt::format("session: {} replies, {} prompt tokens evaluated, {} generated\n", turns_,
                         total_evaluated_, total_generated_));
  }

  App& app_;
  Session session_;
  Sampler sampler_;
  Chat chat_;
  LineReader reader_;
  GenerateOptions gen_;
  TurnStats last_;
  int turns_ = 0;
  int64_t total_evaluated_ = 0, total_generated_ = 0;
};

}  // namespace

int RunRepl(App& app) {
  SaveTerminal();
  Repl repl(app);
  const int status = repl.Run();
  RestoreTerminal();
  return status;
}

}  // namespace gemma::cli
