#include "cohort/service.h"

#include <algorithm>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/log.h"

namespace haip::cohort {
namespace {

bool IsFactType(std::string_view type) {
  return std::find(std::begin(kFactTypes), std::end(kFactTypes), type) != std::end(kFactTypes);
}

// On PostgreSQL concurrent writers may commit out of seq order: re-read this
// many changes before the watermark on each catch-up (applying is idempotent).
constexpr int64_t kPostgresMargin = 1000;

SavedCohort FromRow(const storage::Row& row) {
  SavedCohort c;
  c.id = row[0].AsText();
  c.version = row[1].AsInt();
  c.title = row[2].AsText();
  c.criteria = Json::parse(row[3].AsText());
  c.created_by = row[4].AsText();
  c.created_at = row[5].AsInt();
  return c;
}

}  // namespace

Json ResultToJson(const CohortResult& r, bool with_patients) {
  Json out = {{"count", r.count}, {"patientsTotal", r.patients_total}, {"elapsedMs", r.elapsed_ms},
              {"attrition", Json::array()}};
  for (const auto& a : r.attrition) {
    out["attrition"].push_back(
        {{"name", a.name}, {"exclusion", a.exclusion}, {"patients", a.patients}, {"passedAlone", a.passed_alone}});
  }
  if (with_patients) out["patients"] = r.patients;
  return out;
}

CohortService::CohortService(storage::Database& db, lake::FhirStore& store) : db_(db), store_(store) {}

std::vector<storage::Migration> CohortService::Migrations() {
  return {{1, "saved cohort definitions", R"SQL(
CREATE TABLE cohort_definition (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  title TEXT NOT NULL,
  criteria TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at ${BIGINT} NOT NULL,
  PRIMARY KEY (id, version)
);
)SQL"}};
}

void CohortService::Apply(const std::string& type, const std::string& id) {
  auto resource = store_.ReadCurrent(type, id);
  index_.Put(type, id, resource ? ExtractFacts(*resource) : Facts{});
}

void CohortService::Build() {
  const int64_t start = store_.LastChangeSeq();
  for (std::string_view type : kFactTypes) {
    std::string t(type);
    store_.ForEachCurrent(t, [&](const Json& r) { index_.Put(t, r.value("id", ""), ExtractFacts(r)); });
  }
  watermark_ = start;  // changes after `start` are applied by the catch-up
  built_ = true;
  auto stats = index_.Stats();
  spdlog::info("cohort index built: {} patients, {} events, {} concepts", stats.patients, stats.events, stats.concepts);
}

int64_t CohortService::CatchUp() {
  std::lock_guard lock(catch_up_mu_);
  if (!built_) Build();
  int64_t after = watermark_;
  if (db_.dialect() == storage::Dialect::kPostgres) after = std::max<int64_t>(0, after - kPostgresMargin);
  int64_t applied = 0;
  for (;;) {
    auto changes = store_.ChangesSince(after, 5000);
    for (const auto& c : changes) {
      if (IsFactType(c.type)) {
        Apply(c.type, c.id);
        ++applied;
      }
      after = c.seq;
      watermark_ = std::max(watermark_, c.seq);
    }
    if (changes.size() < 5000) break;
  }
  return applied;
}

CohortResult CohortService::Run(const Criteria& criteria, bool with_patients) {
  CatchUp();
  return index_.Run(criteria, with_patients);
}

SavedCohort CohortService::Save(const Json& criteria, const std::string& user, const std::optional<std::string>& id) {
  Criteria parsed = ParseCriteria(criteria);  // validates
  SavedCohort c;
  c.criteria = criteria;
  c.title = parsed.title.empty() ? "untitled cohort" : parsed.title;
  c.created_by = user;
  c.created_at = clock::NowMillis();
  db_.Transaction([&](storage::Session& tx) {
    if (id) {
      auto cur = tx.Query("SELECT MAX(version) FROM cohort_definition WHERE id = ?", {*id});
      if (cur.empty() || cur.rows[0][0].IsNull()) throw Error(ErrorCode::kNotFound, "no cohort " + *id);
      c.id = *id;
      c.version = cur.rows[0][0].AsInt() + 1;
    } else {
      c.id = crypto::HexEncode(crypto::RandomBytes(8));
      c.version = 1;
    }
    tx.Execute("INSERT INTO cohort_definition (id, version, title, criteria, created_by, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               {c.id, c.version, c.title, criteria.dump(), c.created_by, c.created_at});
  });
  return c;
}

std::vector<SavedCohort> CohortService::List() const {
  auto res = db_.Query(
      "SELECT d.id, d.version, d.title, d.criteria, d.created_by, d.created_at FROM cohort_definition d "
      "WHERE d.version = (SELECT MAX(version) FROM cohort_definition x WHERE x.id = d.id) "
      "ORDER BY d.created_at DESC, d.id",
      {});
  std::vector<SavedCohort> out;
  for (const auto& row : res.rows) out.push_back(FromRow(row));
  return out;
}

SavedCohort CohortService::Get(const std::string& id, std::optional<int64_t> version) const {
  auto res = version ? db_.Query("SELECT id, version, title, criteria, created_by, created_at FROM cohort_definition "
                                 "WHERE id = ? AND version = ?",
                                 {id, *version})
                     : db_.Query("SELECT id, version, title, criteria, created_by, created_at FROM cohort_definition "
                                 "WHERE id = ? ORDER BY version DESC LIMIT 1",
                                 {id});
  if (res.empty()) {
    throw Error(ErrorCode::kNotFound,
                "no cohort " + id + (version ? " version " + std::to_string(*version) : std::string()));
  }
  return FromRow(res.rows[0]);
}

std::vector<SavedCohort> CohortService::Versions(const std::string& id) const {
  auto res = db_.Query("SELECT id, version, title, criteria, created_by, created_at FROM cohort_definition "
                       "WHERE id = ? ORDER BY version DESC",
                       {id});
  if (res.empty()) throw Error(ErrorCode::kNotFound, "no cohort " + id);
  std::vector<SavedCohort> out;
  for (const auto& row : res.rows) out.push_back(FromRow(row));
  return out;
}

}  // namespace haip::cohort
