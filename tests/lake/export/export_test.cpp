// The must-show for de-identified export, end to end: the demo
// hospital goes into the lake, comes out through the exporter, and no
// generated name, ID number, phone number or exact date survives.
#include "lake/export/export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "lake/fhir/ingest.h"
#include "storage/migrations.h"
#include "synth/generator.h"
#include "testing/temp_platform.h"

namespace haip::lake {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string AllOutput(const fs::path& dir) {
  std::string all;
  for (const auto& e : fs::directory_iterator(dir)) all += Slurp(e.path());
  return all;
}

class ExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new haip::testing::TempDir();
    storage::DatabaseOptions o;
    o.sqlite_path = (dir_->path() / "lake.db").string();
    db_ = storage::Open(o).release();
    storage::Migrate(*db_, "lake.fhir", FhirStore::Migrations(db_->dialect()));
    storage::Migrate(*db_, "lake.ingest", FhirIngest::Migrations());
    store_ = new FhirStore(*db_);
    synth::SynthOptions so;
    so.patients = 150;
    so.seed = 21;
    so.out_dir = dir_->path() / "demo";
    so.threads = 1;
    synth::Generate(so);
    FhirIngest ingest(*store_, *db_);
    ASSERT_EQ(ingest.IngestPaths({so.out_dir.string()}, {}).rejected, 0u);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete db_;
    delete dir_;
  }
  static ExportResult Export(const std::string& name, bool deid, const std::string& key = "export-test-key-0123456789") {
    ExportRequest r;
    r.deid = deid;
    deid::Deidentifier d(key);
    return RunExport(*db_, r, (dir_->path() / name).string(), deid ? &d : nullptr);
  }

  static haip::testing::TempDir* dir_;
  static storage::Database* db_;
  static FhirStore* store_;
};
haip::testing::TempDir* ExportTest::dir_ = nullptr;
storage::Database* ExportTest::db_ = nullptr;
FhirStore* ExportTest::store_ = nullptr;

TEST_F(ExportTest, IdentifiedExportReturnsEveryResource) {
  auto result = Export("plain", false);
  uint64_t total = 0;
  for (const auto& o : result.outputs) total += o.count;
  EXPECT_EQ(static_cast<int64_t>(total), store_->Count());
  EXPECT_TRUE(result.deid_profile.is_null());
}

TEST_F(ExportTest, DeidentifiedExportHoldsNoIdentifiersAndPseudonymsAreStable) {
  auto a = Export("deid-a", true);
  auto b = Export("deid-b", true);
  auto c = Export("deid-c", true, "another-site-key-0123456789");
  EXPECT_EQ(a.deid_profile["label"], "deid profile haip-safe-harbor-cn v1");
  std::string out = AllOutput(dir_->path() / "deid-a");
  ASSERT_GT(out.size(), 10000u);

  // Every identifier the generator wrote for each patient, checked one by one.
  size_t checked = 0;
  std::string patients = Slurp(dir_->path() / "demo" / "Patient.ndjson");
  std::istringstream lines(patients);
  std::string line;
  while (std::getline(lines, line)) {
    Json p = Json::parse(line);
    for (const auto& n : p["name"]) {
      std::string full = n.value("text", std::string());
      if (!full.empty()) {
        EXPECT_EQ(out.find(full), std::string::npos) << "name " << full;
        ++checked;
      }
    }
    for (const auto& id : p["identifier"]) {
      std::string v = id["value"];
      EXPECT_EQ(out.find(v), std::string::npos) << "identifier " << v;
      ++checked;
    }
    for (const auto& t : p.value("telecom", Json::array())) {
      std::string v = t["value"];
      EXPECT_EQ(out.find(v), std::string::npos) << "telecom " << v;
      ++checked;
    }
  }
  EXPECT_GT(checked, 150u * 3);

  // Exact dates: every date and time of every resource was shifted. Checked
  // resource by resource (the export's ids are the keyed pseudonyms of the
  // originals), element by element, rather than by searching the text: a
  // shifted date of one event can legitimately equal the real date of another.
  deid::Deidentifier same_key("export-test-key-0123456789");
  std::function<void(const Json&, const std::string&, std::map<std::string, std::string>&)> dates_of =
      [&](const Json& node, const std::string& path, std::map<std::string, std::string>& out) {
        if (node.is_object()) {
          for (auto& [k, v] : node.items()) {
            bool is_date = k == "birthDate" || k == "start" || k == "end" || k.find("DateTime") != std::string::npos ||
                           k == "date" || k == "authoredOn" || k == "recordedDate" || k == "issued";
            if (v.is_string() && is_date) {
              out[path + "." + k] = v.get<std::string>();
            } else {
              dates_of(v, path + "." + k, out);
            }
          }
        } else if (node.is_array()) {
          for (size_t i = 0; i < node.size(); ++i) dates_of(node[i], path + "[" + std::to_string(i) + "]", out);
        }
      };
  std::map<std::string, Json> exported;  // "Type/pseudonym" -> resource
  for (const auto& e : fs::directory_iterator(dir_->path() / "deid-a")) {
    std::istringstream in(Slurp(e.path()));
    while (std::getline(in, line)) {
      Json r = Json::parse(line);
      exported[r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>()] = r;
    }
  }
  size_t dates_checked = 0;
  for (const auto& e : fs::directory_iterator(dir_->path() / "demo")) {
    std::istringstream in(Slurp(e.path()));
    while (std::getline(in, line)) {
      Json orig = Json::parse(line);
      std::string type = orig["resourceType"];
      auto it = exported.find(type + "/" + same_key.PseudonymId(type, orig["id"].get<std::string>()));
      ASSERT_NE(it, exported.end()) << type << "/" << orig["id"];
      std::map<std::string, std::string> before, after;
      dates_of(orig, type, before);
      dates_of(it->second, type, after);
      for (const auto& [path, value] : before) {
        auto a = after.find(path);
        if (a == after.end()) continue;  // removed: fine
        EXPECT_NE(a->second, value) << path << " kept its exact date " << value;
        ++dates_checked;
      }
    }
  }
  EXPECT_GT(dates_checked, 150u * 20);

  // The same patient, the same pseudonym: two exports with the same key agree,
  // a different key does not.
  std::string pa = Slurp(dir_->path() / "deid-a" / "Patient.ndjson");
  std::string pb = Slurp(dir_->path() / "deid-b" / "Patient.ndjson");
  std::string pc = Slurp(dir_->path() / "deid-c" / "Patient.ndjson");
  auto ids = [](const std::string& text) {
    std::set<std::string> s;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) s.insert(Json::parse(l)["id"].get<std::string>());
    return s;
  };
  EXPECT_EQ(ids(pa), ids(pb));
  EXPECT_EQ(ids(pa).size(), 150u);
  std::set<std::string> overlap;
  for (const auto& id : ids(pa)) {
    if (ids(pc).count(id)) overlap.insert(id);
  }
  EXPECT_TRUE(overlap.empty());
  // References still resolve inside the export.
  std::string obs = Slurp(dir_->path() / "deid-a" / "Observation.ndjson");
  std::istringstream ol(obs);
  std::getline(ol, line);
  std::string ref = Json::parse(line)["subject"]["reference"];
  EXPECT_TRUE(ids(pa).count(ref.substr(8))) << ref;
}

}  // namespace
}  // namespace haip::lake
