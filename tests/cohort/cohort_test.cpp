// The cohort engine against SQLite and PostgreSQL (the SQL generated the way
// OHDSI's Circe does it, over the same flat tables) on the demo hospital:
// identical patient sets and attrition for every criteria file in
// bench/cohort/criteria. Plus criteria validation and incremental updates.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "cohort/criteria.h"
#include "cohort/index.h"
#include "cohort/sql.h"
#include "core/error.h"
#include "postgres_server.h"
#include "storage/database.h"
#include "synth/generator.h"

namespace fs = std::filesystem;
using namespace haip;
using namespace haip::cohort;

namespace {

Json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  return Json::parse(in);
}

std::vector<fs::path> CriteriaFiles() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(HAIP_SOURCE_DIR) / "bench/cohort/criteria")) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The demo hospital, generated once per process: every resource's facts.
struct Demo {
  std::vector<std::pair<std::string, Facts>> facts;  // ("Type/id", facts)
  Demo() {
    fs::path dir = fs::temp_directory_path() / ("haip-cohort-" + std::to_string(getpid()));
    synth::SynthOptions o;
    o.patients = 1500;
    o.seed = 11;
    o.out_dir = dir;
    synth::Generate(o);
    for (std::string_view type : kFactTypes) {
      std::ifstream in(dir / (std::string(type) + ".ndjson"));
      std::string line;
      while (std::getline(in, line)) {
        Json r = Json::parse(line);
        facts.emplace_back(r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>(), ExtractFacts(r));
      }
    }
    fs::remove_all(dir);
  }
  static const Demo& Get() {
    static Demo demo;
    return demo;
  }
};

void LoadIndex(CohortIndex& index) {
  for (const auto& [key, f] : Demo::Get().facts) {
    auto slash = key.find('/');
    index.Put(key.substr(0, slash), key.substr(slash + 1), f);
  }
}

void LoadFlat(storage::Database& db) {
  db.ExecuteScript(FlatTablesDdl());
  FlatLoader loader(db, 5000);
  for (const auto& [key, f] : Demo::Get().facts) loader.Add(f);
  loader.Flush();
}

// Runs every criteria file on the engine and the database; they must agree.
void CompareWith(storage::Database& db) {
  CohortIndex index;
  LoadIndex(index);
  auto stats = index.Stats();
  std::printf("demo hospital: %lld patients, %lld events, %lld concepts\n", static_cast<long long>(stats.patients),
              static_cast<long long>(stats.events), static_cast<long long>(stats.concepts));
  ASSERT_GT(stats.events, 10000);
  int nonempty = 0;
  for (const auto& file : CriteriaFiles()) {
    SCOPED_TRACE(file.filename().string());
    Criteria c = ParseCriteria(ReadJson(file));
    CohortResult r = index.Run(c, true);
    auto attrition = db.Query(AttritionSql(c, db.dialect()), {});
    ASSERT_EQ(attrition.rows.size(), r.attrition.size());
    for (size_t k = 0; k < r.attrition.size(); ++k) {
      EXPECT_EQ(attrition.rows[k][1].AsInt(), r.attrition[k].patients) << "step " << k << " " << r.attrition[k].name;
      EXPECT_EQ(attrition.rows[k][2].AsInt(), r.attrition[k].passed_alone) << "step " << k;
    }
    auto rows = db.Query(PatientsSql(c, db.dialect()), {});
    std::vector<std::string> sql_patients;
    for (const auto& row : rows.rows) sql_patients.push_back(row[0].AsText());
    std::sort(sql_patients.begin(), sql_patients.end());
    EXPECT_EQ(sql_patients, r.patients);
    EXPECT_EQ(static_cast<int64_t>(r.patients.size()), r.count);
    if (r.count > 0) ++nonempty;
    std::printf("%-36s cohort %6lld  (%.2f ms)  attrition:", file.filename().string().c_str(),
                static_cast<long long>(r.count), r.elapsed_ms);
    for (const auto& a : r.attrition) std::printf(" %lld", static_cast<long long>(a.patients));
    std::printf("\n");
  }
  // The criteria are meant to select someone on the demo hospital.
  EXPECT_GE(nonempty, 9);
}

}  // namespace

TEST(CohortCriteria, TenFilesParse) {
  auto files = CriteriaFiles();
  ASSERT_EQ(files.size(), 10u);
  for (const auto& f : files) EXPECT_NO_THROW(ParseCriteria(ReadJson(f))) << f;
}

TEST(CohortCriteria, ErrorsNameThePath) {
  auto error_of = [](const char* text) {
    try {
      ParseCriteria(Json::parse(text));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kBadRequest);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(R"({})").find("entry: is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"entry":{"events":[{"domain":"condition","conceptSet":"x"}]}})").find(
                "entry.events[0].conceptSet: unknown concept set \"x\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"entry":{"events":[{"domain":"lab"}]}})").find("entry.events[0].domain"), std::string::npos);
  EXPECT_NE(error_of(R"({"entry":{"events":[{"domain":"condition"}]},
                       "inclusion":[{"rule":{"event":{"domain":"condition"},"window":{"start":5,"end":1}}}]})")
                .find("inclusion[0].rule.window: start must not be after end"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"entry":{"events":[{"domain":"condition","value":{"gt":1}}]}})").find(
                "only observations have values"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"entry":{"events":[{"domain":"condition"}]},"inclusion":[{"rule":{"age":{"gte":1},"gender":["male"]}}]})")
                .find("inclusion[0].rule: needs exactly one of"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"entry":{"events":[{"domain":"condition"}]},"inclusion":[{"rule":{"atLeast":3,"of":[{"age":{"gte":1}}]}}]})")
                .find("inclusion[0].rule.atLeast: is more than"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"entry":{"events":[{"domain":"condition"}]},"colour":1})").find("unknown member \"colour\""),
            std::string::npos);
}

