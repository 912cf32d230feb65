// Bulk export of the lake to NDJSON (FHIR Bulk Data), identified or
// de-identified with the "haip-safe-harbor-cn" profile, and the asynchronous
// jobs behind the $export API. Exports are streamed type by type in pages, so
// memory does not grow with the size of the lake.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "lake/deid/deid.h"
#include "lake/fhir/store.h"
#include "storage/database.h"

namespace haip::lake {

struct ExportRequest {
  std::vector<std::string> types;               // empty: every type present
  std::optional<int64_t> since;                 // only resources changed at or after (ms)
  std::optional<std::vector<std::string>> patients;  // Patient/Group level: these patients only
  bool patient_compartment = false;             // only resources that belong to a patient
  bool deid = false;
  PatientFilter filter;                         // the caller's access restriction
  std::string purpose = "unspecified";          // recorded with the audit record
};

struct ExportOutput {
  std::string type;
  std::string file;  // file name inside the output folder
  uint64_t count = 0;
};

struct ExportResult {
  std::vector<ExportOutput> outputs;
  int64_t transaction_time = 0;  // ms: data as of this moment
  Json deid_profile;             // null unless de-identified
};

// Writes <out_dir>/<Type>.ndjson for each type with data. `deid` is used when
// request.deid (must then be non-null). `progress(n)` gets the resources
// written so far; returning false cancels (Error kConflict "cancelled").
ExportResult RunExport(storage::Database& db, const ExportRequest& request, const std::string& out_dir,
                       const deid::Deidentifier* deid, const std::function<bool(uint64_t)>& progress = {});

struct ExportJob {
  std::string id;
  std::string owner;
  std::string status;  // queued, running, done, failed, cancelled
  Json request;        // as asked, for the manifest
  int64_t created = 0;
  std::optional<int64_t> finished;
  uint64_t progress = 0;
  Json manifest;  // when done
  std::string error;
};

// Runs export jobs one at a time on a background thread. Jobs and their
// manifests live in the database, files under <root>/<job id>/; jobs that
// were queued or running when the server stopped run again on start.
class ExportJobs {
 public:
  ExportJobs(storage::Database& db, std::string root, std::string deid_key_path);
  ~ExportJobs();
  static std::vector<storage::Migration> Migrations();

  // Queues a job; `request_json` is kept for the manifest (the Bulk Data "request").
  std::string Submit(const std::string& owner, const ExportRequest& request, Json request_json);
  std::optional<ExportJob> Get(const std::string& id) const;
  // Marks a queued or running job cancelled and deletes its files.
  bool Cancel(const std::string& id);
  // Path of one output file of a finished job, or nullopt.
  std::optional<std::string> FilePath(const std::string& id, const std::string& file) const;
  // The de-identification key's path, made on first use.
  const std::string& deid_key_path() const { return deid_key_path_; }

 private:
  void Loop();

  storage::Database& db_;
  std::string root_;
  std::string deid_key_path_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, ExportRequest>> queue_;
  std::string running_;
  std::atomic<bool> cancel_running_{false};
  std::atomic<uint64_t> running_progress_{0};
  bool stop_ = false;
  std::thread worker_;
};

// Request (de)serialisation, for the job table.
Json ExportRequestToJson(const ExportRequest& r);
ExportRequest ExportRequestFromJson(const Json& j);

}  // namespace haip::lake
