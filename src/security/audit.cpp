#include "security/audit.h"

#include <future>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/log.h"
#include "core/metrics.h"

namespace haip::security {

namespace {
constexpr const char* kAuditColumns =
    "id, ts, request_id, user_id, username, roles, action, method, path, status, outcome, patient, "
    "detail, prev_hash, hash";

AuditRecord RowToRecord(const storage::Row& r) {
  AuditRecord a;
  a.id = r[0].AsInt();
  a.ts = r[1].AsInt();
  a.request_id = r[2].AsText();
  a.user_id = r[3].AsOptionalInt();
  a.username = r[4].AsText();
  a.roles = r[5].AsText();
  a.action = r[6].AsText();
  a.method = r[7].AsText();
  a.path = r[8].AsText();
  a.status = static_cast<int>(r[9].AsInt());
  a.outcome = r[10].AsText();
  a.patient = r[11].AsText();
  a.detail = r[12].AsText();
  a.prev_hash = r[13].AsText();
  a.hash = r[14].AsText();
  return a;
}

void Field(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out += ':';
  out += v;
  out += ';';
}
}  // namespace

std::string ComputeAuditHash(const AuditRecord& r) {
  std::string buf;
  buf.reserve(256 + r.path.size() + r.detail.size());
  Field(buf, std::to_string(r.id));
  Field(buf, std::to_string(r.ts));
  Field(buf, r.request_id);
  Field(buf, r.user_id ? std::to_string(*r.user_id) : "");
  Field(buf, r.username);
  Field(buf, r.roles);
  Field(buf, r.action);
  Field(buf, r.method);
  Field(buf, r.path);
  Field(buf, std::to_string(r.status));
  Field(buf, r.outcome);
  Field(buf, r.patient);
  Field(buf, r.detail);
  Field(buf, r.prev_hash);
  return crypto::Sha256Hex(buf);
}

AuditLog::AuditLog(storage::Database& db, size_t batch_size, Metrics* metrics)
    : db_(db), batch_size_(batch_size ? batch_size : 1), metrics_(metrics) {
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void AuditLog::Append(AuditRecord record, std::function<void(bool)> done) {
  if (record.ts == 0) record.ts = clock::NowMillis();
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(record), std::move(done)});
  }
  cv_.notify_one();
}

void AuditLog::AppendSync(AuditRecord record) {
  std::promise<bool> committed;
  auto future = committed.get_future();
  Append(std::move(record), [&committed](bool ok) { committed.set_value(ok); });
  if (!future.get()) throw Error(ErrorCode::kUnavailable, "the audit log could not be written");
}

void AuditLog::WriterLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and drained
    std::vector<Pending> batch;
    size_t n = std::min(batch_size_, queue_.size());
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    WriteBatch(batch);
    lock.lock();
  }
}

void AuditLog::WriteBatch(std::vector<Pending>& batch) {
  bool ok = true;
  try {
    // Reading the chain head inside the write transaction keeps the chain
    // whole when another process (the CLI) appends at the same time.
    db_.Transaction([&](storage::Session& tx) {
      auto head = tx.Query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1");
      int64_t id = head.empty() ? 0 : head.rows[0][0].AsInt();
      std::string prev = head.empty() ? std::string(kAuditGenesisHash) : head.rows[0][1].AsText();
      for (auto& p : batch) {
        AuditRecord& r = p.record;
        r.id = ++id;
        r.prev_hash = prev;
        r.hash = ComputeAuditHash(r);
        tx.Execute(std::string("INSERT INTO audit_log (") + kAuditColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   {r.id, r.ts, r.request_id, r.user_id, r.username, r.roles, r.action, r.method,
                    r.path, r.status, r.outcome, r.patient, r.detail, r.prev_hash, r.hash});
        prev = r.hash;
      }
    });
  } catch (const std::exception& e) {
    ok = false;
    spdlog::critical("audit log write failed ({} records): {}", batch.size(), e.what());
  }
  if (metrics_) {
    metrics_->AddCounter(ok ? "haip_audit_records_total" : "haip_audit_write_failures_total",
                         ok ? "Audit records committed." : "Audit records that could not be committed.",
                         static_cast<double>(batch.size()));
  }
  for (auto& p : batch) {
    if (p.done) p.done(ok);
  }
}

