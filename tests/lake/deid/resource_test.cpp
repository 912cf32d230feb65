// Resource-level rules: element removal, pseudonyms, address, dates, the
// age cap, references, attachments and thread safety.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "lake/deid/deid.h"

namespace haip::lake::deid {
namespace {

constexpr char kKey[] = "0123456789abcdef-test-key";

DeidProfile TestProfile() {
  DeidProfile p;
  p.reference_date = "2025-06-30";
  return p;
}

std::string B64(std::string_view s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += a[(v >> k) & 63];
  }
  if (i < s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    if (i + 1 < s.size()) v |= uint8_t(s[i + 1]) << 8;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < s.size() ? a[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string UnB64(std::string_view s) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = std::strchr(a, c);
    if (c == '=' || p == nullptr) continue;
    acc = (acc << 6) | uint32_t(p - a);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  return out;
}

Json PatientJson(const std::string& id, const std::string& birth) {
  return Json::parse(R"({
    "resourceType": "Patient", "id": ")" +
                     id + R"(",
    "identifier": [
      {"use": "official", "system": "https://haip.example.org/fhir/sid/cn-resident-id",
       "type": {"text": "居民身份证"}, "value": "11010519491231002X"},
      {"system": "https://haip.example.org/fhir/sid/mrn", "value": "MR0000000042"}],
    "name": [{"use": "official", "text": "欧阳明辉", "family": "欧阳", "given": ["明辉"]}],
    "telecom": [{"system": "phone", "value": "13812345678", "use": "mobile"},
                {"system": "email", "value": "oy@example.cn"}],
    "gender": "male", "birthDate": ")" +
                     birth + R"(",
    "address": [{"use": "home", "text": "广东省深圳市南山区学府路12号",
                 "line": ["学府路12号"], "city": "深圳市", "district": "南山区",
                 "state": "广东省", "postalCode": "518055", "country": "CN"}],
    "photo": [{"contentType": "image/jpeg", "data": "AAAA"}],
    "contact": [{"name": {"text": "欧阳娜"}, "telecom": [{"system": "phone", "value": "13900001111"}]}],
    "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "zh-CN"}]}}],
    "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
    "managingOrganization": {"reference": "Organization/org-1", "display": "惠民医院"}
  })");
}

Json EncounterJson(const std::string& pid) {
  return Json::parse(R"({
    "resourceType": "Encounter", "id": "enc-1", "status": "finished",
    "subject": {"reference": "Patient/)" +
                     pid + R"(", "display": "欧阳明辉"},
    "participant": [{"individual": {"reference": "Practitioner/prac-1", "display": "李飞平"}}],
    "period": {"start": "2024-03-05T09:30:00+08:00", "end": "2024-03-07T16:45:10.250+08:00"},
    "serviceProvider": {"reference": "Organization/org-1", "display": "心内科"}
  })");
}

TEST(Deidentifier, RejectsShortKeysAndBadProfiles) {
  EXPECT_THROW(Deidentifier("short", TestProfile()), Error);
  DeidProfile p = TestProfile();
  p.reference_date = "2025-02-30";
  EXPECT_THROW(Deidentifier(kKey, p), Error);
  Deidentifier d(kKey, TestProfile());
  EXPECT_THROW(d.Apply(Json::parse(R"({"id": "x"})")), Error);
  EXPECT_THROW(d.Apply(Json::array()), Error);
}

TEST(Deidentifier, PatientIdentifyingElementsAreRemovedOrPseudonymized) {
  Deidentifier d(kKey, TestProfile());
  Json in = PatientJson("pat-1", "1960-02-29");
  d.LearnPatient(in);
  Json out = d.Apply(in);
  std::string dump = out.dump();
  EXPECT_FALSE(out.contains("name"));
  EXPECT_FALSE(out.contains("telecom"));
  EXPECT_FALSE(out.contains("photo"));
  EXPECT_FALSE(out.contains("contact"));
  for (const char* leak : {"欧阳", "明辉", "11010519491231002X", "MR0000000042", "13812345678",
                           "oy@example.cn", "深圳", "南山", "学府路", "518055", "pat-1"})
    EXPECT_EQ(dump.find(leak), std::string::npos) << leak;
  EXPECT_EQ(out["id"], d.PseudonymId("Patient", "pat-1"));
  EXPECT_EQ(out["id"].get<std::string>().size(), 32u);
  // Identifiers keep system and type, the value becomes a keyed pseudonym.
  ASSERT_EQ(out["identifier"].size(), 2u);
  EXPECT_EQ(out["identifier"][0]["system"], "https://haip.example.org/fhir/sid/cn-resident-id");
  EXPECT_EQ(out["identifier"][0]["type"]["text"], "居民身份证");
  EXPECT_EQ(out["identifier"][0]["value"],
            d.PseudonymIdentifier("https://haip.example.org/fhir/sid/cn-resident-id",
                                  "11010519491231002X"));
  EXPECT_EQ(out["identifier"][0]["value"].get<std::string>().rfind("deid-", 0), 0u);
  // Address: province, country and three postal digits.
  EXPECT_EQ(
      out["address"][0],
      Json::parse(
          R"({"use":"home","state":"广东省","text":"广东省","postalCode":"518","country":"CN"})"));
  // Demographics that are not identifiers stay.
  EXPECT_EQ(out["gender"], "male");
  EXPECT_EQ(out["maritalStatus"], in["maritalStatus"]);
  EXPECT_EQ(out["communication"], in["communication"]);
  EXPECT_EQ(out["managingOrganization"]["reference"],
            "Organization/" + d.PseudonymId("Organization", "org-1"));
  EXPECT_EQ(out["managingOrganization"]["display"], "惠民医院");
  EXPECT_EQ(out["meta"]["security"][0]["code"], "PSEUDED");
  // Leap day shifted to a real day.
  int shift = d.ShiftDays("pat-1");
  EXPECT_NE(shift, 0);
  EXPECT_LE(std::abs(shift), 365);
  EXPECT_NE(out["birthDate"], "1960-02-29");
  EXPECT_EQ(out["birthDate"].get<std::string>().size(), 10u);
}

TEST(Deidentifier, PseudonymsDependOnTheKeyOnly) {
  Deidentifier a(kKey, TestProfile()), b(kKey, TestProfile()),
      c("another-key-0123456789", TestProfile());
  Json pa = a.Apply(PatientJson("pat-7", "1970-01-01"));
  Json pb = b.Apply(PatientJson("pat-7", "1970-01-01"));
  Json pc = c.Apply(PatientJson("pat-7", "1970-01-01"));
  EXPECT_EQ(pa, pb);
  EXPECT_NE(pa["id"], pc["id"]);
  EXPECT_NE(pa["identifier"][1]["value"], pc["identifier"][1]["value"]);
  EXPECT_NE(a.PseudonymId("Patient", "pat-7"), a.PseudonymId("Patient", "pat-8"));
  EXPECT_NE(a.PseudonymId("Patient", "x"), a.PseudonymId("Encounter", "x"));
}

TEST(Deidentifier, ReferencesResolveToThePseudonymizedTargets) {
  Deidentifier d(kKey, TestProfile());
  Json patient = d.Apply(PatientJson("pat-1", "1980-05-05"));
  Json enc = d.Apply(EncounterJson("pat-1"));
  EXPECT_EQ(enc["subject"]["reference"], "Patient/" + patient["id"].get<std::string>());
  EXPECT_FALSE(enc["subject"].contains("display"));
  EXPECT_FALSE(enc["participant"][0]["individual"].contains("display"));
  EXPECT_EQ(enc["participant"][0]["individual"]["reference"],
            "Practitioner/" + d.PseudonymId("Practitioner", "prac-1"));
  EXPECT_EQ(enc["serviceProvider"]["display"], "心内科");
  Json obs = Json::parse(R"({"resourceType":"Observation","id":"o1","status":"final",
    "subject":{"reference":"https://fhir.example.org/r4/Patient/pat-1/_history/3"},
    "encounter":{"reference":"Encounter/enc-1"},
    "hasMember":[{"reference":"#c1"}, {"reference":"Observation?identifier=123"},
                 {"reference":"urn:uuid:2b2a3c4d-0000-4000-8000-000000000001"}]})");
  Json o = d.Apply(obs);
  EXPECT_EQ(o["subject"]["reference"], enc["subject"]["reference"]);
  EXPECT_EQ(o["encounter"]["reference"], "Encounter/" + enc["id"].get<std::string>());
  EXPECT_EQ(o["hasMember"][0]["reference"], "#c1");
  EXPECT_FALSE(o["hasMember"][1].contains("reference"));
  std::string uuid = o["hasMember"][2]["reference"];
  EXPECT_EQ(uuid.size(), 45u);
  EXPECT_EQ(uuid.find("2b2a3c4d"), std::string::npos);
}

