// Calendar arithmetic and date shifting for FHIR date/dateTime/instant values
// and for dates written in text. Proleptic Gregorian calendar, days counted
// from 1970-01-01.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haip::lake::deid {

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

int64_t DaysFromCivil(CivilDate d);
CivilDate CivilFromDays(int64_t days);
bool IsValidDate(int year, int month, int day);
// "YYYY-MM-DD" -> date; nullopt when malformed or not a real day.
std::optional<CivilDate> ParseIsoDate(std::string_view text);
// Whole years from `birth` to `on`.
int AgeYears(CivilDate birth, CivilDate on);

enum class DatePrecision { kYear, kMonth, kDay };

// Shifts a FHIR date, dateTime or instant by `days`, keeping the time of day,
// the fraction and the offset verbatim so intervals are preserved exactly.
// Partial dates keep their precision: a month is shifted through its 15th, a
// year through July 2nd, then cut back. Returns nullopt when `text` is not a
// FHIR date/dateTime/instant (full-string match).
std::optional<std::string> ShiftFhirDate(std::string_view text, int days);
// Precision of a FHIR date-like string, nullopt when it is not one.
std::optional<DatePrecision> FhirDatePrecision(std::string_view text);

// Shifts y-m-d by `days` (the year is needed for month lengths and leap days).
CivilDate ShiftDate(CivilDate d, int days);

}  // namespace haip::lake::deid
