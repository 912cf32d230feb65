#include "lake/fhir/store.h"

#include <set>

#include "core/clock.h"
#include "core/crypto.h"
#include "lake/fhir/search_params.h"

namespace haip::lake {

std::vector<storage::Migration> FhirStore::Migrations(storage::Dialect) {
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

std::string ContentHash(const Json& resource) {
  // meta.versionId and meta.lastUpdated are the store's, not content.
  if (!resource.contains("meta")) return crypto::Sha256Hex(resource.dump());
  Json copy = resource;
  copy["meta"].erase("versionId");
  copy["meta"].erase("lastUpdated");
  if (copy["meta"].empty()) copy.erase("meta");
  return crypto::Sha256Hex(copy.dump());
}

void InsertIndex(storage::Session& tx, const std::string& type, const std::string& id, const IndexRows& rows) {
  static const std::string kSql = "INSERT INTO fhir_index (type, id, param, sys, val, lo, hi, num) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
  for (const auto& t : rows.tokens) tx.Execute(kSql, {type, id, t.param, t.system, t.code, nullptr, nullptr, nullptr});
  for (const auto& r : rows.references) tx.Execute(kSql, {type, id, r.param, r.target_type, r.target_id, nullptr, nullptr, nullptr});
  for (const auto& d : rows.dates) tx.Execute(kSql, {type, id, d.param, "", "", d.lo, d.hi, nullptr});
  for (const auto& q : rows.quantities) tx.Execute(kSql, {type, id, q.param, q.system, q.code, nullptr, nullptr, q.value});
  for (const auto& s : rows.strings) tx.Execute(kSql, {type, id, s.param, "", s.value, nullptr, nullptr, nullptr});
}
}  // namespace

WriteOutcome FhirStore::Write(storage::Session& tx, Json resource, const std::string& type, const std::string& id) {
  resource["resourceType"] = type;
  resource["id"] = id;
  std::string hash = ContentHash(resource);
  auto cur = tx.Query("SELECT version, deleted, hash, body FROM fhir_resource WHERE type = ? AND id = ?", {type, id});
  WriteOutcome out;
  bool exists = !cur.empty();
  bool was_deleted = exists && cur.rows[0][1].AsInt() != 0;
  if (exists && !was_deleted && cur.rows[0][2].AsText() == hash) {
    out.resource = Json::parse(cur.rows[0][3].AsText());
    out.version = cur.rows[0][0].AsInt();
    out.unchanged = true;
    return out;
  }
  out.version = exists ? cur.rows[0][0].AsInt() + 1 : 1;
  out.created = !exists || was_deleted;
  int64_t now = clock::NowMillis();
  if (!resource.contains("meta") || !resource["meta"].is_object()) resource["meta"] = Json::object();
  resource["meta"]["versionId"] = std::to_string(out.version);
  resource["meta"]["lastUpdated"] = clock::FormatIso8601(now);
  std::string body = resource.dump(-1, ' ', false, Json::error_handler_t::replace);
  IndexRows rows = ExtractIndex(resource);
  if (exists) {
    tx.Execute("UPDATE fhir_resource SET version = ?, last_updated = ?, deleted = 0, patient = ?, hash = ?, body = ? "
               "WHERE type = ? AND id = ?",
               {out.version, now, rows.patient, hash, body, type, id});
    tx.Execute("DELETE FROM fhir_index WHERE type = ? AND id = ?", {type, id});
  } else {
    tx.Execute("INSERT INTO fhir_resource (type, id, version, last_updated, deleted, patient, hash, body) "
               "VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
               {type, id, out.version, now, rows.patient, hash, body});
  }
  tx.Execute("INSERT INTO fhir_history (type, id, version, last_updated, deleted, body) VALUES (?, ?, ?, ?, 0, ?)",
             {type, id, out.version, now, body});
  InsertIndex(tx, type, id, rows);
  Notify(tx, type, id, &resource);
  out.resource = std::move(resource);
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
  for (size_t i = 0; i < resources.size(); ++i) {
    auto issues = ValidateResource(resources[i], "[" + std::to_string(i) + "]");
    if (!issues.empty()) {
      throw FhirError(ErrorCode::kUnprocessable, Outcome{MakeOperationOutcome(issues)},
                      "resource " + std::to_string(i) + " is invalid: " + issues[0].expression + ": " + issues[0].diagnostics);
    }
    if (!resources[i].contains("id")) resources[i]["id"] = NewResourceId();
  }
  std::vector<WriteOutcome> out;
  out.reserve(resources.size());
  db_.Transaction([&](storage::Session& tx) {
    out.clear();
    for (auto& r : resources) {
      std::string type = r["resourceType"], id = r["id"];
      out.push_back(Write(tx, r, type, id));
    }
  });
  return out;
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
  auto res = db_.Query("SELECT body, deleted FROM fhir_history WHERE type = ? AND id = ? AND version = ?", {type, id, version});
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
  tx.Execute("UPDATE fhir_resource SET version = ?, last_updated = ?, deleted = 1, hash = '', body = '{}' "
             "WHERE type = ? AND id = ?",
             {version, now, type, id});
  tx.Execute("INSERT INTO fhir_history (type, id, version, last_updated, deleted, body) VALUES (?, ?, ?, ?, 1, '{}')",
             {type, id, version, now});
  tx.Execute("DELETE FROM fhir_index WHERE type = ? AND id = ?", {type, id});
  Notify(tx, type, id, nullptr);
  return true;
}

bool FhirStore::Delete(const std::string& type, const std::string& id) {
  bool deleted = false;
  db_.Transaction([&](storage::Session& tx) { deleted = DeleteIn(tx, type, id); });
  return deleted;
}

Json FhirStore::History(const std::string& type, const std::string& id) const {
  auto res = db_.Query("SELECT version, last_updated, deleted, body FROM fhir_history WHERE type = ? AND id = ? "
                       "ORDER BY version DESC",
                       {type, id});
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

}  // namespace haip::lake