TEST(Deidentifier, DatesShiftTogetherAndKeepTimeOfDayAndIntervals) {
  Deidentifier d(kKey, TestProfile());
  Json patient = PatientJson("pat-1", "1980-05-05");
  d.LearnPatient(patient);
  int shift = d.ShiftDays("pat-1");
  Json p = d.Apply(patient);
  Json e = d.Apply(EncounterJson("pat-1"));
  std::string start = e["period"]["start"], end = e["period"]["end"];
  EXPECT_EQ(start.substr(10), "T09:30:00+08:00");
  EXPECT_EQ(end.substr(10), "T16:45:10.250+08:00");
  auto day = [](const std::string& s) {
    // Days between two ISO dates via std::chrono.
    int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)),
        dd = std::stoi(s.substr(8, 2));
    return std::chrono::sys_days(std::chrono::year(y) / m / dd).time_since_epoch().count();
  };
  EXPECT_EQ(day(start) - day("2024-03-05"), shift);
  EXPECT_EQ(day(end) - day(start), 2);
  EXPECT_EQ(day(p["birthDate"]) - day("1980-05-05"), shift);
  // The same patient in a resource seen without LearnPatient gets the same shift.
  Deidentifier fresh(kKey, TestProfile());
  EXPECT_EQ(fresh.Apply(EncounterJson("pat-1"))["period"], e["period"]);
  // Partial dates keep their precision; codes that look like years do not move.
  Json cond =
      Json::parse(R"({"resourceType":"Condition","id":"c","subject":{"reference":"Patient/pat-1"},
    "onsetDateTime":"2019-07","recordedDate":"2019","code":{"coding":[{"system":"s","code":"2019-07-01"}],
    "text":"2019"},"note":[{"authorString":"张医生","time":"2024-03-05T10:00:00Z",
    "text":"2024年3月5日张先生来院，电话13812345678"}]})");
  Json c = d.Apply(cond);
  EXPECT_EQ(c["onsetDateTime"].get<std::string>().size(), 7u);
  EXPECT_EQ(c["recordedDate"].get<std::string>().size(), 4u);
  EXPECT_EQ(c["code"]["coding"][0]["code"], "2019-07-01");
  EXPECT_EQ(c["code"]["text"], "2019");
  EXPECT_EQ(c["note"][0]["authorString"], "[姓名]");
  EXPECT_EQ(day(c["note"][0]["time"]) - day("2024-03-05"), shift);
  std::string note = c["note"][0]["text"];
  EXPECT_EQ(note.find("2024年3月5日"), std::string::npos);
  EXPECT_NE(note.find("[姓名]先生来院，电话[电话]"), std::string::npos) << note;
}

