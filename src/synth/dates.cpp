#include "synth/dates.h"

namespace haip::synth {

namespace {

void Append2(std::string& out, int v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

void Append4(std::string& out, int v) {
  Append2(out, v / 100);
  Append2(out, v % 100);
}

}  // namespace

int64_t DaysFromCivil(int year, int month, int day) {
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m), static_cast<int>(d)};
}

void AppendDate(std::string& out, int64_t day) {
  CivilDate c = CivilFromDays(day);
  Append4(out, c.year);
  out += '-';
  Append2(out, c.month);
  out += '-';
  Append2(out, c.day);
}

void AppendDateTime(std::string& out, int64_t minute) {
  int64_t day = DayOf(minute);
  int minute_of_day = static_cast<int>(minute - day * kMinutesPerDay);
  AppendDate(out, day);
  out += 'T';
  Append2(out, minute_of_day / 60);
  out += ':';
  Append2(out, minute_of_day % 60);
  out += ":00+08:00";
}

void AppendChineseDate(std::string& out, int64_t day) {
  CivilDate c = CivilFromDays(day);
  Append4(out, c.year);
  out += "年";
  Append2(out, c.month);
  out += "月";
  Append2(out, c.day);
  out += "日";
}

void AppendChineseDateTime(std::string& out, int64_t minute) {
  int64_t day = DayOf(minute);
  int minute_of_day = static_cast<int>(minute - day * kMinutesPerDay);
  AppendChineseDate(out, day);
  out += ' ';
  Append2(out, minute_of_day / 60);
  out += ':';
  Append2(out, minute_of_day % 60);
}

int AgeYears(int64_t birth_day, int64_t day) {
  CivilDate b = CivilFromDays(birth_day);
  CivilDate d = CivilFromDays(day);
  int age = d.year - b.year;
  if (d.month < b.month || (d.month == b.month && d.day < b.day)) --age;
  return age;
}

}  // namespace haip::synth
