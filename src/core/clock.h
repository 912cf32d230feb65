// Time helpers. All stored timestamps are UTC, ISO 8601 with milliseconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace haip::clock {

// Milliseconds since the Unix epoch (system clock).
int64_t NowMillis();
// "2026-11-24T07:00:00.123Z".
std::string FormatIso8601(int64_t millis);
// Parses the format FormatIso8601 writes (and the same without fraction or
// with a numeric offset); throws Error(kBadRequest) on anything else.
int64_t ParseIso8601(std::string_view text);
// "90d", "12h", "30m", "45s", "1w" or a plain number of seconds -> seconds.
// Throws Error(kBadRequest) on anything else.
int64_t ParseDurationSeconds(std::string_view text);

}  // namespace haip::clock
