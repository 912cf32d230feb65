// Real data: every Synthea bundle in ../shared/data/synthea, and the
// project's own demo hospital.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "fhir_fixture.h"
#include "synth/generator.h"

namespace haip::lake {
namespace {

namespace fs = std::filesystem;

// Bundle-internal urn:uuid references become Type/id when stored.
void NormalizeReferences(Json& node, const std::map<std::string, std::string>& map) {
  if (node.is_object()) {
    for (auto& [k, v] : node.items()) {
      if (k == "reference" && v.is_string() && map.count(v.get<std::string>())) {
        v = map.at(v.get<std::string>());
      } else {
        NormalizeReferences(v, map);
      }
    }
  } else if (node.is_array()) {
    for (auto& x : node) NormalizeReferences(x, map);
  }
}

using SyntheaTest = FhirFixture;

TEST_F(SyntheaTest, EveryBundleIngestsCountsMatchAndReadsReturnTheInput) {
  fs::path dir = fs::path(HAIP_SHARED_DATA) / "synthea" / "fhir";
  if (!fs::exists(dir)) GTEST_SKIP() << "../shared/data/synthea not present (a user's clone has no ../shared)";
  FhirIngest ingest(*store_, *db_);
  auto files = FhirIngest::ExpandPaths({dir.string()});
  ASSERT_EQ(files.size(), 150u);
  auto report = ingest.IngestPaths({dir.string()}, {});
  EXPECT_EQ(report.rejected, 0u) << (report.errors.empty() ? "" : report.errors[0]);
  EXPECT_EQ(report.files, 150u);

  // Organizations and practitioners recur in many bundles under one id:
  // count distinct resources.
  std::set<std::string> distinct;
  std::map<std::string, int64_t> expected;
  size_t checked = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    Json bundle = Json::parse(FhirIngest::ReadFile(files[f]));
    std::map<std::string, std::string> refs;
    for (const auto& e : bundle["entry"]) {
      refs[e["fullUrl"]] = e["resource"]["resourceType"].get<std::string>() + "/" + e["resource"]["id"].get<std::string>();
    }
    for (auto& e : bundle["entry"]) {
      Json input = e["resource"];
      if (distinct.insert(input["resourceType"].get<std::string>() + "/" + input["id"].get<std::string>()).second) {
        ++expected[input["resourceType"]];
      }
      // Every resource of every 10th bundle is read back and compared.
      if (f % 10 != 0) continue;
      NormalizeReferences(input, refs);
      Json stored = store_->Read(input["resourceType"], input["id"]);
      stored["meta"].erase("versionId");
      stored["meta"].erase("lastUpdated");
      if (stored["meta"].empty()) stored.erase("meta");
      ASSERT_EQ(stored, input) << input["resourceType"] << "/" << input["id"];
      ++checked;
    }
  }
  EXPECT_EQ(store_->CountByType(), expected);
  int64_t total = 0;
  for (auto& [_, n] : expected) total += n;
  EXPECT_EQ(total, 43935);  // 44,259 entries, of which 324 repeat a shared Organization or Practitioner
  EXPECT_GT(checked, 2000u);
  // Running the same import again changes nothing and is skipped per file.
  auto again = ingest.IngestPaths({dir.string()}, {});
  EXPECT_EQ(again.files_skipped, 150u);
  EXPECT_EQ(store_->Count(), total);
}

TEST_F(SyntheaTest, TheDemoHospitalIngestsAndIsSearchable) {
  synth::SynthOptions o;
  o.patients = 60;
  o.seed = 11;
  o.out_dir = dir_.path() / "demo";
  o.threads = 1;
  auto stats = synth::Generate(o);
  FhirIngest ingest(*store_, *db_);
  auto report = ingest.IngestPaths({o.out_dir.string()}, {});
  EXPECT_EQ(report.rejected, 0u) << (report.errors.empty() ? "" : report.errors[0]);
  EXPECT_EQ(static_cast<uint64_t>(store_->Count()), stats.total_resources);
  Json diabetics = store_->Search("Condition", {{"code", "http://hl7.org/fhir/sid/icd-10|E11.9"}, {"_summary", "count"}}, "/fhir");
  Json any_cond = store_->Search("Condition", {{"_summary", "count"}}, "/fhir");
  EXPECT_GT(any_cond["total"].get<int64_t>(), 0);
  (void)diabetics;
  Json hba1c = store_->Search("Observation", {{"code", "http://loinc.org|4548-4"}, {"value-quantity", "gt6.5"}, {"_count", "5"}}, "/fhir");
  for (const auto& e : hba1c["entry"]) EXPECT_GT(e["resource"]["valueQuantity"]["value"].get<double>(), 6.5);
}

}  // namespace
}  // namespace haip::lake
