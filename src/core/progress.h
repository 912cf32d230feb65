// A progress bar for long CLI work, drawn on stderr only when it is a
// terminal (otherwise a log line every few seconds), thread-safe to Advance.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace haip {

class ProgressBar {
 public:
  // total == 0 means unknown: shows a count and a rate instead of a bar.
  ProgressBar(std::string label, uint64_t total, std::string unit = "items");
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Advance(uint64_t n = 1);
  // Draws the final state and a newline; called by the destructor if not before.
  void Finish();

 private:
  void Draw(bool final);

  std::string label_;
  std::string unit_;
  uint64_t total_;
  std::atomic<uint64_t> done_{0};
  int64_t start_ms_;
  std::atomic<int64_t> last_draw_ms_{0};
  std::mutex draw_mu_;
  bool tty_;
  bool finished_ = false;
};

}  // namespace haip
