// The cohort engine's index: every patient's dated, coded events in memory,
// and per concept a compressed bitmap (CRoaring) of the patients who have
// it. Criteria compile to bitmap unions for the entry event and to scans of
// each candidate's short, sorted event list for windowed rules. Updates are
// per resource (upsert / remove), so ingest never forces a rebuild.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cohort/criteria.h"
#include "cohort/events.h"

namespace haip::cohort {

struct AttritionRow {
  std::string name;        // "entry" for the first row
  bool exclusion = false;
  int64_t patients = 0;    // left after this rule (and all before it)
  int64_t passed_alone = 0;  // of the entry cohort, patients passing this rule on its own
};

struct CohortResult {
  int64_t count = 0;                   // patients in the cohort
  std::vector<AttritionRow> attrition;  // entry, then each rule in order
  std::vector<std::string> patients;   // Patient ids, sorted (when asked for)
  int64_t patients_total = 0;          // patients in the index
  double elapsed_ms = 0;
};

struct IndexStats {
  int64_t patients = 0, events = 0, concepts = 0, resources = 0;
};

class CohortIndex {
 public:
  CohortIndex();
  ~CohortIndex();
  CohortIndex(const CohortIndex&) = delete;
  CohortIndex& operator=(const CohortIndex&) = delete;

  // Sets what `type/id` contributes, replacing what it contributed before
  // (an empty Facts removes it). Thread-safe (exclusive lock).
  void Put(const std::string& type, const std::string& id, const Facts& facts);
  void Remove(const std::string& type, const std::string& id) { Put(type, id, Facts{}); }
  // Bulk loading without per-resource bookkeeping: events that can never be
  // updated or removed one by one (the benchmark loads this way).
  void AddPerson(const Person& person);
  void AddEvents(const std::vector<Event>& events);

  // Runs criteria. Throws Error(kBadRequest) for criteria that reference
  // nothing runnable. Thread-safe (shared lock: runs in parallel).
  CohortResult Run(const Criteria& criteria, bool with_patients) const;

  IndexStats Stats() const;
  // Known codes whose code or display contain `text` (case-insensitive for
  // ASCII), for the console's code search: (domain, system, code, display, patients).
  struct ConceptHit {
    Domain domain;
    std::string system, code, display;
    int64_t patients = 0;
  };
  std::vector<ConceptHit> SearchConcepts(const std::string& text, size_t limit) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  mutable std::shared_mutex mu_;
};

}  // namespace haip::cohort
