// Criteria as SQL over flat, OMOP-like tables (person, condition_occurrence,
// measurement, drug_exposure, procedure_occurrence, visit_occurrence), the
// way OHDSI's Circe generates cohort SQL: an entry-event CTE, one CTE per
// inclusion rule with correlated EXISTS / COUNT sub-queries over event
// windows. Used to check the engine against SQLite and PostgreSQL on the same
// data, by the benchmark, and shown to researchers ("show SQL").
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "cohort/criteria.h"
#include "cohort/events.h"
#include "storage/database.h"

namespace haip::cohort {

// The flat tables and their indexes (both dialects).
std::string FlatTablesDdl();
// Table of a domain ("condition_occurrence" ...).
std::string_view TableOf(Domain d);

// SQL returning rows (step INTEGER, patients INTEGER, passed_alone INTEGER):
// step 0 is the entry cohort, step k the patients left after rule k.
std::string AttritionSql(const Criteria& criteria, storage::Dialect dialect);
// SQL returning the cohort's patient ids (column patient_id), sorted.
std::string PatientsSql(const Criteria& criteria, storage::Dialect dialect);

// Loads facts into the flat tables through a storage::Database, assigning
// person ids as patients are first seen. Call Flush() at the end.
class FlatLoader {
 public:
  explicit FlatLoader(storage::Database& db, size_t batch = 2000);
  void Add(const Facts& facts);
  void Flush();

 private:
  int64_t PersonId(const std::string& patient);
  storage::Database& db_;
  size_t batch_;
  std::unordered_map<std::string, int64_t> person_ids_;
  std::vector<Person> persons_;
  std::vector<Event> events_;
};

}  // namespace haip::cohort
