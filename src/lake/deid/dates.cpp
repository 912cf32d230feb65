#include "lake/deid/dates.h"

#include <cstdio>

namespace haip::lake::deid {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (!IsDigit(c)) return false;
  return !s.empty();
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// The part after the date in a dateTime/instant: "Thh:mm(:ss(.f+)?)?(Z|+hh:mm)?".
// FHIR requires seconds and an offset when a time is present; being lenient
// here only decides whether a string is shifted, never what the time becomes.
bool IsTimeSuffix(std::string_view s) {
  if (s.size() < 6 || s[0] != 'T') return false;
  size_t i = 1;
  auto two = [&](size_t at) { return at + 1 < s.size() && IsDigit(s[at]) && IsDigit(s[at + 1]); };
  if (!two(i) || s[i + 2] != ':' || !two(i + 3)) return false;
  i += 5;
  if (i < s.size() && s[i] == ':') {
    if (!two(i + 1)) return false;
    i += 3;
    if (i < s.size() && s[i] == '.') {
      size_t j = i + 1;
      while (j < s.size() && IsDigit(s[j])) ++j;
      if (j == i + 1) return false;
      i = j;
    }
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  return i + 6 == s.size() && two(i + 1) && s[i + 3] == ':' && two(i + 4);
}

struct ParsedFhirDate {
  CivilDate date;
  DatePrecision precision = DatePrecision::kDay;
  std::string_view rest;  // time suffix, possibly empty
};

std::optional<ParsedFhirDate> ParseFhirDate(std::string_view s) {
  if (s.size() < 4 || !AllDigits(s.substr(0, 4))) return std::nullopt;
  ParsedFhirDate p;
  p.date.year = ToInt(s.substr(0, 4));
  if (s.size() == 4) {
    p.precision = DatePrecision::kYear;
    return p;
  }
  if (s[4] != '-' || s.size() < 7 || !AllDigits(s.substr(5, 2))) return std::nullopt;
  p.date.month = ToInt(s.substr(5, 2));
  if (p.date.month < 1 || p.date.month > 12) return std::nullopt;
  if (s.size() == 7) {
    p.precision = DatePrecision::kMonth;
    return p;
  }
  if (s[7] != '-' || s.size() < 10 || !AllDigits(s.substr(8, 2))) return std::nullopt;
  p.date.day = ToInt(s.substr(8, 2));
  if (!IsValidDate(p.date.year, p.date.month, p.date.day)) return std::nullopt;
  p.rest = s.substr(10);
  if (!p.rest.empty() && !IsTimeSuffix(p.rest)) return std::nullopt;
  return p;
}

}  // namespace

int64_t DaysFromCivil(CivilDate d) {
  // Howard Hinnant's days_from_civil.
  int y = d.year - (d.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned m = static_cast<unsigned>(d.month);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d.day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m),
                   static_cast<int>(d)};
}

bool IsValidDate(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= max;
}

std::optional<CivilDate> ParseIsoDate(std::string_view text) {
  auto p = ParseFhirDate(text);
  if (!p || p->precision != DatePrecision::kDay || !p->rest.empty()) return std::nullopt;
  return p->date;
}

int AgeYears(CivilDate birth, CivilDate on) {
  int age = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --age;
  return age;
}

CivilDate ShiftDate(CivilDate d, int days) { return CivilFromDays(DaysFromCivil(d) + days); }

std::optional<DatePrecision> FhirDatePrecision(std::string_view text) {
  auto p = ParseFhirDate(text);
  if (!p) return std::nullopt;
  return p->precision;
}

std::optional<std::string> ShiftFhirDate(std::string_view text, int days) {
  auto p = ParseFhirDate(text);
  if (!p) return std::nullopt;
  CivilDate d = p->date;
  if (p->precision == DatePrecision::kYear) d = CivilDate{d.year, 7, 2};
  if (p->precision == DatePrecision::kMonth) d.day = 15;
  CivilDate s = ShiftDate(d, days);
  if (s.year < 0 || s.year > 9999) return std::nullopt;
  char buf[48];
  switch (p->precision) {
    case DatePrecision::kYear:
      std::snprintf(buf, sizeof buf, "%04d", s.year);
      break;
    case DatePrecision::kMonth:
      std::snprintf(buf, sizeof buf, "%04d-%02d", s.year, s.month);
      break;
    case DatePrecision::kDay:
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", s.year, s.month, s.day);
      break;
  }
  std::string out(buf);
  out.append(p->rest);
  return out;
}

}  // namespace haip::lake::deid