TEST(CohortEvents, DatesAndAges) {
  EXPECT_EQ(ParseDay("1970-01-01"), 0);
  EXPECT_EQ(ParseDay("2019-08-07T22:57:00+08:00"), ParseDay("2019-08-07"));
  EXPECT_EQ(ParseDay("2019"), ParseDay("2019-01-01"));
  EXPECT_EQ(ParseDay("2019-08"), ParseDay("2019-08-01"));
  EXPECT_FALSE(ParseDay("2019-13-01"));
  EXPECT_FALSE(ParseDay("yesterday"));
  EXPECT_EQ(FormatDay(*ParseDay("2024-02-29")), "2024-02-29");
  EXPECT_EQ(FormatDay(*ParseDay("1900-03-01")), "1900-03-01");
  EXPECT_EQ(AgeYears(*ParseDay("2000-06-15"), *ParseDay("2018-06-15")), 18);
  EXPECT_EQ(AgeYears(*ParseDay("2000-06-15"), *ParseDay("2018-06-10")), 17);
}

TEST(CohortEvents, ObservationComponentsAndEncounters) {
  auto f = ExtractFacts(Json::parse(R"({"resourceType":"Observation","id":"o","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p"},
    "effectiveDateTime":"2020-01-02T08:00:00+08:00",
    "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":150,"code":"mm[Hg]"}},
                 {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]}}]})"));
  ASSERT_EQ(f.events.size(), 2u);  // the panel and the one component with a value
  EXPECT_EQ(f.events[1].code, "8480-6");
  EXPECT_EQ(f.events[1].value, 150);
  EXPECT_EQ(f.events[1].unit, "mm[Hg]");
  auto bad = ExtractFacts(Json::parse(R"({"resourceType":"Observation","status":"entered-in-error",
    "code":{"coding":[{"system":"s","code":"c"}]},"subject":{"reference":"Patient/p"},"effectiveDateTime":"2020-01-02"})"));
  EXPECT_TRUE(bad.events.empty());
  auto enc = ExtractFacts(Json::parse(R"({"resourceType":"Encounter","status":"finished","class":{"code":"IMP"},
    "subject":{"reference":"Patient/p"},"period":{"start":"2021-05-01T10:00:00+08:00"},
    "serviceProvider":{"reference":"Organization/org-card","display":"心内科"}})"));
  ASSERT_EQ(enc.events.size(), 1u);
  EXPECT_EQ(enc.events[0].code, "IMP");
  EXPECT_EQ(enc.events[0].department, "org-card");
  EXPECT_EQ(enc.events[0].department_name, "心内科");
}

TEST(CohortIndexTest, UpdatesChangeTheNextCount) {
  CohortIndex index;
  auto put = [&](const char* text) {
    Json r = Json::parse(text);
    index.Put(r["resourceType"], r["id"], ExtractFacts(r));
  };
  put(R"({"resourceType":"Patient","id":"a","gender":"female","birthDate":"1950-01-01"})");
  put(R"({"resourceType":"Patient","id":"b","gender":"male","birthDate":"1990-01-01"})");
  Criteria c = ParseCriteria(Json::parse(R"({
    "conceptSets":{"dm":{"items":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11","descendants":true}]}},
    "entry":{"events":[{"domain":"condition","conceptSet":"dm"}]},
    "inclusion":[{"name":"over 60","rule":{"age":{"gt":60}}}]})"));
  EXPECT_EQ(index.Run(c, true).count, 0);
  put(R"({"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]},
          "subject":{"reference":"Patient/a"},"onsetDateTime":"2020-03-01"})");
  put(R"({"resourceType":"Condition","id":"c2","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.65"}]},
          "subject":{"reference":"Patient/b"},"onsetDateTime":"2020-03-01"})");
  auto r = index.Run(c, true);
  EXPECT_EQ(r.count, 1);
  EXPECT_EQ(r.patients, std::vector<std::string>{"a"});
  ASSERT_EQ(r.attrition.size(), 2u);
  EXPECT_EQ(r.attrition[0].patients, 2);
  EXPECT_EQ(r.attrition[1].patients, 1);
  // An update that recodes c1 out of the set, then a delete of c2.
  put(R"({"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I10"}]},
          "subject":{"reference":"Patient/a"},"onsetDateTime":"2020-03-01"})");
  EXPECT_EQ(index.Run(c, false).count, 0);
  EXPECT_EQ(index.Run(c, false).attrition[0].patients, 1);
  index.Remove("Condition", "c2");
  EXPECT_EQ(index.Run(c, false).attrition[0].patients, 0);
  // A deleted Patient leaves every cohort.
  put(R"({"resourceType":"Condition","id":"c3","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]},
          "subject":{"reference":"Patient/a"},"onsetDateTime":"2021-03-01"})");
  EXPECT_EQ(index.Run(c, false).count, 1);
  index.Remove("Patient", "a");
  EXPECT_EQ(index.Run(c, false).count, 0);
}

TEST(CohortEquivalence, SameAsSqlite) {
  storage::DatabaseOptions options;
  options.sqlite_path = ":memory:";
  auto db = storage::Open(options);
  LoadFlat(*db);
  CompareWith(*db);
}

TEST(CohortEquivalence, SameAsPostgres) {
  static haip::testing::PostgresServer server;
  if (auto why = server.UnavailableReason(); !why.empty()) GTEST_SKIP() << "PostgreSQL: " << why;
  server.Start();
  storage::DatabaseOptions options;
  options.backend = "postgresql";
  options.postgres_url = server.ConnectionUrl();
  auto db = storage::Open(options);
  LoadFlat(*db);
  CompareWith(*db);
}
