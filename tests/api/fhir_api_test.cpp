// The FHIR REST API over the demo hospital: access by role and department,
// break-glass, OperationOutcome errors, audit records naming patients.
#include <gtest/gtest.h>

#include <set>

#include "api/app.h"
#include "api_test_support.h"
#include "synth/generator.h"

namespace haip::api {
namespace {

using security::Role;

class FhirApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tp_ = new haip::testing::TempPlatform();
    synth::SynthOptions o;
    o.patients = 40;
    o.seed = 5;
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

  static std::string TokenFor(const std::string& username, Role role, std::optional<std::string> dept = std::nullopt) {
    auto user = platform().users().Find(username);
    if (!user) user = platform().users().Create({username, "a-good-password-1", username, static_cast<uint32_t>(role), dept});
    return platform().tokens().Issue(*user, "test", security::TokenKind::kApi, 3600).secret;
  }
  static HttpResponse Get(const std::string& target, const std::string& token,
                          std::vector<std::pair<std::string, std::string>> extra = {}) {
    extra.push_back(Bearer(token));
    return app_->HandleSync(Req("GET", target, "", extra));
  }
  // A department and one of its patients, and a patient never seen there.
  static void PickDepartment(std::string& dept, std::string& inside, std::string& outside) {
    Json encounters = platform().fhir().Search("Encounter", {{"_count", "500"}}, "/fhir");
    std::map<std::string, std::set<std::string>> by_dept;
    std::set<std::string> all;
    for (const auto& e : encounters["entry"]) {
      std::string d = e["resource"]["serviceProvider"]["display"];
      std::string p = e["resource"]["subject"]["reference"].get<std::string>().substr(8);
      by_dept[d].insert(p);
      all.insert(p);
    }
    for (const auto& [d, patients] : by_dept) {
      for (const auto& p : all) {
        if (!patients.count(p)) {
          dept = d;
          inside = *patients.begin();
          outside = p;
          return;
        }
      }
    }
  }

