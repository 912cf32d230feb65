// The facts the cohort engine screens on, extracted from FHIR resources:
// one Person per Patient and dated, coded events for conditions,
// observations (with values), medications, procedures and encounters.
// The same extraction feeds HAIP's in-memory index and the flat SQL tables
// that the equivalence tests and the benchmark load into SQLite and
// PostgreSQL, so all three see exactly the same data.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace haip::cohort {

enum class Domain : uint8_t { kCondition = 0, kObservation, kMedication, kProcedure, kEncounter };
inline constexpr int kDomainCount = 5;

std::string_view DomainName(Domain d);
// "condition" ... "encounter"; nullopt for anything else.
std::optional<Domain> ParseDomain(std::string_view name);

// System for encounter classes (the event's code is the class code, e.g. IMP).
inline constexpr std::string_view kEncounterClassSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

struct Person {
  std::string id;          // Patient id
  int32_t birth_day = 0;   // days since 1970-01-01 (birthDate)
  bool has_birth = false;
  std::string gender;      // FHIR administrative gender ("" if absent)
};

struct Event {
  Domain domain = Domain::kCondition;
  std::string patient;     // Patient id
  std::string system, code;
  std::string display;     // the coding's display, for code search
  int32_t day = 0;         // days since 1970-01-01 of the event's date
  double value = NAN;      // observations: valueQuantity.value (or the component's)
  std::string unit;        // UCUM code, else the unit text
  std::string department;  // encounters: serviceProvider reference id (Organization/x -> x)
  std::string department_name;  // encounters: serviceProvider display
  bool has_value() const { return !std::isnan(value); }
};

// Days since 1970-01-01 of the calendar date at the start of a FHIR date or
// dateTime ("2019-08-07", "2019-08-07T22:57:00+08:00"; a year or year-month
// means its first day). The date is taken as written: no time-zone shift.
std::optional<int32_t> ParseDay(std::string_view fhir_date);
std::string FormatDay(int32_t day);  // YYYY-MM-DD
int32_t Ymd(int32_t day);            // the date as the integer YYYYMMDD
// Completed years from birth to `day` (a birthday completes a year; born on
// 29 February, on 1 March in other years), the same integer formula the SQL
// uses: (ymd(day) - ymd(birth)) / 10000.
int32_t AgeYears(int32_t birth_day, int32_t day);

// What a resource contributes. A Patient gives `person`; clinical resources
// give events (an Observation with components gives one per coded
// component with a value, besides its own code). Resources without a
// patient subject or without a usable date give nothing.
struct Facts {
  std::optional<Person> person;
  std::vector<Event> events;
};
Facts ExtractFacts(const Json& resource);

// The resource types ExtractFacts reads.
inline constexpr std::string_view kFactTypes[] = {
    "Patient",   "Condition", "Observation", "MedicationRequest", "MedicationAdministration",
    "Procedure", "Encounter",
};

}  // namespace haip::cohort
