#include "infer/stop_strings.h"

#include <algorithm>

namespace haip::infer {
namespace {

// Bytes at the end of `s` that start a UTF-8 sequence not yet complete.
size_t IncompleteUtf8Tail(std::string_view s) {
  size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return len > back ? back : 0;
  }
  return 0;
}

}  // namespace

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops, bool hold_incomplete_utf8)
    : hold_utf8_(hold_incomplete_utf8) {
  for (size_t i = 0; i < stops.size(); ++i) {
    if (stops[i].empty()) continue;
    stops_.push_back(std::move(stops[i]));
    index_.push_back(static_cast<int>(i));
  }
}

StopStringMatcher::Result StopStringMatcher::Feed(std::string_view piece) {
  Result r;
  if (stopped_) {
    r.stopped = true;
    r.stop_index = stop_index_;
    return r;
  }
  buffer_.append(piece);
  // The earliest complete stop string wins (the longer one on a tie).
  size_t best = std::string::npos;
  int which = -1;
  for (size_t i = 0; i < stops_.size(); ++i) {
    size_t at = buffer_.find(stops_[i]);
    if (at == std::string::npos) continue;
    if (at < best || (at == best && stops_[i].size() > stops_[static_cast<size_t>(which)].size())) {
      best = at;
      which = static_cast<int>(i);
    }
  }
  if (which >= 0) {
    r.text = buffer_.substr(0, best);
    r.stopped = true;
    r.stop_index = index_[static_cast<size_t>(which)];
    stopped_ = true;
    stop_index_ = r.stop_index;
    buffer_.clear();
    return r;
  }
  // Hold back the longest end of the buffer that begins some stop string.
  size_t hold = 0;
  for (const auto& stop : stops_) {
    for (size_t k = std::min(stop.size() - 1, buffer_.size()); k > hold; --k) {
      if (buffer_.compare(buffer_.size() - k, k, stop, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  if (hold_utf8_) hold = std::max(hold, IncompleteUtf8Tail(buffer_));
  r.text = buffer_.substr(0, buffer_.size() - hold);
  buffer_.erase(0, buffer_.size() - hold);
  return r;
}

std::string StopStringMatcher::Flush() {
  std::string out;
  if (!stopped_) out.swap(buffer_);
  buffer_.clear();
  return out;
}

}  // namespace haip::infer