TEST(Deidentifier, PatientsOlderThan89AreGrouped) {
  Deidentifier d(kKey, TestProfile());              // reference date 2025-06-30
  Json old = PatientJson("old", "1935-07-01");      // 89 on the reference date
  Json older = PatientJson("older", "1935-06-30");  // 90 on the reference date
  Json year_only = PatientJson("y", "1935");        // may still be 89: not grouped
  for (const Json* p : {&old, &older, &year_only}) d.LearnPatient(*p);
  Json o = d.Apply(old), r = d.Apply(older), y = d.Apply(year_only);
  EXPECT_EQ(o["birthDate"].get<std::string>().size(), 10u);
  EXPECT_FALSE(o.contains("_birthDate"));
  EXPECT_EQ(r["birthDate"], "1935");
  EXPECT_EQ(r["_birthDate"]["extension"][0]["url"],
            "https://haip.example.org/fhir/StructureDefinition/deid-age-over-cap");
  EXPECT_EQ(r["_birthDate"]["extension"][0]["valueBoolean"], true);
  EXPECT_EQ(y["birthDate"].get<std::string>().size(), 4u);
  EXPECT_FALSE(y.contains("_birthDate"));
  Json ancient = PatientJson("ancient", "1901-01-01");
  EXPECT_EQ(d.Apply(ancient)["birthDate"], "1935");
}

TEST(Deidentifier, TextAttachmentsAreScrubbedAndBinaryOnesWithheld) {
  Deidentifier d(kKey, TestProfile());
  d.LearnPatient(PatientJson("pat-1", "1980-05-05"));
  std::string note =
      "门诊病历\n姓名：欧阳明辉　性别：男　年龄：44岁\n就诊时间：2024年03月05日 09:30\n"
      "联系电话 138-1234-5678，身份证 11010519491231002X，住学府路12号。\n"
      "诊断：1. 原发性高血压\n医师：李飞平\n";
  Json doc = Json::parse(R"({"resourceType":"DocumentReference","id":"doc-1",
    "subject":{"reference":"Patient/pat-1"},
    "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">欧阳明辉 13812345678</div>"},
    "content":[{"attachment":{"contentType":"text/plain; charset=utf-8","data":")" +
                         B64(note) + R"(","size":10,"hash":"abc","url":"http://x/1"}},
               {"attachment":{"contentType":"application/pdf","data":"JVBERi0="}}]})");
  Json out = d.Apply(doc);
  const Json& a = out["content"][0]["attachment"];
  std::string text = UnB64(a["data"].get<std::string>());
  EXPECT_EQ(a["size"], text.size());
  EXPECT_FALSE(a.contains("hash"));
  EXPECT_FALSE(a.contains("url"));
  for (const char* leak :
       {"欧阳明辉", "李飞平", "138-1234-5678", "11010519491231002X", "学府路", "2024年03月05日"})
    EXPECT_EQ(text.find(leak), std::string::npos) << leak << "\n" << text;
  EXPECT_NE(text.find("诊断：1. 原发性高血压"), std::string::npos);
  EXPECT_NE(text.find("年龄：44岁"), std::string::npos);
  EXPECT_EQ(out["text"]["div"], "<div xmlns=\"http://www.w3.org/1999/xhtml\">[姓名] [电话]</div>");
  const Json& pdf = out["content"][1]["attachment"];
  EXPECT_FALSE(pdf.contains("data"));
  EXPECT_EQ(pdf["_data"]["extension"][0]["valueCode"], "masked");
}

