// Cohorts through the REST API on the demo hospital: researchers get counts
// and attrition only; new data in the lake changes the next count without a
// rebuild; saved cohorts are versioned; bad criteria get a 400 naming the path.
#include <gtest/gtest.h>

#include "api/app.h"
#include "api_test_support.h"
#include "synth/generator.h"

namespace haip::api {
namespace {

using security::Role;

constexpr const char* kCriteria = R"({
  "title": "Type 2 diabetes over 18",
  "conceptSets": {"t2dm": {"items": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11", "descendants": true}]}},
  "entry": {"events": [{"domain": "condition", "conceptSet": "t2dm"}]},
  "inclusion": [{"name": "adult", "rule": {"age": {"gte": 18}}}]
})";

class CohortApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tp_ = new haip::testing::TempPlatform();
    synth::SynthOptions o;
    o.patients = 120;
    o.seed = 8;
    o.out_dir = tp_->dir.path() / "demo";
    o.threads = 1;
    synth::Generate(o);
    auto report = tp_->platform->fhir_ingest().IngestPaths({o.out_dir.string()}, {});
    ASSERT_EQ(report.rejected, 0u);
    app_ = new App(*tp_->platform);
  }
  static void TearDownTestSuite() {
    delete app_;
    delete tp_;
  }
  static Platform& platform() { return *tp_->platform; }
  static std::string TokenFor(const std::string& username, Role role) {
    auto user = platform().users().Find(username);
    if (!user) user = platform().users().Create({username, "a-good-password-1", username, static_cast<uint32_t>(role), {}});
    return platform().tokens().Issue(*user, "test", security::TokenKind::kApi, 3600).secret;
  }
  static HttpResponse Call(const std::string& method, const std::string& target, const std::string& token,
                           const std::string& body = "") {
    return app_->HandleSync(Req(method, target, body, {Bearer(token), {"content-type", "application/json"}}));
  }
  static haip::testing::TempPlatform* tp_;
  static App* app_;
};
haip::testing::TempPlatform* CohortApiTest::tp_ = nullptr;
App* CohortApiTest::app_ = nullptr;

TEST_F(CohortApiTest, ResearchersGetCountsAndAttritionButNoPatients) {
  auto r = Call("POST", "/api/cohorts/run?patients=true", TokenFor("res", Role::kResearcher), kCriteria);
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = BodyOf(r);
  EXPECT_GT(body["count"].get<int64_t>(), 0);
  ASSERT_EQ(body["attrition"].size(), 2u);
  EXPECT_EQ(body["attrition"][0]["name"], "entry");
  EXPECT_FALSE(body.contains("patients"));
  EXPECT_TRUE(body.contains("patientsWithheld"));
  auto rec = platform().audit().Query({.username = "res", .limit = 1}).at(0);
  EXPECT_EQ(rec.action, "cohort.run");

  Json admin = BodyOf(Call("POST", "/api/cohorts/run?patients=true", TokenFor("boss", Role::kAdmin), kCriteria));
  EXPECT_EQ(admin["patients"].size(), admin["count"].get<size_t>());
}

TEST_F(CohortApiTest, NewDataChangesTheNextCountWithoutARebuild) {
  std::string admin = TokenFor("boss", Role::kAdmin);
  int64_t before = BodyOf(Call("POST", "/api/cohorts/run", admin, kCriteria))["count"];
  // A new adult patient with type 2 diabetes, through the FHIR API.
  auto p = Call("PUT", "/fhir/Patient/cohort-new", admin,
                R"({"resourceType":"Patient","id":"cohort-new","gender":"female","birthDate":"1960-02-03"})");
  ASSERT_LT(p.status, 300) << p.body;
  auto c = Call("PUT", "/fhir/Condition/cohort-new-dm", admin, R"({"resourceType":"Condition","id":"cohort-new-dm",
      "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]},
      "subject":{"reference":"Patient/cohort-new"},"onsetDateTime":"2021-06-01"})");
  ASSERT_LT(c.status, 300) << c.body;
  Json after = BodyOf(Call("POST", "/api/cohorts/run?patients=true", admin, kCriteria));
  EXPECT_EQ(after["count"].get<int64_t>(), before + 1);
  bool found = false;
  for (const auto& id : after["patients"]) found = found || id == "cohort-new";
  EXPECT_TRUE(found);
  // Deleting the diagnosis takes the patient out again.
  EXPECT_LT(Call("DELETE", "/fhir/Condition/cohort-new-dm", admin).status, 300);
  EXPECT_EQ(BodyOf(Call("POST", "/api/cohorts/run", admin, kCriteria))["count"].get<int64_t>(), before);
}

TEST_F(CohortApiTest, BadCriteriaNameThePath) {
  auto r = Call("POST", "/api/cohorts/run", TokenFor("res", Role::kResearcher),
                R"({"entry":{"events":[{"domain":"condition","conceptSet":"nope"}]}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("entry.events[0].conceptSet"), std::string::npos) << r.body;
}

TEST_F(CohortApiTest, SavedCohortsAreVersioned) {
  std::string res = TokenFor("res", Role::kResearcher);
  auto saved = Call("POST", "/api/cohorts", res, kCriteria);
  ASSERT_EQ(saved.status, 201) << saved.body;
  std::string id = BodyOf(saved)["id"];
  Json v2 = Json::parse(kCriteria);
  v2["title"] = "Type 2 diabetes over 65";
  v2["inclusion"][0]["rule"]["age"]["gte"] = 65;
  auto put = Call("PUT", "/api/cohorts/" + id, res, v2.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(BodyOf(put)["version"], 2);
  Json got = BodyOf(Call("GET", "/api/cohorts/" + id, res));
  EXPECT_EQ(got["version"], 2);
  EXPECT_EQ(got["versions"].size(), 2u);
  int64_t n1 = BodyOf(Call("POST", "/api/cohorts/" + id + "/run?version=1", res))["count"];
  int64_t n2 = BodyOf(Call("POST", "/api/cohorts/" + id + "/run", res))["count"];
  EXPECT_LE(n2, n1);
  EXPECT_EQ(Call("GET", "/api/cohorts/no-such", res).status, 404);
  Json list = BodyOf(Call("GET", "/api/cohorts", res));
  EXPECT_GE(list["cohorts"].size(), 1u);
}

TEST_F(CohortApiTest, CodeSearchFindsDiagnosesWithCounts) {
  Json codes = BodyOf(Call("GET", "/api/cohorts/codes?q=E11", TokenFor("res", Role::kResearcher)));
  ASSERT_FALSE(codes["codes"].empty());
  EXPECT_EQ(codes["codes"][0]["domain"], "condition");
  EXPECT_GT(codes["codes"][0]["patients"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace haip::api