  static haip::testing::TempPlatform* tp_;
  static App* app_;
};
haip::testing::TempPlatform* FhirApiTest::tp_ = nullptr;
App* FhirApiTest::app_ = nullptr;

TEST_F(FhirApiTest, CapabilityStatementIsPublic) {
  auto r = app_->HandleSync(Req("GET", "/fhir/metadata"));
  ASSERT_EQ(r.status, 200);
  Json cs = BodyOf(r);
  EXPECT_EQ(cs["resourceType"], "CapabilityStatement");
  EXPECT_EQ(cs["fhirVersion"], "4.0.1");
  EXPECT_NE(r.content_type.find("application/fhir+json"), std::string::npos);
}

TEST_F(FhirApiTest, ClinicianSeesOwnDepartmentAndBreakGlassIsFlagged) {
  std::string dept, inside, outside;
  PickDepartment(dept, inside, outside);
  ASSERT_FALSE(dept.empty());
  std::string doc = TokenFor("dr.dept", Role::kClinician, dept);
  EXPECT_EQ(Get("/fhir/Patient/" + inside, doc).status, 200);
  auto denied = Get("/fhir/Patient/" + outside, doc);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(BodyOf(denied)["resourceType"], "OperationOutcome");
  auto rec = platform().audit().Query({.username = "dr.dept", .limit = 1}).at(0);
  EXPECT_EQ(rec.outcome, "denied");
  EXPECT_EQ(rec.patient, "Patient/" + outside);

  // Searches return only the department's patients.
  Json seen = BodyOf(Get("/fhir/Patient?_count=200", doc));
  for (const auto& e : seen["entry"]) EXPECT_NE(e["resource"]["id"], outside);
  Json all = BodyOf(Get("/fhir/Patient?_summary=count", TokenFor("admin", Role::kAdmin)));
  EXPECT_LT(seen["total"].get<int64_t>(), all["total"].get<int64_t>());

  auto glass = Get("/fhir/Patient/" + outside, doc, {{"x-haip-break-glass", "patient collapsed in the corridor"}});
  EXPECT_EQ(glass.status, 200);
  rec = platform().audit().Query({.username = "dr.dept", .limit = 1}).at(0);
  EXPECT_EQ(rec.action, "fhir.read");
  EXPECT_EQ(rec.patient, "Patient/" + outside);
  EXPECT_NE(rec.detail.find("\"break_glass\":true"), std::string::npos) << rec.detail;
  EXPECT_NE(rec.detail.find("corridor"), std::string::npos);
}

TEST_F(FhirApiTest, ResearchersGetNoIdentifiedData) {
  std::string r = TokenFor("researcher1", Role::kResearcher);
  EXPECT_EQ(Get("/fhir/Patient", r).status, 403);
  EXPECT_EQ(Get("/fhir/Observation?code=4548-4", r).status, 403);
}

TEST_F(FhirApiTest, SearchAndEverythingAreAuditedWithPatients) {
  std::string admin = TokenFor("admin", Role::kAdmin);
  Json patients = BodyOf(Get("/fhir/Patient?_count=1", admin));
  std::string pid = patients["entry"][0]["resource"]["id"];
  auto r = Get("/fhir/Observation?patient=" + pid + "&_count=5", admin);
  ASSERT_EQ(r.status, 200);
  auto rec = platform().audit().Query({.username = "admin", .action = "fhir.search", .limit = 1}).at(0);
  EXPECT_EQ(rec.patient, "Patient/" + pid);
  auto ev = Get("/fhir/Patient/" + pid + "/$everything", admin);
  ASSERT_EQ(ev.status, 200);
  EXPECT_GT(BodyOf(ev)["total"].get<int64_t>(), 5);
  EXPECT_EQ(platform().audit().Query({.action = "fhir.everything", .limit = 1}).at(0).patient, "Patient/" + pid);
}

TEST_F(FhirApiTest, CreateUpdateAndBadInputThroughTheApi) {
  std::string svc = TokenFor("his-interface", Role::kService);
  Json p = {{"resourceType", "Patient"}, {"identifier", {{{"system", "urn:test:mrn"}, {"value", "A-1"}}}}, {"gender", "female"}};
  auto created = app_->HandleSync(Req("POST", "/fhir/Patient", p.dump(), {Bearer(svc)}));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = BodyOf(created)["id"];
  auto again = app_->HandleSync(Req("POST", "/fhir/Patient", p.dump(), {Bearer(svc), {"if-none-exist", "identifier=urn:test:mrn|A-1"}}));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(BodyOf(again)["id"], id);
  Json upd = BodyOf(created);
  upd["gender"] = "male";
  auto updated = app_->HandleSync(Req("PUT", "/fhir/Patient/" + id, upd.dump(), {Bearer(svc), {"if-match", "W/\"1\""}}));
  EXPECT_EQ(updated.status, 200);
  auto stale = app_->HandleSync(Req("PUT", "/fhir/Patient/" + id, upd.dump(), {Bearer(svc), {"if-match", "W/\"1\""}}));
  EXPECT_EQ(stale.status, 409);
  auto bad = app_->HandleSync(Req("POST", "/fhir/Observation", R"({"resourceType":"Observation","status":"final"})", {Bearer(svc)}));
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(BodyOf(bad)["issue"][0]["expression"][0], "Observation.code");
  EXPECT_EQ(app_->HandleSync(Req("POST", "/fhir/Patient", "not json", {Bearer(svc)})).status, 400);
  EXPECT_EQ(Get("/fhir/Patient?colour=red", svc).status, 400);
  EXPECT_EQ(Get("/fhir/Patient/does-not-exist", svc).status, 404);
  EXPECT_EQ(app_->HandleSync(Req("DELETE", "/fhir/Patient/" + id, "", {Bearer(svc)})).status, 204);
  EXPECT_EQ(Get("/fhir/Patient/" + id, svc).status, 410);
}

TEST_F(FhirApiTest, ATransactionWithOneInvalidEntryIsRejectedWhole) {
  std::string admin = TokenFor("admin", Role::kAdmin);
  int64_t before = platform().fhir().Count();
  Json bundle = {{"resourceType", "Bundle"},
                 {"type", "transaction"},
                 {"entry",
                  {{{"fullUrl", "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"},
                    {"resource", {{"resourceType", "Patient"}, {"gender", "male"}}},
                    {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                   {{"resource", {{"resourceType", "Observation"}, {"status", "final"}, {"subject", {{"reference", "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}}}}},
                    {"request", {{"method", "POST"}, {"url", "Observation"}}}}}}};
  auto r = app_->HandleSync(Req("POST", "/fhir", bundle.dump(), {Bearer(admin)}));
  EXPECT_EQ(r.status, 422);
  Json oo = BodyOf(r);
  EXPECT_EQ(oo["resourceType"], "OperationOutcome");
  EXPECT_EQ(oo["issue"][0]["expression"][0], "Bundle.entry[1].resource.code");
  EXPECT_EQ(platform().fhir().Count(), before);
}

TEST_F(FhirApiTest, IngestApiAcceptsGzip) {
  std::string admin = TokenFor("admin", Role::kAdmin);
  std::string nd = R"({"resourceType":"Patient","id":"ingest-api-1","gender":"female"})" "\n";
  auto r = app_->HandleSync(Req("POST", "/api/lake/ingest?name=t.ndjson", nd, {Bearer(admin)}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["written"], 1);
  auto stats = BodyOf(app_->HandleSync(Req("GET", "/api/lake/stats", "", {Bearer(admin)})));
  EXPECT_GT(stats["resources"].get<int64_t>(), 100);
}

}  // namespace
}  // namespace haip::api
