#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include "core/clock.h"

namespace haip {

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_ms_(clock::NowMillis()),
      last_draw_ms_(start_ms_),
      tty_(isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Advance(uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  int64_t now = clock::NowMillis();
  int64_t last = last_draw_ms_.load(std::memory_order_relaxed);
  int64_t interval = tty_ ? 100 : 5000;
  if (now - last >= interval && last_draw_ms_.compare_exchange_strong(last, now)) Draw(false);
}

void ProgressBar::Finish() {
  std::lock_guard lock(draw_mu_);
  if (finished_) return;
  finished_ = true;
  Draw(true);
}

void ProgressBar::Draw(bool final) {
  if (!final && !draw_mu_.try_lock()) return;
  uint64_t done = done_.load();
  double secs = static_cast<double>(clock::NowMillis() - start_ms_) / 1000.0;
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  char line[256];
  if (total_ > 0) {
    constexpr int kWidth = 30;
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::snprintf(line, sizeof line, "%s [%s] %3.0f%% %llu/%llu %s (%.0f/s)", label_.c_str(),
                  bar.c_str(), frac * 100, static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total_), unit_.c_str(), rate);
  } else {
    std::snprintf(line, sizeof line, "%s %llu %s (%.0f/s)", label_.c_str(),
                  static_cast<unsigned long long>(done), unit_.c_str(), rate);
  }
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line);
  }
  std::fflush(stderr);
  if (!final) draw_mu_.unlock();
}

}  // namespace haip