std::vector<AuditRecord> AuditLog::Query(const AuditFilter& f) const {
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit_log WHERE 1 = 1";
  storage::Params params;
  if (!f.username.empty()) {
    sql += " AND username = ?";
    params.emplace_back(f.username);
  }
  if (!f.action.empty()) {
    if (f.action.back() == '.') {
      sql += " AND action LIKE ?";
      params.emplace_back(f.action + "%");
    } else {
      sql += " AND action = ?";
      params.emplace_back(f.action);
    }
  }
  if (!f.outcome.empty()) {
    sql += " AND outcome = ?";
    params.emplace_back(f.outcome);
  }
  if (!f.patient.empty()) {
    sql += " AND patient = ?";
    params.emplace_back(f.patient);
  }
  if (!f.text.empty()) {
    sql += " AND (path LIKE ? OR detail LIKE ? OR username LIKE ?)";
    std::string like = "%" + f.text + "%";
    params.emplace_back(like);
    params.emplace_back(like);
    params.emplace_back(like);
  }
  if (f.since) {
    sql += " AND ts >= ?";
    params.emplace_back(*f.since);
  }
  if (f.until) {
    sql += " AND ts < ?";
    params.emplace_back(*f.until);
  }
  if (f.before_id) {
    sql += " AND id < ?";
    params.emplace_back(*f.before_id);
  }
  if (f.after_id) {
    sql += " AND id > ?";
    params.emplace_back(*f.after_id);
  }
  sql += f.ascending ? " ORDER BY id ASC" : " ORDER BY id DESC";
  sql += " LIMIT ?";
  params.emplace_back(static_cast<int64_t>(f.limit));
  auto res = db_.Query(sql, params);
  std::vector<AuditRecord> out;
  out.reserve(res.size());
  for (const auto& r : res.rows) out.push_back(RowToRecord(r));
  return out;
}

AuditVerifyResult AuditLog::Verify(const std::function<void(int64_t)>& progress) const {
  AuditVerifyResult result;
  std::string prev(kAuditGenesisHash);
  int64_t expected_id = 1;
  constexpr int64_t kPage = 5000;
  for (;;) {
    auto res = db_.Query(std::string("SELECT ") + kAuditColumns +
                             " FROM audit_log WHERE id >= ? ORDER BY id ASC LIMIT ?",
                         {expected_id, kPage});
    for (const auto& row : res.rows) {
      AuditRecord r = RowToRecord(row);
      auto fail = [&](int64_t id, std::string reason) {
        result.ok = false;
        result.first_bad_id = id;
        result.reason = std::move(reason);
        return result;
      };
      bool self_consistent = ComputeAuditHash(r) == r.hash;
      if (r.id != expected_id) {
        // A gap before a genuine record means records were deleted; a gap
        // before a record that fails its own hash means that record was forged.
        if (!self_consistent) {
          return fail(r.id, "record " + std::to_string(r.id) +
                                " does not match its hash and breaks the id sequence (inserted)");
        }
        return fail(expected_id, "record " + std::to_string(expected_id) +
                                     " is missing (deleted): the next record is " + std::to_string(r.id));
      }
      if (!self_consistent) {
        return fail(r.id, "record " + std::to_string(r.id) +
                              " does not match its hash (edited, or inserted without the chain)");
      }
      if (r.prev_hash != prev) {
        return fail(r.id, "record " + std::to_string(r.id) +
                              " does not follow the record before it (the chain was rewritten at or "
                              "before this record)");
      }
      prev = r.hash;
      ++expected_id;
      ++result.records;
    }
    if (progress) progress(result.records);
    if (static_cast<int64_t>(res.size()) < kPage) break;
  }
  // Records whose ids sit below 1 or were renumbered away from the run above
  // are also breaks of the chain.
  auto total = db_.Query("SELECT COUNT(*) FROM audit_log").rows[0][0].AsInt();
  if (total != result.records) {
    auto stray = db_.Query("SELECT MIN(id) FROM audit_log WHERE id < 1 OR id >= ?", {expected_id});
    result.ok = false;
    result.first_bad_id = stray.rows[0][0].AsOptionalInt();
    result.reason = "record " + (result.first_bad_id ? std::to_string(*result.first_bad_id) : "?") +
                    " lies outside the chain (inserted)";
    return result;
  }
  result.head_hash = prev;
  return result;
}

int64_t AuditLog::Count() const { return db_.Query("SELECT COUNT(*) FROM audit_log").rows[0][0].AsInt(); }

}  // namespace haip::security
