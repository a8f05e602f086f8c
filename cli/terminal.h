// Signals and terminal state for gemma-run: Ctrl-C becomes a flag the generation loop polls,
// the terminal's settings are restored on every way out, and styles are only used on a tty.
#pragma once

#include <atomic>
#include <string>

namespace gemma::cli {

// SIGINT sets Interrupted() (and does not restart interrupted reads, so a blocked line read
// returns); SIGPIPE is ignored so a closed pipe is an ordinary write error; SIGTERM/SIGHUP
// restore the terminal before dying as usual.
void InstallSignalHandlers();
std::atomic<bool>& Interrupted();

bool IsTerminal(int fd);

// Saves the terminal settings of stdin (if a tty) and restores them at exit, on SIGTERM/SIGHUP
// and whenever Restore() is called.
void SaveTerminal();
void RestoreTerminal();

struct Style {
  bool on = false;
  const char* dim() const { return on ? "\x1b[2m" : ""; }
  const char* bold() const { return on ? "\x1b[1m" : ""; }
  const char* reset() const { return on ? "\x1b[0m" : ""; }
};

}  // namespace gemma::cli
