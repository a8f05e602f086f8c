// Line input for the chat: libedit (BSD) for editing and history, with Ctrl-C reported as its
// own outcome rather than killing the process.
#pragma once

#include <string>

struct editline;
struct history;

namespace gemma::cli {

class LineReader {
 public:
  // `history_path`: file the history is loaded from and saved to ("" for none).
  explicit LineReader(std::string history_path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  enum class Status { kLine, kEof, kInterrupted };
  // Shows `prompt` and reads one line (without its newline).
  Status Read(const std::string& prompt, std::string& line);
  void AddHistory(const std::string& entry);

 private:
  struct editline* el_ = nullptr;
  struct history* hist_ = nullptr;
  std::string history_path_;
};

// Where the chat history is kept: $GEMMA_RUN_HISTORY ("" disables it), else
// $HOME/.gemma-run-history.
std::string DefaultHistoryPath();

}  // namespace gemma::cli
