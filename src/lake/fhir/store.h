// The FHIR R4 resource store: the lake's canonical clinical record. Resources
// are stored verbatim (plus meta.versionId / meta.lastUpdated), every version
// is kept, and on each write the store extracts index rows (tokens,
// references, dates, quantities, strings, the patient compartment) that FHIR
// search and the cohort engine use.
//
// Writes of identical content are no-ops (no new version), so re-running an
// import never duplicates anything. All methods are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "lake/fhir/search_params.h"
#include "lake/fhir/validator.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace haip::lake {

// An OperationOutcome, wrapped so FhirError's constructors stay unambiguous.
struct Outcome {
  Json json;
};

// A FHIR failure with the OperationOutcome to return.
class FhirError : public Error {
 public:
  FhirError(ErrorCode code, Outcome outcome, std::string message)
      : Error(code, std::move(message)), outcome_(std::move(outcome.json)) {}
  FhirError(ErrorCode code, const std::string& issue_code, const std::string& diagnostics,
            const std::string& expression = "")
      : Error(code, diagnostics), outcome_(MakeOperationOutcome(issue_code, diagnostics, expression)) {}
  const Json& outcome() const { return outcome_; }

 private:
  Json outcome_;
};

struct WriteOutcome {
  Json resource;           // as stored, with meta
  int64_t version = 0;
  bool created = false;    // no earlier version (or the earlier one was deleted)
  bool unchanged = false;  // identical content: nothing written
};

// A resource made ready for writing without touching the database:
// validated, given its id, hashed, serialised (as version 1) and indexed.
// Bulk ingest prepares on several threads and writes on one.
struct PreparedWrite {
  std::string type, id, hash, body;
  IndexRows rows;
  Json resource;  // the parsed body; a caller may drop it (null) to save
                  // memory: the store then parses `body` when it needs it
  int64_t now = 0;
};

// Search parameters as they come from the URL (repeats allowed: AND).
using SearchParams = std::vector<std::pair<std::string, std::string>>;

// Restricts which patients' data a caller sees; empty means no restriction.
// Holds an SQL condition on the patient id column `r.patient` with its params.
struct PatientFilter {
  std::string sql;
  storage::Params params;
};

// One entry of the store's change log (see FhirStore::ChangesSince).
struct FhirChange {
  int64_t seq = 0;
  std::string type, id;
};

class FhirStore {
 public:
  explicit FhirStore(storage::Database& db);
  static std::vector<storage::Migration> Migrations(storage::Dialect dialect);

  // create: the server assigns the id unless keep_id and the resource has one.
  WriteOutcome Create(Json resource, bool keep_id = false);
  // update (or create with the given id). Throws FhirError 400 when the body's
  // id or type disagree with the URL; 422 when invalid.
  WriteOutcome Update(const std::string& type, const std::string& id, Json resource);
  // Throws FhirError 404 when unknown, 410 when deleted.
  Json Read(const std::string& type, const std::string& id) const;
  Json VRead(const std::string& type, const std::string& id, int64_t version) const;
  // Marks deleted (a new version). Returns false if there was nothing to delete.
  bool Delete(const std::string& type, const std::string& id);
  // A history Bundle, newest first.
  Json History(const std::string& type, const std::string& id) const;

  // A searchset Bundle. `base` is the server's base URL for links ("/fhir").
  Json Search(const std::string& type, const SearchParams& params, const std::string& base,
              const PatientFilter& filter = {}) const;
  // Patient/{id}/$everything: the patient and every resource in its compartment.
  Json Everything(const std::string& patient_id, const std::string& base, int64_t count, int64_t offset) const;
  // Conditional create/update lookup: ids of current resources matching.
  std::vector<std::string> Match(const std::string& type, const SearchParams& params) const;

  // Bundle of type transaction (atomic) or batch; returns the response Bundle.
  // keep_ids (bulk ingest): a POST keeps the resource's own id, or the uuid
  // of its urn:uuid fullUrl, so loading the same bundle twice changes nothing.
  // `outcomes`, when given, receives each write's outcome (transactions only).
  Json ProcessBundle(const Json& bundle, const std::string& base, bool keep_ids = false,
                     std::vector<WriteOutcome>* outcomes = nullptr);

  // Bulk load: validates, then writes in one transaction, keeping ids.
  // Returns per-resource outcomes in input order; throws FhirError (with the
  // item's index in the expression) on the first invalid resource, writing
  // nothing.
  std::vector<WriteOutcome> WriteMany(std::vector<Json> resources);

  // Bulk load in two steps: PrepareBulk is thread-safe and needs no
  // database (throws FhirError 422 for an invalid resource); WriteMany
  // writes a batch of prepared resources in one transaction; the outcomes
  // carry the stored resources only when keep_resources.
  static PreparedWrite PrepareBulk(Json resource);
  std::vector<WriteOutcome> WriteBatch(const std::vector<PreparedWrite>& batch, bool keep_resources = true);

  // Count of current (not deleted) resources, all types or one.
  int64_t Count(const std::string& type = "") const;
  std::map<std::string, int64_t> CountByType() const;
  // The patient a resource belongs to ("" if none).
  std::string PatientOf(const std::string& type, const std::string& id) const;

  // Called inside the writing transaction after each change to a resource
  // of `type` (not for unchanged writes): `resource` is the stored version,
  // or nullptr when it was deleted. An observer that throws rolls the write
  // back. Register observers before the store is used concurrently.
  using WriteObserver = std::function<void(storage::Session& tx, const std::string& id, const Json* resource)>;
  void AddWriteObserver(const std::string& type, WriteObserver observer);
  bool HasWriteObservers(const std::string& type) const { return observers_.count(type) != 0; }

  // The change log, for indexes kept outside the database: every write or
  // delete appends (seq, type, id) in its transaction. On SQLite (one writer)
  // seq grows in commit order, so "everything after seq N" never misses a
  // change; on PostgreSQL concurrent writers can commit out of seq order and
  // a reader should re-read a margin (see docs/cohort.md).
  int64_t LastChangeSeq() const;
  std::vector<FhirChange> ChangesSince(int64_t after_seq, size_t limit) const;
  // The current version, or nullopt when absent or deleted.
  std::optional<Json> ReadCurrent(const std::string& type, const std::string& id) const;
  // Every current resource of a type, read in pages of `page` by id.
  void ForEachCurrent(const std::string& type, const std::function<void(const Json&)>& fn, size_t page = 1000) const;

 private:
  WriteOutcome Write(storage::Session& tx, Json resource, const std::string& type, const std::string& id);
  static PreparedWrite Prepare(Json resource, const std::string& type, const std::string& id);
  WriteOutcome WritePrepared(storage::Session& tx, const PreparedWrite& w, bool keep_resource);
  // Marks the current version deleted inside `tx`; false if nothing to delete.
  bool DeleteIn(storage::Session& tx, const std::string& type, const std::string& id);

  void Notify(storage::Session& tx, const std::string& type, const std::string& id, const Json* resource) const;

  storage::Database& db_;
  std::map<std::string, std::vector<WriteObserver>> observers_;
};

// A new server-assigned id (random UUID).
std::string NewResourceId();

}  // namespace haip::lake
