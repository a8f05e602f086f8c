// Running gemma-run from the tests: with pipes (one-shot mode: separate stdout, stderr and exit
// status) or on a pseudo-terminal (the chat, driven keystroke by keystroke). Waits are bounded
// only to turn a hang into a failure; nothing is timed.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <utmp.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "exe_wrapper.h"

namespace gemma::test {

// The gemma-run binary (meson passes its path).
inline std::string GemmaRunPath() {
  const char* p = std::getenv("GEMMA_RUN");
  return p ? p : "cli/gemma-run";
}

// Environment for children: no history file, no colours, a known terminal type.
inline std::vector<std::string> ChildEnv() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    if (kv.rfind("GEMMA_MODEL=", 0) == 0 || kv.rfind("TERM=", 0) == 0 ||
        kv.rfind("GEMMA_RUN_HISTORY=", 0) == 0 || kv.rfind("NO_COLOR=", 0) == 0) {
      continue;
    }
    env.push_back(kv);
  }
  env.push_back("GEMMA_RUN_HISTORY=");
  env.push_back("TERM=xterm");
  return env;
}

[[noreturn]] inline void ExecChild(const std::vector<std::string>& command,
                                   const std::vector<std::string>& extra_env) {
  const std::vector<std::string> args = WithExeWrapper(command);
  std::vector<std::string> env = ChildEnv();
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> argv, envp;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(argv[0], argv.data(), envp.data());
  _exit(127);
}

// Decoded wait status: the exit code, or 128 + signal like a shell.
inline int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

inline const int kWaitSeconds = std::getenv("GEMMA_TEST_WAIT") ? std::atoi(std::getenv("GEMMA_TEST_WAIT")) : 300;  // a hang guard (sanitizer builds are slow), not a timing

struct RunResult {
  int status = -1;
  std::string out, err;
};

// Runs gemma-run with `args` (argv[0] added), feeding `input` on stdin (closed afterwards; with
// `stdin_null` it is /dev/null). `on_output` may act when stdout grows (e.g. send a signal).
template <typename OnOutput>
RunResult Run(const std::vector<std::string>& args, const std::string& input,
              OnOutput on_output, const std::vector<std::string>& extra_env = {}) {
  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) std::abort();
  std::vector<std::string> full = {GemmaRunPath()};
  full.insert(full.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    ExecChild(full, extra_env);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  RunResult r;
  bool out_open = true, err_open = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kWaitSeconds);
  while (out_open || err_open) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out[0], POLLIN, 0};
    if (err_open) fds[n++] = {err[0], POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (poll(fds, static_cast<nfds_t>(n), 100) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_fd) {
        const ssize_t w = write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == input.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[4096];
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      const bool is_out = fds[i].fd == out[0];
      if (got <= 0) {
        (is_out ? out_open : err_open) = false;
        continue;
      }
      (is_out ? r.out : r.err).append(buf, static_cast<size_t>(got));
      if (is_out) on_output(pid, r.out);
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = ExitCode(status);
  return r;
}

inline RunResult Run(const std::vector<std::string>& args, const std::string& input = {},
                     const std::vector<std::string>& extra_env = {}) {
  return Run(args, input, [](pid_t, const std::string&) {}, extra_env);
}

// gemma-run on a pseudo-terminal.
class Pty {
 public:
  explicit Pty(const std::vector<std::string>& args) {
    struct winsize ws = {40, 120, 0, 0};
    if (openpty(&master_, &slave_, nullptr, nullptr, &ws) != 0) std::abort();
    tcgetattr(slave_, &initial_);
    std::vector<std::string> full = {GemmaRunPath()};
    full.insert(full.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      close(master_);
      login_tty(slave_);  // new session, the pty as controlling terminal and stdio
      ExecChild(full, {});
    }
    fcntl(master_, F_SETFL, O_NONBLOCK);
  }
  ~Pty() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(master_);
    close(slave_);
  }

  void Send(const std::string& keys) {
    size_t done = 0;
    while (done < keys.size()) {
      const ssize_t w = write(master_, keys.data() + done, keys.size() - done);
      if (w > 0) done += static_cast<size_t>(w);
      else usleep(1000);
    }
  }

  // Waits until `text` appears in the output after the cursor; moves the cursor past it.
  // Returns false (with everything seen in Output()) if the program exits or hangs first.
  bool Expect(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kWaitSeconds);
    while (true) {
      const size_t at = out_.find(text, cursor_);
      if (at != std::string::npos) {
        cursor_ = at + text.size();
        return true;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (!Pump(100)) return out_.find(text, cursor_) != std::string::npos && Expect(text);
    }
  }

  // Output after the cursor so far (pumping briefly first).
  std::string Rest() {
    Pump(50);
    return out_.substr(cursor_);
  }
  const std::string& Output() const { return out_; }

  // Waits for the exit; returns the exit code.
  int Wait() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kWaitSeconds);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      Pump(20);
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
    }
    Pump(20);
    exited_ = true;
    return ExitCode(status);
  }

  // Waits until the line editor has the terminal (canonical mode off). Keys sent before that
  // go through the kernel's line discipline instead: a Ctrl-D typed ahead, for one, becomes a
  // NUL byte there.
  bool WaitForLineEditor() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kWaitSeconds);
    while (Current().c_lflag & ICANON) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      Pump(5);
    }
    return true;
  }

  // The terminal's settings now and when the program started.
  termios Current() const {
    termios t;
    tcgetattr(slave_, &t);
    return t;
  }
  const termios& Initial() const { return initial_; }

 private:
  // Reads what is available within `ms`; false once the program closed the terminal.
  bool Pump(int ms) {
    pollfd p = {master_, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return true;
    char buf[4096];
    while (true) {
      const ssize_t got = read(master_, buf, sizeof buf);
      if (got > 0) {
        out_.append(buf, static_cast<size_t>(got));
        continue;
      }
      return !(got == 0 || (got < 0 && errno == EIO));
    }
  }

  int master_ = -1, slave_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  termios initial_;
  std::string out_;
  size_t cursor_ = 0;
};

inline bool SameTerminalSettings(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
         a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

}  // namespace gemma::test
