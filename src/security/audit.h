// The audit log: an append-only record of every authenticated request and
// every access to patient data, chained with SHA-256. Record n holds the hash
// of record n-1 and its own hash covers all its fields and its id, so an
// edited, inserted or deleted record breaks the chain at that record.
//
// Appends are group-committed by one writer thread: callers queue records and
// are told when their record is durable, so a request's response can wait for
// its audit record without holding a thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/database.h"

namespace haip {
class Metrics;
}

namespace haip::security {

struct AuditRecord {
  int64_t id = 0;  // assigned on commit, contiguous from 1
  int64_t ts = 0;  // ms since epoch; set on Append when 0
  std::string request_id;
  std::optional<int64_t> user_id;
  std::string username;  // "" for unauthenticated requests
  std::string roles;
  std::string action;  // "http.request", "user.create", "auth.login", ...
  std::string method;  // HTTP method, or "CLI"
  std::string path;
  int status = 0;
  std::string outcome;  // "success", "denied", "error"
  std::string patient;  // patient reference when patient data was touched
  std::string detail;   // JSON object text with action-specific facts
  std::string prev_hash;
  std::string hash;
};

// The chain's starting "previous hash".
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// SHA-256 over the record's fields (all but `hash`), each length-prefixed.
std::string ComputeAuditHash(const AuditRecord& record);

struct AuditFilter {
  std::string username;
  std::string action;   // exact, or a prefix ending in '.' ("user.")
  std::string outcome;
  std::string patient;
  std::string text;     // substring of path or detail
  std::optional<int64_t> since;  // ms, inclusive
  std::optional<int64_t> until;  // ms, exclusive
  std::optional<int64_t> before_id;  // paging: records with id < this
  std::optional<int64_t> after_id;   // export: records with id > this
  size_t limit = 100;
  bool ascending = false;
};

struct AuditVerifyResult {
  bool ok = true;
  int64_t records = 0;
  std::optional<int64_t> first_bad_id;
  std::string reason;
  std::string head_hash;  // hash of the last record: keep it elsewhere to anchor the chain
};

class AuditLog {
 public:
  AuditLog(storage::Database& db, size_t batch_size, Metrics* metrics = nullptr);
  ~AuditLog();  // commits everything queued, then stops the writer
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues a record; `done(true)` runs on the writer thread once it is
  // committed, `done(false)` if the commit failed.
  void Append(AuditRecord record, std::function<void(bool ok)> done);
  // Appends and waits; throws Error(kUnavailable) if the commit failed.
  void AppendSync(AuditRecord record);

  // Newest first unless filter.ascending.
  std::vector<AuditRecord> Query(const AuditFilter& filter) const;
  // Walks the whole chain in id order. `progress` gets the count checked so far.
  AuditVerifyResult Verify(const std::function<void(int64_t)>& progress = {}) const;
  int64_t Count() const;

 private:
  struct Pending {
    AuditRecord record;
    std::function<void(bool)> done;
  };
  void WriterLoop();
  void WriteBatch(std::vector<Pending>& batch);

  storage::Database& db_;
  size_t batch_size_;
  Metrics* metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace haip::security
