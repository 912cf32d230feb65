// Calendar arithmetic for generated timestamps. Times are minutes since
// 1970-01-01T00:00 in China Standard Time (UTC+8, no daylight saving), so
// every instant prints with a fixed "+08:00" offset and no time zone database
// or wall clock is involved.
#pragma once

#include <cstdint>
#include <string>

namespace haip::synth {

constexpr int64_t kMinutesPerDay = 1440;

struct CivilDate {
  int year;
  int month;  // 1..12
  int day;    // 1..31
};

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int year, int month, int day);
CivilDate CivilFromDays(int64_t days);

// "2024-03-05"
void AppendDate(std::string& out, int64_t day);
// "2024-03-05T09:30:00+08:00"
void AppendDateTime(std::string& out, int64_t minute);
// "2024年03月05日"
void AppendChineseDate(std::string& out, int64_t day);
// "2024年03月05日 09:30"
void AppendChineseDateTime(std::string& out, int64_t minute);

// Whole years between a birth day and a later day.
int AgeYears(int64_t birth_day, int64_t day);

inline int64_t DayOf(int64_t minute) {
  return minute >= 0 ? minute / kMinutesPerDay : -((-minute - 1) / kMinutesPerDay) - 1;
}

}  // namespace haip::synth
