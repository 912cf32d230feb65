// Cohort criteria: a documented JSON format (docs/cohort.md) modelled on
// OHDSI's Circe cohort definitions: named concept sets, an entry event, and
// inclusion / exclusion rules evaluated relative to each entry (index) event.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cohort/events.h"
#include "core/json.h"

namespace haip::cohort {

struct ConceptItem {
  std::string system, code;
  bool descendants = false;  // code is a prefix: E11 covers E11.9, E11.900 ...
};

struct ConceptSet {
  std::string key, name;
  std::vector<ConceptItem> items;
};

// Bounds on a numeric value (all present bounds must hold).
struct ValueFilter {
  std::optional<double> gt, gte, lt, lte, eq;
  std::string unit;  // when set, the event's unit must be exactly this
  bool empty() const { return !gt && !gte && !lt && !lte && !eq && unit.empty(); }
};

// Which events: a domain, optionally a concept set, value bounds
// (observations), encounter classes and departments (encounters).
struct EventFilter {
  Domain domain = Domain::kCondition;
  std::string concept_set;               // "" = any code of the domain
  ValueFilter value;
  std::vector<std::string> classes;      // encounter class codes (IMP, AMB, EMER ...)
  std::vector<std::string> departments;  // Organization id or display name
};

// Days relative to the index date, inclusive; nullopt = unbounded.
struct Window {
  std::optional<int32_t> start, end;
};

struct Rule {
  enum class Kind { kEvent, kAge, kGender, kAll, kAny, kNot, kAtLeast };
  Kind kind = Kind::kEvent;
  // kEvent: how many matching events within the window.
  EventFilter event;
  Window window;
  enum class Count { kAtLeast, kAtMost, kExactly } count = Count::kAtLeast;
  int count_n = 1;
  // kAge: completed years at the index date (see AgeYears).
  std::optional<int> age_gt, age_gte, age_lt, age_lte;
  // kGender
  std::vector<std::string> genders;
  // kAll / kAny / kNot (one child) / kAtLeast (at_least of children)
  std::vector<Rule> children;
  int at_least = 0;
};

struct NamedRule {
  std::string name;
  Rule rule;
  bool exclusion = false;  // patients matching it are removed
};

struct Criteria {
  std::string title, description;
  std::vector<ConceptSet> concept_sets;
  std::vector<EventFilter> entry;  // any of these is an entry event
  enum class Occurrence { kFirst, kAll, kLast } occurrence = Occurrence::kFirst;
  std::optional<int32_t> entry_from, entry_to;  // days, inclusive
  std::vector<NamedRule> rules;                 // inclusion then exclusion, in order

  const ConceptSet* FindSet(const std::string& key) const;
};

// Parses and checks criteria JSON; throws Error(kBadRequest) naming the
// element path ("inclusion[1].rule.event.conceptSet: unknown concept set ...").
Criteria ParseCriteria(const Json& json);

}  // namespace haip::cohort
