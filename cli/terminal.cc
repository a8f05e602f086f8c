#include "cli/terminal.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

namespace gemma::cli {

namespace {

std::atomic<bool> g_interrupted{false};
struct termios g_saved;
volatile sig_atomic_t g_have_saved = 0;

void OnInterrupt(int) { g_interrupted.store(true); }

void OnTerminate(int sig) {
  // tcsetattr is async-signal-safe; then die of the signal as if it had not been caught.
  if (g_have_saved) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

std::atomic<bool>& Interrupted() { return g_interrupted; }

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read blocked in the line editor returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction term = {};
  term.sa_handler = OnTerminate;
  sigemptyset(&term.sa_mask);
  sigaction(SIGTERM, &term, nullptr);
  sigaction(SIGHUP, &term, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool IsTerminal(int fd) { return isatty(fd) == 1; }

void SaveTerminal() {
  if (!IsTerminal(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved) != 0) return;
  g_have_saved = 1;
  static bool registered = false;
  if (!registered) {
    registered = true;
    std::atexit(RestoreTerminal);
  }
}

void RestoreTerminal() {
  // TCSANOW: keep what the user typed ahead.
  if (g_have_saved) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
}

}  // namespace gemma::cli
