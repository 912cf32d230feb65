// The cohort service: a CohortIndex kept in step with the lake, and saved,
// versioned cohort definitions. The index is built from the lake on first
// use and then follows the FHIR store's change log: every run first applies
// the changes since the last one, so new data changes the next count with
// no rebuild.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cohort/criteria.h"
#include "cohort/index.h"
#include "core/json.h"
#include "lake/fhir/store.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace haip::cohort {

struct SavedCohort {
  std::string id;
  int64_t version = 0;
  std::string title;
  Json criteria;
  std::string created_by;
  int64_t created_at = 0;  // ms
};

// {"count", "patientsTotal", "elapsedMs", "attrition": [{"name", "exclusion",
// "patients", "passedAlone"}], "patients": [...] (only with_patients)}.
Json ResultToJson(const CohortResult& result, bool with_patients);

class CohortService {
 public:
  CohortService(storage::Database& db, lake::FhirStore& store);
  static std::vector<storage::Migration> Migrations();

  // Applies lake changes not yet in the index (builds it on first use).
  // Returns how many resources were applied. Thread-safe.
  int64_t CatchUp();
  // Catches up, then runs.
  CohortResult Run(const Criteria& criteria, bool with_patients);
  const CohortIndex& index() const { return index_; }

  // Saves criteria (validated) as a new cohort, or as the next version of
  // `id` when given. Throws Error(kNotFound) for an unknown id.
  SavedCohort Save(const Json& criteria, const std::string& user, const std::optional<std::string>& id);
  // Latest versions, newest first.
  std::vector<SavedCohort> List() const;
  // One version (latest when nullopt); throws Error(kNotFound).
  SavedCohort Get(const std::string& id, std::optional<int64_t> version) const;
  std::vector<SavedCohort> Versions(const std::string& id) const;

 private:
  void Build();
  void Apply(const std::string& type, const std::string& id);

  storage::Database& db_;
  lake::FhirStore& store_;
  CohortIndex index_;
  std::mutex catch_up_mu_;
  bool built_ = false;
  int64_t watermark_ = 0;  // last change seq applied
};

}  // namespace haip::cohort
