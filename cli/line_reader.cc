#include "cli/line_reader.h"

#include <histedit.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cwchar>

#include "cli/terminal.h"

namespace gemma::cli {

namespace {

// libedit asks a callback for the prompt; there is one reader per process.
std::string g_prompt;
char* PromptFn(EditLine*) { return const_cast<char*>(g_prompt.c_str()); }

// libedit's character source. Checking the Ctrl-C flag before every read() means a Ctrl-C
// that arrived while no read was blocked (say, just as a reply ended) is not lost: it ends
// this line read like one that interrupts the read itself.
int GetChar(EditLine*, wchar_t* wc) {
  std::mbstate_t state{};
  while (true) {
    if (Interrupted().load()) {
      errno = EINTR;
      return -1;
    }
    char c;
    const ssize_t r = read(STDIN_FILENO, &c, 1);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;  // the flag decides, at the top
      return -1;
    }
    const size_t k = std::mbrtowc(wc, &c, 1, &state);
    if (k == static_cast<size_t>(-2)) continue;  // the middle of a UTF-8 character
    if (k == static_cast<size_t>(-1)) {          // not valid in the locale: pass the byte on
      *wc = static_cast<unsigned char>(c);
      state = {};
    }
    return 1;
  }
}

}  // namespace

std::string DefaultHistoryPath() {
  if (const char* p = std::getenv("GEMMA_RUN_HISTORY")) return p;
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.gemma-run-history" : std::string();
}

LineReader::LineReader(std::string history_path) : history_path_(std::move(history_path)) {
  el_ = el_init("gemma-run", stdin, stdout, stderr);
  if (!el_) return;
  el_set(el_, EL_EDITOR, "emacs");
  el_set(el_, EL_PROMPT, &PromptFn);
  // No EL_SIGNAL: libedit's own handlers would re-send SIGINT to the whole process group. Ours
  // just raise a flag; the interrupted read() makes el_gets() return, and libedit puts the
  // terminal back to its normal mode before it does.
  el_set(el_, EL_SIGNAL, 0);
  el_set(el_, EL_GETCFN, &GetChar);
  hist_ = history_init();
  if (hist_) {
    HistEvent ev;
    history(hist_, &ev, H_SETSIZE, 1000);
    history(hist_, &ev, H_SETUNIQUE, 1);
    if (!history_path_.empty()) history(hist_, &ev, H_LOAD, history_path_.c_str());
    el_set(el_, EL_HIST, history, hist_);
  }
  el_source(el_, nullptr);  // the user's ~/.editrc, as other libedit programs do
}

LineReader::~LineReader() {
  if (hist_) {
    HistEvent ev;
    if (!history_path_.empty()) history(hist_, &ev, H_SAVE, history_path_.c_str());
    history_end(hist_);
  }
  if (el_) el_end(el_);
  RestoreTerminal();
}

LineReader::Status LineReader::Read(const std::string& prompt, std::string& line) {
  line.clear();
  if (!el_) {  // no line editor (should not happen on a terminal): plain stdio
    std::fputs(prompt.c_str(), stdout);
    std::fflush(stdout);
    int c;
    while ((c = std::getchar()) != EOF && c != '\n') line += static_cast<char>(c);
    if (Interrupted().load()) return Status::kInterrupted;
    return c == EOF && line.empty() ? Status::kEof : Status::kLine;
  }
  g_prompt = prompt;
  el_resize(el_);  // the window may have changed size while a reply was printed
  int count = 0;
  const char* s = el_gets(el_, &count);
  if (!s || count <= 0) {
    RestoreTerminal();  // belt and braces: whatever happened, the terminal is usable again
    if (Interrupted().load()) return Status::kInterrupted;
    return Status::kEof;
  }
  line.assign(s, static_cast<size_t>(count));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return Status::kLine;
}

void LineReader::AddHistory(const std::string& entry) {
  if (!hist_) return;
  HistEvent ev;
  history(hist_, &ev, H_ENTER, entry.c_str());
}

}  // namespace gemma::cli
