// Stop strings for streamed output. Text arrives token by token and a stop
// string can span tokens, so the matcher holds back the end of the text that
// could still grow into a stop string, and (optionally) an incomplete UTF-8
// sequence, until the next piece decides it. What it releases is final: it
// never contains any part of a stop string that later completes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace haip::infer {

class StopStringMatcher {
 public:
  // Empty stop strings are ignored. With hold_incomplete_utf8, released text
  // always ends on a whole UTF-8 character.
  explicit StopStringMatcher(std::vector<std::string> stops, bool hold_incomplete_utf8 = true);

  struct Result {
    std::string text;      // safe to send now
    bool stopped = false;  // a stop string completed; `text` is what came before it
    int stop_index = -1;   // which one (index into the constructor's list)
  };
  // Adds the next piece of output. After a stop, further calls return
  // nothing and stopped = true.
  Result Feed(std::string_view piece);
  // End of generation without a stop: the text still held back.
  std::string Flush();

  bool stopped() const { return stopped_; }
  // Bytes currently held back.
  size_t held() const { return buffer_.size(); }

 private:
  std::vector<std::string> stops_;
  std::vector<int> index_;  // position of each kept stop in the caller's list
  bool hold_utf8_;
  std::string buffer_;
  bool stopped_ = false;
  int stop_index_ = -1;
};

}  // namespace haip::infer
