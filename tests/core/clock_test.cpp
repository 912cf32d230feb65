#include "core/clock.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace haip::clock {
namespace {

TEST(Clock, FormatsAndParsesIso8601) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(1795503600123), "2026-11-24T07:00:00.123Z");
  EXPECT_EQ(ParseIso8601("2026-11-24T07:00:00.123Z"), 1795503600123);
  EXPECT_EQ(ParseIso8601("2026-11-24T15:00:00+08:00"), 1795503600000);
  EXPECT_EQ(ParseIso8601("2026-11-24"), 1795478400000);
  int64_t now = NowMillis();
  EXPECT_EQ(ParseIso8601(FormatIso8601(now)), now);
}

TEST(Clock, RejectsMalformedTimestamps) {
  for (const char* bad : {"", "2026", "2026-13-01", "2026-11-24T25:00:00Z", "2026-11-24Tfoo", "yesterday",
                          "2026-11-24T07:00:00.Z", "2026-11-24T07:00:00+0800"}) {
    EXPECT_THROW(ParseIso8601(bad), Error) << bad;
  }
}

TEST(Clock, ParsesDurations) {
  EXPECT_EQ(ParseDurationSeconds("45"), 45);
  EXPECT_EQ(ParseDurationSeconds("45s"), 45);
  EXPECT_EQ(ParseDurationSeconds("15m"), 900);
  EXPECT_EQ(ParseDurationSeconds("12h"), 43200);
  EXPECT_EQ(ParseDurationSeconds("90d"), 90 * 86400);
  EXPECT_EQ(ParseDurationSeconds("2w"), 14 * 86400);
  for (const char* bad : {"", "d", "10y", "-5s", "1.5h"}) EXPECT_THROW(ParseDurationSeconds(bad), Error) << bad;
}

}  // namespace
}  // namespace haip::clock