TEST(Deidentifier, ClinicalContentIsUnchanged) {
  Deidentifier d(kKey, TestProfile());
  Json obs = Json::parse(R"({"resourceType":"Observation","id":"o","status":"final",
    "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
    "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}],"text":"糖化血红蛋白"},
    "subject":{"reference":"Patient/p"},"effectiveDateTime":"2024-03-05T09:30:00+08:00",
    "valueQuantity":{"value":9.8,"unit":"%","system":"http://unitsofmeasure.org","code":"%"},
    "interpretation":[{"coding":[{"code":"H"}],"text":"偏高"}],
    "referenceRange":[{"low":{"value":4.0,"unit":"%"},"high":{"value":6.0,"unit":"%"},"text":"4.0-6.0"}]})");
  Json out = d.Apply(obs);
  for (const char* k :
       {"category", "code", "valueQuantity", "interpretation", "referenceRange", "status"})
    EXPECT_EQ(out[k], obs[k]) << k;
}

TEST(Deidentifier, PractitionersAreLearnedAndTheirNamesScrubbedEverywhere) {
  Deidentifier d(kKey, TestProfile());
  Json prac = Json::parse(R"({"resourceType":"Practitioner","id":"prac-1",
    "identifier":[{"system":"https://haip.example.org/fhir/sid/cn-physician-license","value":"245010363064109"}],
    "name":[{"text":"罗飞","family":"罗","given":["飞"]}],"telecom":[{"system":"phone","value":"0771-1234567"}],
    "qualification":[{"code":{"text":"主任医师"}}]})");
  d.Learn(prac);
  Json out = d.Apply(prac);
  EXPECT_FALSE(out.contains("name"));
  EXPECT_FALSE(out.contains("telecom"));
  EXPECT_EQ(out["qualification"][0]["code"]["text"], "主任医师");
  EXPECT_EQ(d.ScrubText("今日罗飞查房", nullptr), "今日[姓名]查房");
}

TEST(Deidentifier, ApplyIsThreadSafeAndDeterministic) {
  Deidentifier d(kKey, TestProfile());
  std::vector<Json> in;
  for (int i = 0; i < 200; ++i) {
    in.push_back(PatientJson("p" + std::to_string(i), "1950-01-01"));
    in.push_back(EncounterJson("p" + std::to_string(i)));
  }
  std::vector<Json> serial;
  for (const Json& r : in) serial.push_back(d.Apply(r));
  std::vector<Json> parallel(in.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < in.size(); i += 4) {
        if (i % 50 == 0) d.LearnPatient(in[i]);  // writers interleave with readers
        parallel[i] = d.Apply(in[i]);
      }
    });
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(serial[i], parallel[i]) << i;
}

TEST(Deidentifier, ProfileDescriptionForAudit) {
  Deidentifier d(kKey, TestProfile());
  Json desc = d.ProfileDescription();
  EXPECT_EQ(desc["label"], "deid profile haip-safe-harbor-cn v1");
  EXPECT_EQ(desc["parameters"]["reference_date"], "2025-06-30");
  EXPECT_EQ(desc["key_fingerprint"].get<std::string>().size(), 16u);
  EXPECT_EQ(desc.dump().find(kKey), std::string::npos);
  EXPECT_GE(desc["rules"].size(), 8u);
  Deidentifier other("another-key-0123456789", TestProfile());
  EXPECT_NE(other.ProfileDescription()["key_fingerprint"], desc["key_fingerprint"]);
}

TEST(LoadOrCreateKey, CreatesOnceWithOwnerOnlyPermissions) {
  auto dir =
      std::filesystem::temp_directory_path() / ("haip-deid-key-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto path = dir / "secrets" / "deid.key";
  std::string k1 = LoadOrCreateKey(path);
  EXPECT_EQ(k1.size(), 64u);
  EXPECT_EQ(LoadOrCreateKey(path), k1);
  auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(path) << "short\n";
  EXPECT_THROW(LoadOrCreateKey(path), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace haip::lake::deid
