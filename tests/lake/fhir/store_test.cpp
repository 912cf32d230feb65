#include "testing/error_code.h"
#include <gtest/gtest.h>

#include "fhir_fixture.h"

namespace haip::lake {
namespace {

using haip::testing::CodeOf;

using FhirStoreTest = FhirFixture;

TEST_F(FhirStoreTest, CreateReadUpdateVersionsAndHistory) {
  auto created = store_->Create(Patient("ignored", "Zhang"));
  EXPECT_TRUE(created.created);
  std::string id = created.resource["id"];
  EXPECT_NE(id, "ignored");  // create assigns the id
  EXPECT_EQ(created.resource["meta"]["versionId"], "1");
  Json read = store_->Read("Patient", id);
  EXPECT_EQ(read["name"][0]["family"], "Zhang");

  Json changed = read;
  changed["gender"] = "female";
  auto v2 = store_->Update("Patient", id, changed);
  EXPECT_EQ(v2.version, 2);
  EXPECT_FALSE(v2.created);
  // The same content again is not a new version.
  auto same = store_->Update("Patient", id, changed);
  EXPECT_TRUE(same.unchanged);
  EXPECT_EQ(same.version, 2);

  EXPECT_EQ(store_->VRead("Patient", id, 1)["gender"], "male");
  EXPECT_EQ(store_->VRead("Patient", id, 2)["gender"], "female");
  Json history = store_->History("Patient", id);
  EXPECT_EQ(history["total"], 2);
  EXPECT_EQ(history["entry"][0]["response"]["etag"], "W/\"2\"");

  EXPECT_TRUE(store_->Delete("Patient", id));
  EXPECT_FALSE(store_->Delete("Patient", id));
  EXPECT_EQ(CodeOf([&] { store_->Read("Patient", id); }), ErrorCode::kGone);
  EXPECT_EQ(CodeOf([&] { store_->Read("Patient", "nope"); }), ErrorCode::kNotFound);
  EXPECT_EQ(store_->History("Patient", id)["total"], 3);
  // Update after delete recreates.
  auto back = store_->Update("Patient", id, changed);
  EXPECT_TRUE(back.created);
  EXPECT_EQ(back.version, 4);
}

TEST_F(FhirStoreTest, UpdateChecksIdAndType) {
  EXPECT_EQ(CodeOf([&] { store_->Update("Patient", "a", Patient("b", "X")); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([&] { store_->Update("Observation", "a", Patient("a", "X")); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([&] { store_->Update("Patient", "bad id!", Patient("bad id!", "X")); }), ErrorCode::kBadRequest);
}

TEST_F(FhirStoreTest, InvalidResourcesAreRejectedWithThePath) {
  Json obs = Obs("o1", "p1", "4548-4", 7.1, "2024-01-02");
  obs.erase("status");
  try {
    store_->Create(obs);
    FAIL();
  } catch (const FhirError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnprocessable);
    EXPECT_EQ(e.outcome()["resourceType"], "OperationOutcome");
    EXPECT_EQ(e.outcome()["issue"][0]["expression"][0], "Observation.status");
  }
  Json bad_date = Obs("o2", "p1", "4548-4", 7.1, "2024-13-45");
  try {
    store_->Create(bad_date);
    FAIL();
  } catch (const FhirError& e) {
    EXPECT_EQ(e.outcome()["issue"][0]["expression"][0], "Observation.effectiveDateTime");
  }
  Json bad_gender = Patient("p", "X");
  bad_gender["gender"] = "M";
  EXPECT_EQ(CodeOf([&] { store_->Create(bad_gender); }), ErrorCode::kUnprocessable);
  Json bad_coding = Obs("o3", "p1", "4548-4", 7.1, "2024-01-02");
  bad_coding["code"]["coding"][0]["system"] = "http://loinc .org";
  EXPECT_EQ(CodeOf([&] { store_->Create(bad_coding); }), ErrorCode::kUnprocessable);
  Json bad_ref = Obs("o4", "p1", "4548-4", 7.1, "2024-01-02");
  bad_ref["subject"]["reference"] = "just text";
  EXPECT_EQ(CodeOf([&] { store_->Create(bad_ref); }), ErrorCode::kUnprocessable);
  EXPECT_EQ(store_->Count(), 0);
}

TEST_F(FhirStoreTest, TransactionResolvesBundleReferencesAndIsAtomic) {
  Json bundle = {{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", Json::array()}};
  Json p = Patient("x", "Li");
  p.erase("id");
  bundle["entry"].push_back({{"fullUrl", "urn:uuid:11111111-1111-4111-8111-111111111111"}, {"resource", p}, {"request", {{"method", "POST"}, {"url", "Patient"}}}});
  Json o = Obs("x", "x", "2345-7", 6.1, "2024-05-01T08:00:00+08:00");
  o.erase("id");
  o["subject"]["reference"] = "urn:uuid:11111111-1111-4111-8111-111111111111";
  bundle["entry"].push_back({{"fullUrl", "urn:uuid:22222222-2222-4222-8222-222222222222"}, {"resource", o}, {"request", {{"method", "POST"}, {"url", "Observation"}}}});
  Json resp = store_->ProcessBundle(bundle, "/fhir");
  ASSERT_EQ(resp["type"], "transaction-response");
  std::string pid = resp["entry"][0]["resource"]["id"];
  EXPECT_EQ(resp["entry"][0]["response"]["status"], "201 Created");
  EXPECT_EQ(resp["entry"][1]["resource"]["subject"]["reference"], "Patient/" + pid);
  EXPECT_EQ(store_->PatientOf("Observation", resp["entry"][1]["resource"]["id"]), pid);

  // One invalid entry: the whole bundle is rejected, naming the entry.
  Json bad = bundle;
  bad["entry"][1]["resource"].erase("code");
  try {
    store_->ProcessBundle(bad, "/fhir");
    FAIL();
  } catch (const FhirError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnprocessable);
    EXPECT_EQ(e.outcome()["issue"][0]["expression"][0], "Bundle.entry[1].resource.code");
  }
  // A dangling urn:uuid reference is an error too.
  Json dangling = bundle;
  dangling["entry"][1]["resource"]["subject"]["reference"] = "urn:uuid:99999999-9999-4999-8999-999999999999";
  try {
    store_->ProcessBundle(dangling, "/fhir");
    FAIL();
  } catch (const FhirError& e) {
    EXPECT_EQ(e.outcome()["issue"][0]["expression"][0], "Bundle.entry[1].resource.subject.reference");
  }
  EXPECT_EQ(store_->Count(), 2);  // only the first, good bundle
}

TEST_F(FhirStoreTest, ConditionalCreateAndBatch) {
  store_->Create(Patient("a", "Wang"), true);
  Json bundle = {{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", Json::array()}};
  bundle["entry"].push_back({{"resource", Patient("b", "Wang")},
                             {"request", {{"method", "POST"}, {"url", "Patient"}, {"ifNoneExist", "identifier=https://hospital.example/mrn|MRN-a"}}}});
  Json broken = Obs("o", "a", "1", 1, "2024-01-01");
  broken.erase("status");
  bundle["entry"].push_back({{"resource", broken}, {"request", {{"method", "POST"}, {"url", "Observation"}}}});
  bundle["entry"].push_back({{"resource", Obs("o2", "a", "1", 1, "2024-01-01")}, {"request", {{"method", "PUT"}, {"url", "Observation/o2"}}}});
  Json resp = store_->ProcessBundle(bundle, "/fhir");
  EXPECT_EQ(resp["entry"][0]["response"]["status"], "200");  // existed: not created again
  EXPECT_EQ(resp["entry"][0]["resource"]["id"], "a");
  EXPECT_EQ(resp["entry"][1]["response"]["status"].get<std::string>().substr(0, 3), "422");
  EXPECT_EQ(resp["entry"][2]["response"]["status"], "201");
  EXPECT_EQ(store_->Count("Patient"), 1);
  EXPECT_EQ(store_->Count("Observation"), 1);
}

TEST_F(FhirStoreTest, NdjsonIngestRejectsBadLinesAndIsIdempotent) {
  std::string ndjson = Patient("p1", "Zhao").dump() + "\n" + Obs("o1", "p1", "4548-4", 8.2, "2024-02-03").dump() + "\n" +
                       "{not json}\n" + R"({"resourceType":"Observation","id":"o2"})" + "\n";
  FhirIngest ingest(*store_, *db_);
  auto r1 = ingest.IngestText(ndjson, "upload.ndjson", {});
  EXPECT_EQ(r1.written, 2u);
  EXPECT_EQ(r1.rejected, 2u);
  ASSERT_EQ(r1.errors.size(), 2u);
  EXPECT_NE(r1.errors[0].find("upload.ndjson:3"), std::string::npos) << r1.errors[0];
  auto r2 = ingest.IngestText(ndjson, "upload.ndjson", {});
  EXPECT_EQ(r2.written, 0u);
  EXPECT_EQ(r2.unchanged, 2u);
  EXPECT_EQ(store_->Count(), 2);
}

}  // namespace
}  // namespace haip::lake
