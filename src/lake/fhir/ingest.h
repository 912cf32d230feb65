// Bulk ingest of FHIR data from files: NDJSON (one resource per line) and
// Bundle JSON (transaction, batch or collection), plain or gzip-compressed,
// given as files or folders. Resource ids are kept, and writes of identical
// content are no-ops, so an interrupted import is finished by running it
// again: files already done are skipped, a half-done NDJSON file resumes after
// its last committed batch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lake/fhir/store.h"

namespace haip::lake {

struct IngestOptions {
  size_t batch_size = 500;  // NDJSON lines per transaction
  size_t threads = 0;       // NDJSON preparing threads; 0: one per core
  // Called with the number of resources handled so far (written, unchanged or rejected).
  std::function<void(uint64_t)> progress;
};

struct IngestReport {
  uint64_t files = 0;
  uint64_t files_skipped = 0;  // already ingested, unchanged since
  uint64_t written = 0;        // new resources or new versions
  uint64_t unchanged = 0;      // identical to what was stored
  uint64_t rejected = 0;
  std::map<std::string, uint64_t> by_type;  // written + unchanged, per type
  std::vector<std::string> errors;          // "file:line: message", at most 100
  double seconds = 0;
};

class FhirIngest {
 public:
  FhirIngest(FhirStore& store, storage::Database& db);
  static std::vector<storage::Migration> Migrations();

  // Expands folders (recursively; .ndjson, .json and their .gz forms) and
  // ingests every file. Throws Error(kNotFound) for a path that does not exist.
  IngestReport IngestPaths(const std::vector<std::string>& paths, const IngestOptions& options);

  // One document from memory (an API upload): NDJSON or a Bundle / resource.
  IngestReport IngestText(const std::string& text, const std::string& name, const IngestOptions& options);

  // Files that would be ingested for `paths`, in order.
  static std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths);
  // Reads a file, gunzipping .gz. Throws Error(kBadRequest) if it cannot.
  static std::string ReadFile(const std::string& path);

 private:
  void IngestDocument(const std::string& text, const std::string& name, size_t skip_lines,
                      const std::function<void(size_t)>& committed, IngestReport& report, const IngestOptions& options);

  FhirStore& store_;
  storage::Database& db_;
};

}  // namespace haip::lake
