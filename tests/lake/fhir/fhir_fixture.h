// A FHIR store on a fresh SQLite database.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "lake/fhir/ingest.h"
#include "lake/fhir/store.h"
#include "storage/migrations.h"
#include "testing/temp_platform.h"

namespace haip::lake {

class FhirFixture : public ::testing::Test {
 protected:
  FhirFixture() {
    storage::DatabaseOptions o;
    o.sqlite_path = (dir_.path() / "lake.db").string();
    db_ = storage::Open(o);
    storage::Migrate(*db_, "lake.fhir", FhirStore::Migrations(db_->dialect()));
    storage::Migrate(*db_, "lake.ingest", FhirIngest::Migrations());
    store_ = std::make_unique<FhirStore>(*db_);
  }

  Json Patient(const std::string& id, const std::string& family, const std::string& birth = "1970-05-04") {
    return {{"resourceType", "Patient"},
            {"id", id},
            {"identifier", {{{"system", "https://hospital.example/mrn"}, {"value", "MRN-" + id}}}},
            {"name", {{{"family", family}, {"given", {"Wei"}}}}},
            {"gender", "male"},
            {"birthDate", birth}};
  }
  Json Obs(const std::string& id, const std::string& patient, const std::string& code, double value,
           const std::string& when, const std::string& unit = "mmol/L") {
    return {{"resourceType", "Observation"},
            {"id", id},
            {"status", "final"},
            {"category", {{{"coding", {{{"system", "http://terminology.hl7.org/CodeSystem/observation-category"}, {"code", "laboratory"}}}}}}},
            {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}}},
            {"subject", {{"reference", "Patient/" + patient}}},
            {"effectiveDateTime", when},
            {"valueQuantity", {{"value", value}, {"unit", unit}, {"system", "http://unitsofmeasure.org"}, {"code", unit}}}};
  }

  static std::vector<std::string> Ids(const Json& bundle, const std::string& mode = "match") {
    std::vector<std::string> ids;
    for (const auto& e : bundle.value("entry", Json::array())) {
      if (e["search"]["mode"] == mode) ids.push_back(e["resource"]["id"]);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  haip::testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<FhirStore> store_;
};

}  // namespace haip::lake
