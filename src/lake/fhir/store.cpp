#include "lake/fhir/store.h"

#include <set>

#include "core/clock.h"
#include "core/crypto.h"
#include "lake/fhir/search_params.h"

namespace haip::lake {

std::vector<storage::Migration> FhirStore::Migrations(storage::Dialect dialect) {
  return {{1, "fhir resources, history and search index", R"SQL(
CREATE TABLE fhir_resource (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version ${BIGINT} NOT NULL,
  last_updated ${BIGINT} NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  patient TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE INDEX fhir_resource_patient ON fhir_resource(patient, type, last_updated);
CREATE INDEX fhir_resource_updated ON fhir_resource(type, last_updated);
CREATE TABLE fhir_history (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version ${BIGINT} NOT NULL,
  last_updated ${BIGINT} NOT NULL,
  deleted INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (type, id, version)
);
CREATE TABLE fhir_index (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  param TEXT NOT NULL,
  sys TEXT NOT NULL DEFAULT '',
  val TEXT NOT NULL DEFAULT '',
  lo ${BIGINT},
  hi ${BIGINT},
  num ${REAL}
);
CREATE INDEX fhir_index_val ON fhir_index(type, param, val);
CREATE INDEX fhir_index_lo ON fhir_index(type, param, lo);
CREATE INDEX fhir_index_hi ON fhir_index(type, param, hi);
CREATE INDEX fhir_index_num ON fhir_index(type, param, num);
CREATE INDEX fhir_index_res ON fhir_index(type, id, param);
)SQL"},
          // Faster writes: the index table is keyed by (type, id, param, seq),
          // so a resource's rows sit together and no separate per-resource
          // index is needed; the date and quantity indexes hold only rows
          // that have such values (a comparison on lo/hi/num implies IS NOT
          // NULL, so both engines use them). History keeps superseded
          // versions only; the current one is the fhir_resource row.
          {2, "compact search index, history without the current version",
           std::string(R"SQL(
CREATE TABLE fhir_index_v2 (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  param TEXT NOT NULL,
  seq INTEGER NOT NULL,
  sys TEXT NOT NULL DEFAULT '',
  val TEXT NOT NULL DEFAULT '',
  lo ${BIGINT},
  hi ${BIGINT},
  num ${REAL},
  PRIMARY KEY (type, id, param, seq)
))SQL") + (dialect == storage::Dialect::kSqlite ? " WITHOUT ROWID" : "") + R"SQL(;
INSERT INTO fhir_index_v2 (type, id, param, seq, sys, val, lo, hi, num)
  SELECT type, id, param, ROW_NUMBER() OVER (PARTITION BY type, id ORDER BY param), sys, val, lo, hi, num FROM fhir_index;
DROP TABLE fhir_index;
ALTER TABLE fhir_index_v2 RENAME TO fhir_index;
CREATE INDEX fhir_index_val ON fhir_index(type, param, val);
CREATE INDEX fhir_index_lo ON fhir_index(type, param, lo) WHERE lo IS NOT NULL;
CREATE INDEX fhir_index_hi ON fhir_index(type, param, hi) WHERE hi IS NOT NULL;
CREATE INDEX fhir_index_num ON fhir_index(type, param, num) WHERE num IS NOT NULL;
DELETE FROM fhir_history WHERE EXISTS (
  SELECT 1 FROM fhir_resource r WHERE r.type = fhir_history.type AND r.id = fhir_history.id AND r.version = fhir_history.version);
)SQL"},
          // The change log: one row per write or delete, in commit order on
          // SQLite, for indexes kept outside the database (the cohort engine).
          {3, "change log", R"SQL(
CREATE TABLE fhir_change (
  seq ${ID},
  type TEXT NOT NULL,
  id TEXT NOT NULL
);
INSERT INTO fhir_change (type, id) SELECT type, id FROM fhir_resource ORDER BY last_updated;
)SQL"}};
}

std::string NewResourceId() {
  std::string b = crypto::RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex = crypto::HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

FhirStore::FhirStore(storage::Database& db) : db_(db) {}

namespace {
void ThrowIfInvalid(const Json& resource, const std::string& prefix = "") {
  auto issues = ValidateResource(resource, prefix);
  if (!issues.empty()) {
    std::string first = issues[0].expression + ": " + issues[0].diagnostics;
    throw FhirError(ErrorCode::kUnprocessable, Outcome{MakeOperationOutcome(issues)}, "invalid resource: " + first);
  }
}

// The resource without the store's meta fields, which are not content.
std::string StripStoreMeta(Json& resource) {
  if (resource.contains("meta") && resource["meta"].is_object()) {
    resource["meta"].erase("versionId");
    resource["meta"].erase("lastUpdated");
    if (resource["meta"].empty()) resource.erase("meta");
  }
  return resource.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void SetStoreMeta(Json& resource, int64_t version, int64_t now) {
  if (!resource.contains("meta") || !resource["meta"].is_object()) resource["meta"] = Json::object();
  resource["meta"]["versionId"] = std::to_string(version);
  resource["meta"]["lastUpdated"] = clock::FormatIso8601(now);
}

// Index rows go in as multi-row INSERTs of up to kRowsPerInsert rows, with
// one statement text per row count so the statement cache keeps them all.
constexpr size_t kRowsPerInsert = 16;

const std::string& IndexInsertSql(size_t rows) {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> out(kRowsPerInsert + 1);
    for (size_t n = 1; n <= kRowsPerInsert; ++n) {
      std::string q = "INSERT INTO fhir_index (type, id, param, seq, sys, val, lo, hi, num) VALUES ";
      for (size_t i = 0; i < n; ++i) q += i ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
      out[n] = std::move(q);
    }
    return out;
  }();
  return sql[rows];
}

void InsertIndex(storage::Session& tx, const std::string& type, const std::string& id, const IndexRows& rows) {
  storage::Params params;
  size_t pending = 0;
  int64_t seq = 0;
  auto flush = [&] {
    if (pending == 0) return;
    tx.Execute(IndexInsertSql(pending), params);
    params.clear();
    pending = 0;
  };
  auto add = [&](const std::string& param, const std::string& sys, const std::string& val, storage::Value lo,
                 storage::Value hi, storage::Value num) {
    params.insert(params.end(), {type, id, param, ++seq, sys, val, std::move(lo), std::move(hi), std::move(num)});
    if (++pending == kRowsPerInsert) flush();
  };
  for (const auto& t : rows.tokens) add(t.param, t.system, t.code, nullptr, nullptr, nullptr);
  for (const auto& r : rows.references) add(r.param, r.target_type, r.target_id, nullptr, nullptr, nullptr);
  for (const auto& d : rows.dates) add(d.param, "", "", d.lo, d.hi, nullptr);
  for (const auto& q : rows.quantities) add(q.param, q.system, q.code, nullptr, nullptr, q.value);
  for (const auto& st : rows.strings) add(st.param, "", st.value, nullptr, nullptr, nullptr);
  flush();
}
}  // namespace

PreparedWrite FhirStore::Prepare(Json resource, const std::string& type, const std::string& id) {
  PreparedWrite w;
  w.type = type;
  w.id = id;
  resource["resourceType"] = type;
  resource["id"] = id;
  w.hash = crypto::Sha256Hex(StripStoreMeta(resource));
  w.now = clock::NowMillis();
  SetStoreMeta(resource, 1, w.now);
  w.body = resource.dump(-1, ' ', false, Json::error_handler_t::replace);
  w.rows = ExtractIndex(resource);
  w.resource = std::move(resource);
  return w;
}

PreparedWrite FhirStore::PrepareBulk(Json resource) {
  ThrowIfInvalid(resource);
  if (!resource.contains("id")) resource["id"] = NewResourceId();
  std::string type = resource["resourceType"], id = resource["id"];
  return Prepare(std::move(resource), type, id);
}

WriteOutcome FhirStore::WritePrepared(storage::Session& tx, const PreparedWrite& w, bool keep_resource) {
  const std::string& type = w.type;
  const std::string& id = w.id;
  auto cur = tx.Query("SELECT version, deleted, hash FROM fhir_resource WHERE type = ? AND id = ?", {type, id});
  WriteOutcome out;
  bool exists = !cur.empty();
  bool was_deleted = exists && cur.rows[0][1].AsInt() != 0;
  if (exists && !was_deleted && cur.rows[0][2].AsText() == w.hash) {
    if (keep_resource) {
      auto stored = tx.Query("SELECT body FROM fhir_resource WHERE type = ? AND id = ?", {type, id});
      out.resource = Json::parse(stored.rows[0][0].AsText());
    }
    out.version = cur.rows[0][0].AsInt();
    out.unchanged = true;
    return out;
  }
  out.version = exists ? cur.rows[0][0].AsInt() + 1 : 1;
  out.created = !exists || was_deleted;
  const std::string* body = &w.body;
  std::string later_body;
  Json later;
  const bool need_json = out.version != 1 || keep_resource || HasWriteObservers(type);
  if (need_json && w.resource.is_null()) later = Json::parse(w.body);
  if (out.version != 1) {  // prepared as version 1
    if (!w.resource.is_null()) later = w.resource;
    SetStoreMeta(later, out.version, w.now);
    later_body = later.dump(-1, ' ', false, Json::error_handler_t::replace);
    body = &later_body;
  }
  if (exists) {
    // The superseded version moves to the history table.
    tx.Execute("INSERT INTO fhir_history (type, id, version, last_updated, deleted, body) "
               "SELECT type, id, version, last_updated, deleted, body FROM fhir_resource WHERE type = ? AND id = ?",
               {type, id});
    tx.Execute("UPDATE fhir_resource SET version = ?, last_updated = ?, deleted = 0, patient = ?, hash = ?, body = ? "
               "WHERE type = ? AND id = ?",
               {out.version, w.now, w.rows.patient, w.hash, *body, type, id});
    tx.Execute("DELETE FROM fhir_index WHERE type = ? AND id = ?", {type, id});
  } else {
    tx.Execute("INSERT INTO fhir_resource (type, id, version, last_updated, deleted, patient, hash, body) "
               "VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
               {type, id, out.version, w.now, w.rows.patient, w.hash, *body});
  }
  InsertIndex(tx, type, id, w.rows);
  tx.Execute("INSERT INTO fhir_change (type, id) VALUES (?, ?)", {type, id});
  const Json& stored = out.version != 1 || w.resource.is_null() ? later : w.resource;
  Notify(tx, type, id, &stored);
  if (keep_resource) out.resource = stored;
  return out;
}

void FhirStore::AddWriteObserver(const std::string& type, WriteObserver observer) {
  observers_[type].push_back(std::move(observer));
}

void FhirStore::Notify(storage::Session& tx, const std::string& type, const std::string& id, const Json* resource) const {
  auto it = observers_.find(type);
  if (it == observers_.end()) return;
  for (const auto& observer : it->second) observer(tx, id, resource);
}

WriteOutcome FhirStore::Write(storage::Session& tx, Json resource, const std::string& type, const std::string& id) {
  return WritePrepared(tx, Prepare(std::move(resource), type, id), true);
}

std::vector<WriteOutcome> FhirStore::WriteBatch(const std::vector<PreparedWrite>& batch, bool keep_resources) {
  std::vector<WriteOutcome> out;
  out.reserve(batch.size());
  db_.Transaction([&](storage::Session& tx) {
    out.clear();
    for (const auto& w : batch) out.push_back(WritePrepared(tx, w, keep_resources));
  });
  return out;
}

WriteOutcome FhirStore::Create(Json resource, bool keep_id) {
  ThrowIfInvalid(resource);
  std::string type = resource["resourceType"];
  std::string id = keep_id && resource.contains("id") ? resource["id"].get<std::string>() : NewResourceId();
  WriteOutcome out;
  db_.Transaction([&](storage::Session& tx) { out = Write(tx, std::move(resource), type, id); });
  return out;
}

WriteOutcome FhirStore::Update(const std::string& type, const std::string& id, Json resource) {
  if (!IsValidTypeName(type)) throw FhirError(ErrorCode::kNotFound, "not-supported", "unknown resource type '" + type + "'");
  if (!IsValidId(id)) throw FhirError(ErrorCode::kBadRequest, "value", "invalid id '" + id + "'");
  if (!resource.is_object()) throw FhirError(ErrorCode::kBadRequest, "structure", "the body must be a FHIR resource");
  if (resource.value("resourceType", std::string()) != type) {
    throw FhirError(ErrorCode::kBadRequest, "invalid", "resourceType in the body must be " + type, type + ".resourceType");
  }
  if (!resource.contains("id")) {
    throw FhirError(ErrorCode::kBadRequest, "required", "update needs the id in the body (FHIR R4 3.1.0.4)", type + ".id");
  }
  if (resource["id"] != id) {
    throw FhirError(ErrorCode::kBadRequest, "invalid", "the id in the body does not match the URL", type + ".id");
  }
  ThrowIfInvalid(resource);
  WriteOutcome out;
  db_.Transaction([&](storage::Session& tx) { out = Write(tx, std::move(resource), type, id); });
  return out;
}

std::vector<WriteOutcome> FhirStore::WriteMany(std::vector<Json> resources) {
  std::vector<PreparedWrite> batch;
  batch.reserve(resources.size());
  for (size_t i = 0; i < resources.size(); ++i) {
    auto issues = ValidateResource(resources[i], "[" + std::to_string(i) + "]");
    if (!issues.empty()) {
      throw FhirError(ErrorCode::kUnprocessable, Outcome{MakeOperationOutcome(issues)},
                      "resource " + std::to_string(i) + " is invalid: " + issues[0].expression + ": " + issues[0].diagnostics);
    }
    if (!resources[i].contains("id")) resources[i]["id"] = NewResourceId();
    std::string type = resources[i]["resourceType"], id = resources[i]["id"];
    batch.push_back(Prepare(std::move(resources[i]), type, id));
  }
  return WriteBatch(std::move(batch));
}

Json FhirStore::Read(const std::string& type, const std::string& id) const {
  auto res = db_.Query("SELECT body, deleted, version FROM fhir_resource WHERE type = ? AND id = ?", {type, id});
  if (res.empty()) throw FhirError(ErrorCode::kNotFound, "not-found", type + "/" + id + " is not known");
  if (res.rows[0][1].AsInt() != 0) {
    throw FhirError(ErrorCode::kGone, "deleted", type + "/" + id + " was deleted (version " + std::to_string(res.rows[0][2].AsInt()) + ")");
  }
  return Json::parse(res.rows[0][0].AsText());
}

Json FhirStore::VRead(const std::string& type, const std::string& id, int64_t version) const {
  // The current version is the fhir_resource row; earlier ones are history.
  auto res = db_.Query("SELECT body, deleted FROM fhir_resource WHERE type = ? AND id = ? AND version = ?", {type, id, version});
  if (res.empty()) {
    res = db_.Query("SELECT body, deleted FROM fhir_history WHERE type = ? AND id = ? AND version = ?", {type, id, version});
  }
  if (res.empty()) {
    throw FhirError(ErrorCode::kNotFound, "not-found", type + "/" + id + " has no version " + std::to_string(version));
  }
  if (res.rows[0][1].AsInt() != 0) {
    throw FhirError(ErrorCode::kGone, "deleted", "version " + std::to_string(version) + " of " + type + "/" + id + " is a deletion");
  }
  return Json::parse(res.rows[0][0].AsText());
}

bool FhirStore::DeleteIn(storage::Session& tx, const std::string& type, const std::string& id) {
  auto cur = tx.Query("SELECT version, deleted FROM fhir_resource WHERE type = ? AND id = ?", {type, id});
  if (cur.empty() || cur.rows[0][1].AsInt() != 0) return false;
  int64_t version = cur.rows[0][0].AsInt() + 1;
  int64_t now = clock::NowMillis();
  tx.Execute("INSERT INTO fhir_history (type, id, version, last_updated, deleted, body) "
             "SELECT type, id, version, last_updated, deleted, body FROM fhir_resource WHERE type = ? AND id = ?",
             {type, id});
  tx.Execute("UPDATE fhir_resource SET version = ?, last_updated = ?, deleted = 1, hash = '', body = '{}' "
             "WHERE type = ? AND id = ?",
             {version, now, type, id});
  tx.Execute("DELETE FROM fhir_index WHERE type = ? AND id = ?", {type, id});
  tx.Execute("INSERT INTO fhir_change (type, id) VALUES (?, ?)", {type, id});
  Notify(tx, type, id, nullptr);
  return true;
}

bool FhirStore::Delete(const std::string& type, const std::string& id) {
  bool deleted = false;
  db_.Transaction([&](storage::Session& tx) { deleted = DeleteIn(tx, type, id); });
  return deleted;
}

Json FhirStore::History(const std::string& type, const std::string& id) const {
  auto res = db_.Query("SELECT version, last_updated, deleted, body FROM fhir_resource WHERE type = ? AND id = ? "
                       "UNION ALL SELECT version, last_updated, deleted, body FROM fhir_history WHERE type = ? AND id = ? "
                       "ORDER BY 1 DESC",
                       {type, id, type, id});
  if (res.empty()) throw FhirError(ErrorCode::kNotFound, "not-found", type + "/" + id + " is not known");
  Json bundle = {{"resourceType", "Bundle"}, {"type", "history"}, {"total", res.size()}, {"entry", Json::array()}};
  for (const auto& r : res.rows) {
    Json entry;
    std::string v = std::to_string(r[0].AsInt());
    entry["fullUrl"] = type + "/" + id;
    if (r[2].AsInt() == 0) entry["resource"] = Json::parse(r[3].AsText());
    entry["request"] = {{"method", r[2].AsInt() ? "DELETE" : (v == "1" ? "POST" : "PUT")}, {"url", type + "/" + id}};
    entry["response"] = {{"status", r[2].AsInt() ? "204" : "200"},
                         {"etag", "W/\"" + v + "\""},
                         {"lastModified", clock::FormatIso8601(r[1].AsInt())}};
    bundle["entry"].push_back(std::move(entry));
  }
  return bundle;
}

int64_t FhirStore::Count(const std::string& type) const {
  if (type.empty()) return db_.Query("SELECT COUNT(*) FROM fhir_resource WHERE deleted = 0").rows[0][0].AsInt();
  return db_.Query("SELECT COUNT(*) FROM fhir_resource WHERE type = ? AND deleted = 0", {type}).rows[0][0].AsInt();
}

std::map<std::string, int64_t> FhirStore::CountByType() const {
  std::map<std::string, int64_t> out;
  for (const auto& r : db_.Query("SELECT type, COUNT(*) FROM fhir_resource WHERE deleted = 0 GROUP BY type").rows) {
    out[r[0].AsText()] = r[1].AsInt();
  }
  return out;
}

std::string FhirStore::PatientOf(const std::string& type, const std::string& id) const {
  auto res = db_.Query("SELECT patient FROM fhir_resource WHERE type = ? AND id = ?", {type, id});
  return res.empty() ? "" : res.rows[0][0].AsText();
}

int64_t FhirStore::LastChangeSeq() const {
  auto res = db_.Query("SELECT MAX(seq) FROM fhir_change", {});
  return res.empty() || res.rows[0][0].IsNull() ? 0 : res.rows[0][0].AsInt();
}

std::vector<FhirChange> FhirStore::ChangesSince(int64_t after_seq, size_t limit) const {
  auto res = db_.Query("SELECT seq, type, id FROM fhir_change WHERE seq > ? ORDER BY seq LIMIT ?",
                       {after_seq, static_cast<int64_t>(limit)});
  std::vector<FhirChange> out;
  out.reserve(res.rows.size());
  for (const auto& row : res.rows) out.push_back({row[0].AsInt(), row[1].AsText(), row[2].AsText()});
  return out;
}

std::optional<Json> FhirStore::ReadCurrent(const std::string& type, const std::string& id) const {
  auto res = db_.Query("SELECT body FROM fhir_resource WHERE type = ? AND id = ? AND deleted = 0", {type, id});
  if (res.empty()) return std::nullopt;
  return Json::parse(res.rows[0][0].AsText());
}

void FhirStore::ForEachCurrent(const std::string& type, const std::function<void(const Json&)>& fn,
                               size_t page) const {
  std::string after;
  for (;;) {
    auto res = db_.Query("SELECT id, body FROM fhir_resource WHERE type = ? AND deleted = 0 AND id > ? "
                         "ORDER BY id LIMIT ?",
                         {type, after, static_cast<int64_t>(page)});
    for (const auto& row : res.rows) fn(Json::parse(row[1].AsText()));
    if (res.rows.size() < page) return;
    after = res.rows.back()[0].AsText();
  }
}

}  // namespace haip::lake
