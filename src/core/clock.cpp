#include "core/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/error.h"

namespace haip::clock {

int64_t NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatIso8601(int64_t millis) {
  time_t secs = static_cast<time_t>(millis / 1000);
  int ms = static_cast<int>(millis % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

namespace {
int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) throw Error(ErrorCode::kBadRequest, "invalid timestamp: " + std::string(s));
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') throw Error(ErrorCode::kBadRequest, "invalid timestamp: " + std::string(s));
    v = v * 10 + (s[i] - '0');
  }
  return v;
}
}  // namespace

int64_t ParseIso8601(std::string_view s) {
  auto bad = [&] { return Error(ErrorCode::kBadRequest, "invalid timestamp: " + std::string(s)); };
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') throw bad();
  struct tm tm {};
  tm.tm_year = Digits(s, 0, 4) - 1900;
  tm.tm_mon = Digits(s, 5, 2) - 1;
  tm.tm_mday = Digits(s, 8, 2);
  size_t pos = 10;
  int64_t ms = 0;
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') throw bad();
    if (s.size() < pos + 9 || s[pos + 3] != ':' || s[pos + 6] != ':') throw bad();
    tm.tm_hour = Digits(s, pos + 1, 2);
    tm.tm_min = Digits(s, pos + 4, 2);
    tm.tm_sec = Digits(s, pos + 7, 2);
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      size_t start = ++pos;
      int64_t frac = 0, scale = 1;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (pos - start < 3) {
          frac = frac * 10 + (s[pos] - '0');
          scale *= 10;
        }
        ++pos;
      }
      if (pos == start) throw bad();
      ms = frac * 1000 / scale;
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' && pos + 1 == s.size()) {
      } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
        offset_s = (Digits(s, pos + 1, 2) * 3600 + Digits(s, pos + 4, 2) * 60) * (s[pos] == '+' ? 1 : -1);
      } else {
        throw bad();
      }
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    throw bad();
  }
  return (static_cast<int64_t>(timegm(&tm)) - offset_s) * 1000 + ms;
}

int64_t ParseDurationSeconds(std::string_view text) {
  if (text.empty()) throw Error(ErrorCode::kBadRequest, "empty duration");
  int64_t n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    n = n * 10 + (text[i] - '0');
    if (n > (int64_t{1} << 40)) throw Error(ErrorCode::kBadRequest, "duration too large: " + std::string(text));
  }
  if (i == 0) throw Error(ErrorCode::kBadRequest, "invalid duration: " + std::string(text));
  std::string_view unit = text.substr(i);
  if (unit.empty() || unit == "s") return n;
  if (unit == "m") return n * 60;
  if (unit == "h") return n * 3600;
  if (unit == "d") return n * 86400;
  if (unit == "w") return n * 7 * 86400;
  throw Error(ErrorCode::kBadRequest,
              "invalid duration unit in '" + std::string(text) + "' (use s, m, h, d or w)");
}

}  // namespace haip::clock
