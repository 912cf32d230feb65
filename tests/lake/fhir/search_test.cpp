#include <gtest/gtest.h>

#include "fhir_fixture.h"

namespace haip::lake {
namespace {

class FhirSearchTest : public FhirFixture {
 protected:
  void SetUp() override {
    std::vector<Json> all = {Patient("p1", "Zhang", "1950-03-01"), Patient("p2", "Zhangsun", "1985-07-20"),
                             Patient("p3", "Li", "2001-12-31"),
                             Obs("o1", "p1", "4548-4", 7.9, "2024-01-15T09:00:00+08:00", "%"),
                             Obs("o2", "p1", "4548-4", 6.2, "2024-06-15T09:00:00+08:00", "%"),
                             Obs("o3", "p2", "4548-4", 5.4, "2023-03-10", "%"),
                             Obs("o4", "p2", "2345-7", 11.2, "2024-02-01"),
                             Obs("o5", "p3", "2345-7", 4.9, "2024-02-01")};
    all[2]["gender"] = "female";
    store_->WriteMany(all);
  }
  Json Find(const std::string& type, const SearchParams& p) { return store_->Search(type, p, "/fhir"); }
  std::vector<std::string> FindIds(const std::string& type, const SearchParams& p) { return Ids(Find(type, p)); }
};

using V = std::vector<std::string>;

TEST_F(FhirSearchTest, TokensWithAndWithoutSystem) {
  EXPECT_EQ(FindIds("Observation", {{"code", "http://loinc.org|4548-4"}}), (V{"o1", "o2", "o3"}));
  EXPECT_EQ(FindIds("Observation", {{"code", "4548-4,2345-7"}}).size(), 5u);
  EXPECT_EQ(FindIds("Observation", {{"code", "http://snomed.info/sct|4548-4"}}), V{});
  EXPECT_EQ(FindIds("Observation", {{"code", "http://loinc.org|"}}).size(), 5u);
  EXPECT_EQ(FindIds("Patient", {{"gender", "female"}}), V{"p3"});
  EXPECT_EQ(FindIds("Patient", {{"gender:not", "female"}}), (V{"p1", "p2"}));
  EXPECT_EQ(FindIds("Patient", {{"identifier", "https://hospital.example/mrn|MRN-p2"}}), V{"p2"});
  EXPECT_EQ(FindIds("Observation", {{"category", "laboratory"}}).size(), 5u);
  EXPECT_EQ(FindIds("Observation", {{"_id", "o1,o5"}}), (V{"o1", "o5"}));
}

TEST_F(FhirSearchTest, ReferencesAndThePatientCompartment) {
  EXPECT_EQ(FindIds("Observation", {{"patient", "p1"}}), (V{"o1", "o2"}));
  EXPECT_EQ(FindIds("Observation", {{"subject", "Patient/p2"}}), (V{"o3", "o4"}));
  EXPECT_EQ(FindIds("Observation", {{"patient", "Patient/p1"}, {"code", "2345-7"}}), V{});
  Json all = store_->Everything("p2", "/fhir", 100, 0);
  EXPECT_EQ(all["total"], 3);
  EXPECT_EQ(all["entry"][0]["resource"]["resourceType"], "Patient");
}

TEST_F(FhirSearchTest, DatesWithPrefixesAndPartialDates) {
  EXPECT_EQ(FindIds("Observation", {{"date", "2024"}}).size(), 4u);
  EXPECT_EQ(FindIds("Observation", {{"date", "2024-02"}}), (V{"o4", "o5"}));
  EXPECT_EQ(FindIds("Observation", {{"date", "2024-02-01"}}), (V{"o4", "o5"}));
  EXPECT_EQ(FindIds("Observation", {{"date", "lt2024-01-01"}}), V{"o3"});
  EXPECT_EQ(FindIds("Observation", {{"date", "ge2024-02-01"}}), (V{"o2", "o4", "o5"}));
  EXPECT_EQ(FindIds("Observation", {{"date", "gt2024-02-01"}}), V{"o2"});
  EXPECT_EQ(FindIds("Observation", {{"date", "le2024-01-15"}}), (V{"o1", "o3"}));
  EXPECT_EQ(FindIds("Observation", {{"date", "ge2024-01-01"}, {"date", "lt2024-03-01"}}), (V{"o1", "o4", "o5"}));
  EXPECT_EQ(FindIds("Observation", {{"date", "ne2024"}}), V{"o3"});
  EXPECT_EQ(FindIds("Patient", {{"birthdate", "lt1960"}}), V{"p1"});
  EXPECT_EQ(FindIds("Patient", {{"birthdate", "1985-07"}}), V{"p2"});
}

TEST_F(FhirSearchTest, QuantitiesAndStrings) {
  EXPECT_EQ(FindIds("Observation", {{"value-quantity", "gt7"}}), (V{"o1", "o4"}));
  EXPECT_EQ(FindIds("Observation", {{"value-quantity", "ge6.2|http://unitsofmeasure.org|%"}}), (V{"o1", "o2"}));
  EXPECT_EQ(FindIds("Observation", {{"value-quantity", "5.4"}}), V{"o3"});
  EXPECT_EQ(FindIds("Observation", {{"value-quantity", "lt5||mmol/L"}}), V{"o5"});
  EXPECT_EQ(FindIds("Patient", {{"name", "zhang"}}), (V{"p1", "p2"}));
  EXPECT_EQ(FindIds("Patient", {{"name:exact", "Zhang"}}), V{"p1"});
  EXPECT_EQ(FindIds("Patient", {{"name:contains", "angs"}}), V{"p2"});
  EXPECT_EQ(FindIds("Patient", {{"family", "li"}}), V{"p3"});
}

TEST_F(FhirSearchTest, PagingSortingCountsAndIncludes) {
  Json page1 = Find("Observation", {{"_count", "2"}, {"_sort", "-date"}});
  EXPECT_EQ(page1["total"], 5);
  ASSERT_EQ(page1["entry"].size(), 2u);
  EXPECT_EQ(page1["entry"][0]["resource"]["id"], "o2");
  bool has_next = false;
  for (const auto& l : page1["link"]) {
    if (l["relation"] == "next") {
      has_next = true;
      EXPECT_NE(l["url"].get<std::string>().find("_offset=2"), std::string::npos);
    }
  }
  EXPECT_TRUE(has_next);
  Json page3 = Find("Observation", {{"_count", "2"}, {"_offset", "4"}, {"_sort", "-date"}});
  EXPECT_EQ(page3["entry"].size(), 1u);
  EXPECT_EQ(Find("Observation", {{"_summary", "count"}, {"code", "4548-4"}})["total"], 3);
  EXPECT_FALSE(Find("Observation", {{"_summary", "count"}}).contains("entry"));

  Json inc = Find("Observation", {{"code", "2345-7"}, {"_include", "Observation:patient"}});
  EXPECT_EQ(Ids(inc, "include"), (V{"p2", "p3"}));
  Json rev = Find("Patient", {{"_id", "p1"}, {"_revinclude", "Observation:patient"}});
  EXPECT_EQ(Ids(rev, "include"), (V{"o1", "o2"}));
  EXPECT_EQ(FindIds("Patient", {{"_sort", "birthdate"}, {"_count", "1"}}), V{"p1"});
}

TEST_F(FhirSearchTest, BadParametersAreClearErrors) {
  for (SearchParams p : std::vector<SearchParams>{{{"colour", "red"}}, {{"date", "yesterday"}}, {{"value-quantity", "lots"}},
                                                  {{"_count", "-1"}}, {{"_sort", "value-quantity"}}, {{"name:fuzzy", "x"}}}) {
    try {
      Find(p == SearchParams{{"name:fuzzy", "x"}} ? "Patient" : "Observation", p);
      ADD_FAILURE() << p[0].first;
    } catch (const FhirError& e) {
      EXPECT_EQ(e.code(), ErrorCode::kBadRequest) << p[0].first;
      EXPECT_EQ(e.outcome()["resourceType"], "OperationOutcome");
    }
  }
}

TEST_F(FhirSearchTest, UpdatesAndDeletesChangeTheIndex) {
  Json o = store_->Read("Observation", "o5");
  o["code"]["coding"][0]["code"] = "4548-4";
  store_->Update("Observation", "o5", o);
  EXPECT_EQ(FindIds("Observation", {{"code", "2345-7"}}), V{"o4"});
  store_->Delete("Observation", "o4");
  EXPECT_EQ(FindIds("Observation", {{"code", "2345-7"}}), V{});
  EXPECT_EQ(Find("Observation", {{"_summary", "count"}})["total"], 4);
}

}  // namespace
}  // namespace haip::lake
