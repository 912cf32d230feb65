#include "cohort/events.h"

#include <array>
#include <charconv>
#include <cstdio>

namespace haip::cohort {
namespace {

constexpr std::array<std::string_view, kDomainCount> kDomainNames = {"condition", "observation", "medication",
                                                                      "procedure", "encounter"};

// Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil algorithm).
int32_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

bool ParseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

const Json* Member(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string_view Text(const Json* j) {
  return j != nullptr && j->is_string() ? std::string_view(j->get_ref<const std::string&>()) : std::string_view();
}

// "Patient/x" -> "x"; anything else -> "".
std::string PatientRef(const Json& resource) {
  const Json* subject = Member(resource, "subject");
  if (subject == nullptr) subject = Member(resource, "patient");
  if (subject == nullptr) return {};
  std::string_view ref = Text(Member(*subject, "reference"));
  constexpr std::string_view kPrefix = "Patient/";
  if (ref.substr(0, kPrefix.size()) != kPrefix || ref.size() == kPrefix.size()) return {};
  return std::string(ref.substr(kPrefix.size()));
}

// The first usable date among the given dateTime fields / Period starts.
std::optional<int32_t> FirstDay(const Json& resource, std::initializer_list<const char*> fields) {
  for (const char* field : fields) {
    const Json* v = Member(resource, field);
    if (v == nullptr) continue;
    if (v->is_object()) v = Member(*v, "start");  // a Period
    if (auto day = ParseDay(Text(v))) return day;
  }
  return std::nullopt;
}

bool EnteredInError(const Json& resource) {
  std::string_view status = Text(Member(resource, "status"));
  if (status == "entered-in-error") return true;
  if (const Json* vs = Member(resource, "verificationStatus")) {
    if (const Json* codings = Member(*vs, "coding"); codings != nullptr && codings->is_array()) {
      for (const auto& c : *codings) {
        std::string_view code = Text(Member(c, "code"));
        if (code == "entered-in-error" || code == "refuted") return true;
      }
    }
  }
  return false;
}

void SetQuantity(Event& e, const Json* quantity) {
  if (quantity == nullptr || !quantity->is_object()) return;
  const Json* value = Member(*quantity, "value");
  if (value == nullptr || !value->is_number()) return;
  e.value = value->get<double>();
  std::string_view unit = Text(Member(*quantity, "code"));
  if (unit.empty()) unit = Text(Member(*quantity, "unit"));
  e.unit = std::string(unit);
}

// One event per coding of `concept` (a CodeableConcept).
void AddCoded(Facts& facts, const Event& proto, const Json* cc) {
  const Json* codings = cc ? Member(*cc, "coding") : nullptr;
  if (codings == nullptr || !codings->is_array()) return;
  for (const auto& coding : *codings) {
    std::string_view code = Text(Member(coding, "code"));
    if (code.empty()) continue;
    Event e = proto;
    e.system = std::string(Text(Member(coding, "system")));
    e.code = std::string(code);
    e.display = std::string(Text(Member(coding, "display")));
    if (e.display.empty()) e.display = std::string(Text(Member(*cc, "text")));
    facts.events.push_back(std::move(e));
  }
}

}  // namespace

std::string_view DomainName(Domain d) { return kDomainNames[static_cast<size_t>(d)]; }

std::optional<Domain> ParseDomain(std::string_view name) {
  for (size_t i = 0; i < kDomainNames.size(); ++i) {
    if (kDomainNames[i] == name) return static_cast<Domain>(i);
  }
  return std::nullopt;
}

std::optional<int32_t> ParseDay(std::string_view s) {
  int y = 0, m = 1, d = 1;
  if (s.size() < 4 || !ParseInt(s.substr(0, 4), y)) return std::nullopt;
  if (s.size() >= 7) {
    if (s[4] != '-' || !ParseInt(s.substr(5, 2), m)) return std::nullopt;
    if (s.size() >= 10) {
      if (s[7] != '-' || !ParseInt(s.substr(8, 2), d)) return std::nullopt;
    } else if (s.size() != 7) {
      return std::nullopt;
    }
  } else if (s.size() != 4) {
    return std::nullopt;
  }
  static constexpr int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kMonthDays[m - 1]) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

namespace {
// civil_from_days, the inverse of DaysFromCivil.
void CivilFromDays(int32_t day, int& y, unsigned& m, unsigned& d) {
  const int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}
}  // namespace

std::string FormatDay(int32_t day) {
  int y;
  unsigned m, d;
  CivilFromDays(day, y, m, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

int32_t Ymd(int32_t day) {
  int y;
  unsigned m, d;
  CivilFromDays(day, y, m, d);
  return y * 10000 + static_cast<int>(m * 100 + d);
}

int32_t AgeYears(int32_t birth_day, int32_t day) {
  // Integer division truncates toward zero in C++, SQLite and PostgreSQL alike.
  return (Ymd(day) - Ymd(birth_day)) / 10000;
}

Facts ExtractFacts(const Json& resource) {
  Facts facts;
  if (!resource.is_object()) return facts;
  std::string_view type = Text(Member(resource, "resourceType"));
  if (type == "Patient") {
    Person p;
    p.id = std::string(Text(Member(resource, "id")));
    if (p.id.empty()) return facts;
    if (auto day = ParseDay(Text(Member(resource, "birthDate")))) {
      p.birth_day = *day;
      p.has_birth = true;
    }
    p.gender = std::string(Text(Member(resource, "gender")));
    facts.person = std::move(p);
    return facts;
  }
  if (EnteredInError(resource)) return facts;
  Event proto;
  proto.patient = PatientRef(resource);
  if (proto.patient.empty()) return facts;
  std::optional<int32_t> day;
  if (type == "Condition") {
    proto.domain = Domain::kCondition;
    day = FirstDay(resource, {"onsetDateTime", "onsetPeriod", "recordedDate"});
    if (!day) return facts;
    proto.day = *day;
    AddCoded(facts, proto, Member(resource, "code"));
  } else if (type == "Observation") {
    proto.domain = Domain::kObservation;
    day = FirstDay(resource, {"effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"});
    if (!day) return facts;
    proto.day = *day;
    Event own = proto;
    SetQuantity(own, Member(resource, "valueQuantity"));
    AddCoded(facts, own, Member(resource, "code"));
    if (const Json* components = Member(resource, "component"); components != nullptr && components->is_array()) {
      for (const auto& component : *components) {
        Event c = proto;
        SetQuantity(c, Member(component, "valueQuantity"));
        if (c.has_value()) AddCoded(facts, c, Member(component, "code"));
      }
    }
  } else if (type == "MedicationRequest" || type == "MedicationAdministration") {
    proto.domain = Domain::kMedication;
    day = type == "MedicationRequest" ? FirstDay(resource, {"authoredOn"})
                                      : FirstDay(resource, {"effectiveDateTime", "effectivePeriod"});
    if (!day) return facts;
    proto.day = *day;
    AddCoded(facts, proto, Member(resource, "medicationCodeableConcept"));
  } else if (type == "Procedure") {
    proto.domain = Domain::kProcedure;
    day = FirstDay(resource, {"performedDateTime", "performedPeriod"});
    if (!day) return facts;
    proto.day = *day;
    AddCoded(facts, proto, Member(resource, "code"));
  } else if (type == "Encounter") {
    proto.domain = Domain::kEncounter;
    day = FirstDay(resource, {"period"});
    if (!day) return facts;
    proto.day = *day;
    const Json* cls = Member(resource, "class");
    if (cls == nullptr) return facts;
    std::string_view code = Text(Member(*cls, "code"));
    if (code.empty()) return facts;
    std::string_view system = Text(Member(*cls, "system"));
    proto.system = std::string(system.empty() ? kEncounterClassSystem : system);
    proto.code = std::string(code);
    proto.display = std::string(Text(Member(*cls, "display")));
    if (const Json* sp = Member(resource, "serviceProvider")) {
      std::string_view ref = Text(Member(*sp, "reference"));
      if (auto slash = ref.rfind('/'); slash != std::string_view::npos) ref = ref.substr(slash + 1);
      proto.department = std::string(ref);
      proto.department_name = std::string(Text(Member(*sp, "display")));
    }
    facts.events.push_back(std::move(proto));
  }
  return facts;
}

}  // namespace haip::cohort
