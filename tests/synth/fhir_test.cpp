// Checks every resource of a few-hundred-patient run: FHIR R4 structure,
// codings, references, dates, identities, and clinical coherence between
// diagnoses, labs, drugs, procedures and notes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "synth/generator.h"
#include "synth/tables.h"
#include "test_util.h"

namespace haip::synth {
namespace {

using nlohmann::json;

constexpr uint64_t kPatients = 400;
constexpr std::string_view kUcum = "http://unitsofmeasure.org";

class SynthOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    SynthOptions o;
    o.patients = kPatients;
    o.seed = 2024;
    o.out_dir = dir_->path();
    o.threads = 2;
    Generate(o);
    resources_ = new std::map<std::string, std::vector<json>>();
    index_ = new std::map<std::string, const json*>();
    for (std::string_view type : kResourceTypes) {
      std::string t(type);
      (*resources_)[t] = testing::ReadNdjson(dir_->path() / (t + ".ndjson"));
    }
    for (const auto& [type, list] : *resources_) {
      for (const json& r : list) (*index_)[type + "/" + r.value("id", "")] = &r;
    }
  }
  static void TearDownTestSuite() {
    delete index_;
    delete resources_;
    delete dir_;
  }

  static const std::vector<json>& All(const std::string& type) { return resources_->at(type); }
  static const json* Find(const std::string& reference) {
    auto it = index_->find(reference);
    return it == index_->end() ? nullptr : it->second;
  }
  static std::string Ref(const json& r, const char* key) {
    return r.at(key).at("reference").get<std::string>();
  }
  static std::string Code(const json& cc) {
    return cc.at("coding").at(0).at("code").get<std::string>();
  }

  // Resources of `type` grouped by subject reference.
  static std::map<std::string, std::vector<const json*>> BySubject(const std::string& type) {
    std::map<std::string, std::vector<const json*>> out;
    for (const json& r : All(type)) out[Ref(r, "subject")].push_back(&r);
    return out;
  }
  static std::map<std::string, std::vector<const json*>> ByEncounter(const std::string& type) {
    std::map<std::string, std::vector<const json*>> out;
    for (const json& r : All(type)) {
      if (r.contains("encounter")) out[Ref(r, "encounter")].push_back(&r);
      if (r.contains("context"))
        out[r["context"]["encounter"][0]["reference"].get<std::string>()].push_back(&r);
    }
    return out;
  }
  // Patient reference -> set of ICD-10 codes.
  static std::map<std::string, std::set<std::string>> Diagnoses() {
    std::map<std::string, std::set<std::string>> out;
    for (const json& c : All("Condition")) out[Ref(c, "subject")].insert(Code(c["code"]));
    return out;
  }
  static std::string NoteText(const json& doc) {
    return testing::Base64Decode(doc["content"][0]["attachment"]["data"].get<std::string>());
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::map<std::string, std::vector<json>>* resources_ = nullptr;
  static inline std::map<std::string, const json*>* index_ = nullptr;
};

void Walk(const json& j, const std::string& key,
          const std::function<void(const std::string&, const json&)>& f) {
  f(key, j);
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) Walk(it.value(), it.key(), f);
  } else if (j.is_array()) {
    for (const json& e : j) Walk(e, key, f);
  }
}

bool ValidDate(const std::string& s) {
  static const std::regex kPattern(
      R"(^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$)");
  std::smatch m;
  if (!std::regex_match(s, m, kPattern)) return false;
  std::chrono::year_month_day ymd{std::chrono::year(std::stoi(m[1])),
                                  std::chrono::month(static_cast<unsigned>(std::stoi(m[2]))),
                                  std::chrono::day(static_cast<unsigned>(std::stoi(m[3])))};
  return ymd.ok();
}

TEST_F(SynthOutput, EveryTypeIsPresentWithUniqueValidIds) {
  static const std::regex kId(R"(^[A-Za-z0-9\-\.]{1,64}$)");
  for (std::string_view type : kResourceTypes) {
    const auto& list = All(std::string(type));
    EXPECT_FALSE(list.empty()) << type;
    std::set<std::string> ids;
    for (const json& r : list) {
      EXPECT_EQ(r.at("resourceType"), type);
      std::string id = r.at("id");
      EXPECT_TRUE(std::regex_match(id, kId)) << id;
      EXPECT_TRUE(ids.insert(id).second) << "duplicate id " << id;
    }
  }
  EXPECT_EQ(All("Patient").size(), kPatients);
}

TEST_F(SynthOutput, RequiredElementsArePresent) {
  for (const json& p : All("Patient")) {
    std::set<std::string> systems;
    for (const json& id : p.at("identifier")) {
      systems.insert(id.at("system").get<std::string>());
      EXPECT_FALSE(id.at("value").get<std::string>().empty());
    }
    EXPECT_TRUE(systems.count(std::string(kIdCardSystem)));
    EXPECT_TRUE(systems.count(std::string(kMrnSystem)));
    EXPECT_TRUE(p.at("gender") == "male" || p.at("gender") == "female");
    EXPECT_TRUE(p.contains("birthDate"));
    EXPECT_FALSE(p.at("name").at(0).at("family").get<std::string>().empty());
  }
  for (const json& e : All("Encounter")) {
    EXPECT_EQ(e.at("status"), "finished");
    const json& cls = e.at("class");  // a Coding in R4
    EXPECT_EQ(cls.at("system"), "http://terminology.hl7.org/CodeSystem/v3-ActCode");
    std::string code = cls.at("code");
    EXPECT_TRUE(code == "AMB" || code == "IMP" || code == "EMER") << code;
    EXPECT_TRUE(e.contains("subject"));
    EXPECT_LE(e["period"]["start"].get<std::string>(), e["period"]["end"].get<std::string>());
    EXPECT_FALSE(e.at("diagnosis").empty());
    if (code == "IMP") {
      EXPECT_TRUE(e.contains("hospitalization"));
    }
  }
  for (const json& c : All("Condition")) {
    EXPECT_TRUE(c.contains("subject"));
    EXPECT_EQ(c["code"]["coding"][0]["system"], "http://hl7.org/fhir/sid/icd-10");
    std::string status = Code(c.at("clinicalStatus"));
    EXPECT_TRUE(status == "active" || status == "resolved");
    EXPECT_EQ(status == "resolved", c.contains("abatementDateTime"));
    EXPECT_EQ(Code(c.at("verificationStatus")), "confirmed");
  }
  for (const json& o : All("Observation")) {
    EXPECT_EQ(o.at("status"), "final");
    EXPECT_EQ(o["code"]["coding"][0]["system"], "http://loinc.org");
    EXPECT_TRUE(o.contains("subject"));
    EXPECT_TRUE(o.contains("effectiveDateTime"));
    std::string category = Code(o.at("category").at(0));
    EXPECT_TRUE(category == "laboratory" || category == "vital-signs");
    EXPECT_TRUE(o.contains("valueQuantity") != o.contains("component")) << o.dump();
  }
  for (const json& m : All("MedicationRequest")) {
    std::string status = m.at("status");
    EXPECT_TRUE(status == "active" || status == "completed");
    EXPECT_EQ(m.at("intent"), "order");
    EXPECT_EQ(m["medicationCodeableConcept"]["coding"][0]["system"], "http://www.whocc.no/atc");
    EXPECT_TRUE(m.contains("subject"));
    EXPECT_FALSE(m.at("dosageInstruction").at(0).at("text").get<std::string>().empty());
  }
  for (const json& p : All("Procedure")) {
    EXPECT_EQ(p.at("status"), "completed");
    EXPECT_TRUE(p.contains("subject"));
    EXPECT_EQ(p["code"]["coding"][0]["system"], "http://hl7.org/fhir/sid/icd-9-cm");
  }
  for (const json& d : All("DocumentReference")) {
    EXPECT_EQ(d.at("status"), "current");
    const json& att = d.at("content").at(0).at("attachment");
    EXPECT_EQ(att.at("contentType"), "text/plain; charset=utf-8");
    EXPECT_FALSE(att.at("data").get<std::string>().empty());
  }
  for (const char* type : {"Organization", "Location", "Practitioner"}) {
    for (const json& r : All(type)) EXPECT_TRUE(r.contains("name")) << type;
  }
}

TEST_F(SynthOutput, AllCodingsHaveSystemAndCode) {
  size_t codings = 0;
  for (const auto& [type, list] : *resources_) {
    for (const json& r : list) {
      Walk(r, "", [&](const std::string& key, const json& j) {
        if (key != "coding" || !j.is_object()) return;
        ++codings;
        ASSERT_TRUE(j.contains("system") && j.contains("code")) << type << ": " << j.dump();
        EXPECT_FALSE(j["system"].get<std::string>().empty());
        EXPECT_FALSE(j["code"].get<std::string>().empty());
      });
    }
  }
  EXPECT_GT(codings, 10000u);
}

TEST_F(SynthOutput, AllReferencesResolveWithinTheOutput) {
  size_t refs = 0;
  for (const auto& [type, list] : *resources_) {
    for (const json& r : list) {
      Walk(r, "", [&](const std::string&, const json& j) {
        if (!j.is_object() || !j.contains("reference")) return;
        ++refs;
        std::string ref = j["reference"];
        EXPECT_NE(Find(ref), nullptr) << type << " " << r["id"] << " -> " << ref;
      });
    }
  }
  EXPECT_GT(refs, 20000u);
  // References point to the right kind of resource and the same patient.
  for (const char* type : {"Condition", "Observation", "MedicationRequest", "Procedure"}) {
    for (const json& r : All(type)) {
      const json* enc = Find(Ref(r, "encounter"));
      ASSERT_NE(enc, nullptr);
      EXPECT_EQ(Ref(*enc, "subject"), Ref(r, "subject")) << type << " " << r["id"];
    }
  }
}

TEST_F(SynthOutput, DatesAreValid) {
  static const std::set<std::string> kDateKeys = {"birthDate",
                                                  "start",
                                                  "end",
                                                  "onsetDateTime",
                                                  "abatementDateTime",
                                                  "recordedDate",
                                                  "issued",
                                                  "effectiveDateTime",
                                                  "authoredOn",
                                                  "performedDateTime",
                                                  "date",
                                                  "creation"};
  size_t dates = 0;
  for (const auto& [type, list] : *resources_) {
    for (const json& r : list) {
      Walk(r, "", [&](const std::string& key, const json& j) {
        if (!kDateKeys.count(key)) return;
        ++dates;
        ASSERT_TRUE(j.is_string()) << key;
        EXPECT_TRUE(ValidDate(j.get<std::string>())) << type << "." << key << " = " << j;
      });
    }
  }
  EXPECT_GT(dates, 20000u);
}

TEST_F(SynthOutput, EventsFallWithinTheirEncounter) {
  auto within = [](const json& enc, const std::string& t) {
    return enc["period"]["start"].get<std::string>() <= t &&
           t <= enc["period"]["end"].get<std::string>();
  };
  for (const json& o : All("Observation")) {
    EXPECT_TRUE(within(*Find(Ref(o, "encounter")), o["effectiveDateTime"])) << o["id"];
  }
  for (const json& m : All("MedicationRequest")) {
    EXPECT_TRUE(within(*Find(Ref(m, "encounter")), m["authoredOn"])) << m["id"];
  }
  for (const json& p : All("Procedure")) {
    EXPECT_TRUE(within(*Find(Ref(p, "encounter")), p["performedDateTime"])) << p["id"];
  }
  for (const json& d : All("DocumentReference")) {
    EXPECT_TRUE(
        within(*Find(d["context"]["encounter"][0]["reference"].get<std::string>()), d["date"]))
        << d["id"];
  }
  // Nobody is treated before birth.
  for (const json& e : All("Encounter")) {
    const json* patient = Find(Ref(e, "subject"));
    EXPECT_LT((*patient)["birthDate"].get<std::string>(),
              e["period"]["start"].get<std::string>().substr(0, 10));
  }
}

TEST_F(SynthOutput, QuantitiesUseUcum) {
  size_t quantities = 0;
  for (const auto& [type, list] : *resources_) {
    for (const json& r : list) {
      Walk(r, "", [&](const std::string& key, const json& j) {
        if (key != "valueQuantity" && key != "doseQuantity" && key != "low" && key != "high")
          return;
        ++quantities;
        EXPECT_EQ(j.at("system"), kUcum) << j.dump();
        EXPECT_FALSE(j.at("code").get<std::string>().empty());
        EXPECT_TRUE(j.at("value").is_number()) << j.dump();
      });
    }
  }
  EXPECT_GT(quantities, 20000u);
}

TEST_F(SynthOutput, ResidentIdNumbersAreValidAndMatchDemographics) {
  std::set<std::string> region_codes;
  for (const Region& r : Regions()) region_codes.insert(r.code);
  std::set<std::string> seen;
  for (const json& p : All("Patient")) {
    std::string id;
    for (const json& ident : p["identifier"]) {
      if (ident["system"] == kIdCardSystem) id = ident["value"];
    }
    ASSERT_EQ(id.size(), 18u) << p["id"];
    EXPECT_TRUE(IsValidIdCard(id)) << id;
    EXPECT_EQ(IdCardCheckChar(id.substr(0, 17)), id[17]);
    EXPECT_TRUE(region_codes.count(id.substr(0, 6))) << id;
    std::string birth = p["birthDate"];  // YYYY-MM-DD
    EXPECT_EQ(id.substr(6, 8), birth.substr(0, 4) + birth.substr(5, 2) + birth.substr(8, 2)) << id;
    int sex_digit = id[16] - '0';
    EXPECT_EQ(sex_digit % 2 == 1, p["gender"] == "male") << id;
    EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
  }
}

TEST_F(SynthOutput, MobileNumbersHaveValidPrefixes) {
  static const std::regex kMobile(R"(^1[3-9]\d{9}$)");
  std::set<std::string> prefixes;
  for (const char* p : MobilePrefixes()) prefixes.insert(p);
  for (const json& p : All("Patient")) {
    const json& tel = p.at("telecom").at(0);
    EXPECT_EQ(tel["system"], "phone");
    EXPECT_EQ(tel["use"], "mobile");
    std::string number = tel["value"];
    EXPECT_TRUE(std::regex_match(number, kMobile)) << number;
    EXPECT_TRUE(prefixes.count(number.substr(0, 3))) << number;
  }
}

TEST_F(SynthOutput, NamesIncludeCompoundSurnames) {
  std::set<std::string> compound;
  for (const char* s : CompoundSurnames()) compound.insert(s);
  int found = 0;
  for (const json& p : All("Patient")) {
    const json& name = p["name"][0];
    std::string family = name["family"];
    std::string given = name["given"][0];
    EXPECT_EQ(name["text"].get<std::string>(), family + given);
    // Chinese characters are 3 bytes in UTF-8: 1-2 for the surname, 1-2 given.
    EXPECT_TRUE(family.size() == 3 || family.size() == 6) << family;
    EXPECT_TRUE(given.size() == 3 || given.size() == 6) << given;
    found += compound.count(family) ? 1 : 0;
  }
  EXPECT_GT(found, 0);
}

TEST_F(SynthOutput, AddressesHaveProvinceCityDistrictAndStreet) {
  for (const json& p : All("Patient")) {
    const json& a = p.at("address").at(0);
    for (const char* key : {"state", "city", "district"})
      EXPECT_FALSE(a.at(key).get<std::string>().empty());
    std::string line = a.at("line").at(0);
    EXPECT_NE(line.find("号"), std::string::npos) << line;
    EXPECT_NE(a.at("text").get<std::string>().find(line), std::string::npos);
    EXPECT_EQ(a.at("country"), "CN");
  }
}

TEST_F(SynthOutput, CoversEncounterClassesDepartmentsAndDiseasePatterns) {
  std::set<std::string> classes, departments;
  for (const json& e : All("Encounter")) {
    classes.insert(e["class"]["code"].get<std::string>());
    departments.insert(e["serviceProvider"]["display"].get<std::string>());
  }
  EXPECT_EQ(classes, (std::set<std::string>{"AMB", "IMP", "EMER"}));
  for (const char* d : {"心内科", "内分泌科", "肾内科", "呼吸内科", "急诊科", "普外科"}) {
    EXPECT_TRUE(departments.count(d)) << d;
  }
  std::set<std::string> codes;
  for (const json& c : All("Condition")) codes.insert(Code(c["code"]));
  EXPECT_GE(codes.size(), 14u);
  int comorbid = 0;
  for (const auto& [patient, dx] : Diagnoses()) {
    int chronic = 0;
    for (const char* c : {"E11.9", "I10", "N18.3", "N18.4", "E78.5", "I50.9", "J44.9", "D50.9"})
      chronic += dx.count(c);
    comorbid += chronic >= 2;
  }
  EXPECT_GT(comorbid, 10);
  std::set<std::string> note_types;
  for (const json& d : All("DocumentReference"))
    note_types.insert(d["type"]["text"].get<std::string>());
  for (const char* t : {"门诊病历", "急诊病历", "入院记录", "病程记录", "出院小结"})
    EXPECT_TRUE(note_types.count(t)) << t;
}

// Observations of one patient with the given LOINC code, in time order.
std::vector<const json*> Labs(const std::vector<const json*>& obs, const std::string& loinc) {
  std::vector<const json*> out;
  for (const json* o : obs) {
    if ((*o)["code"]["coding"][0]["code"] == loinc) out.push_back(o);
  }
  std::stable_sort(out.begin(), out.end(), [](const json* a, const json* b) {
    return (*a)["effectiveDateTime"].get<std::string>() <
           (*b)["effectiveDateTime"].get<std::string>();
  });
  return out;
}

double Value(const json* o) { return (*o)["valueQuantity"]["value"].get<double>(); }

std::set<std::string> Atc(const std::vector<const json*>& meds) {
  std::set<std::string> out;
  for (const json* m : meds)
    out.insert((*m)["medicationCodeableConcept"]["coding"][0]["code"].get<std::string>());
  return out;
}

std::set<std::string> ProcCodes(const std::vector<const json*>& procs) {
  std::set<std::string> out;
  for (const json* p : procs) out.insert((*p)["code"]["coding"][0]["code"].get<std::string>());
  return out;
}

TEST_F(SynthOutput, DiabeticsHaveRepeatedElevatedHba1cAndAntidiabetics) {
  auto obs = BySubject("Observation");
  auto meds = BySubject("MedicationRequest");
  int diabetics = 0;
  for (const auto& [patient, dx] : Diagnoses()) {
    if (!dx.count("E11.9")) continue;
    ++diabetics;
    auto hba1c = Labs(obs[patient], "4548-4");
    ASSERT_GE(hba1c.size(), 2u) << patient;
    EXPECT_GT(Value(hba1c.front()), 6.5) << patient;
    EXPECT_EQ((*hba1c.front())["interpretation"][0]["coding"][0]["code"], "H");
    EXPECT_FALSE(Labs(obs[patient], "14771-0").empty()) << patient;
    bool antidiabetic = false;
    for (const std::string& atc : Atc(meds[patient])) antidiabetic |= atc.rfind("A10", 0) == 0;
    EXPECT_TRUE(antidiabetic) << patient;
  }
  EXPECT_GT(diabetics, 10);
}

TEST_F(SynthOutput, CkdEgfrDeclinesAndCreatinineRises) {
  auto obs = BySubject("Observation");
  int ckd = 0;
  for (const auto& [patient, dx] : Diagnoses()) {
    bool stage3 = dx.count("N18.3") > 0, stage4 = dx.count("N18.4") > 0;
    if (!stage3 && !stage4) continue;
    ++ckd;
    auto egfr = Labs(obs[patient], "33914-3");
    ASSERT_GE(egfr.size(), 2u) << patient;
    for (size_t i = 1; i < egfr.size(); ++i)
      EXPECT_LE(Value(egfr[i]), Value(egfr[i - 1])) << patient;
    for (const json* e : egfr) {
      EXPECT_LT(Value(e), stage4 ? 30 : 60) << patient;
      EXPECT_GE(Value(e), stage4 ? 15 : 30) << patient;
    }
    auto creatinine = Labs(obs[patient], "14682-9");
    for (size_t i = 1; i < creatinine.size(); ++i) {
      EXPECT_GE(Value(creatinine[i]), Value(creatinine[i - 1])) << patient;
    }
  }
  EXPECT_GT(ckd, 3);
}

TEST_F(SynthOutput, HypertensivesHaveElevatedBloodPressureAndAmlodipine) {
  auto obs = BySubject("Observation");
  auto meds = BySubject("MedicationRequest");
  int patients = 0;
  for (const auto& [patient, dx] : Diagnoses()) {
    if (!dx.count("I10")) continue;
    ++patients;
    int max_systolic = 0;
    for (const json* bp : Labs(obs[patient], "85354-9")) {
      max_systolic =
          std::max(max_systolic, (*bp)["component"][0]["valueQuantity"]["value"].get<int>());
    }
    EXPECT_GE(max_systolic, 140) << patient;
    EXPECT_TRUE(Atc(meds[patient]).count("C08CA01")) << patient;
  }
  EXPECT_GT(patients, 20);
}

TEST_F(SynthOutput, AcutePatternsAreCoherent) {
  auto obs = BySubject("Observation");
  auto meds = BySubject("MedicationRequest");
  auto procs = BySubject("Procedure");
  int mi = 0, pneumonia = 0, chest_pain = 0;
  for (const auto& [patient, dx] : Diagnoses()) {
    if (dx.count("I21.9")) {
      ++mi;
      auto tni = Labs(obs[patient], "10839-9");
      ASSERT_FALSE(tni.empty());
      double peak = 0;
      for (const json* t : tni) peak = std::max(peak, Value(t));
      EXPECT_GT(peak, 0.04) << patient;
      auto codes = ProcCodes(procs[patient]);
      EXPECT_TRUE(codes.count("89.52") && codes.count("36.07")) << patient;
      auto atc = Atc(meds[patient]);
      EXPECT_TRUE(atc.count("B01AC06") && atc.count("B01AC04")) << patient;
    }
    if (dx.count("R07.4")) {
      ++chest_pain;
      EXPECT_FALSE(Labs(obs[patient], "10839-9").empty()) << patient;
      EXPECT_TRUE(ProcCodes(procs[patient]).count("89.52")) << patient;
    }
    if (dx.count("J18.9")) {
      ++pneumonia;
      bool high_wbc = false;
      for (const json* w : Labs(obs[patient], "6690-2")) high_wbc |= Value(w) > 9.5;
      EXPECT_TRUE(high_wbc) << patient;
      EXPECT_FALSE(Labs(obs[patient], "1988-5").empty()) << patient;
      auto codes = ProcCodes(procs[patient]);
      EXPECT_TRUE(codes.count("87.44") || codes.count("87.41")) << patient;
      bool antibiotic = false;
      for (const std::string& atc : Atc(meds[patient])) antibiotic |= atc.rfind("J01", 0) == 0;
      EXPECT_TRUE(antibiotic) << patient;
    }
  }
  EXPECT_GT(mi + chest_pain, 5);
  EXPECT_GT(pneumonia, 5);
}

TEST_F(SynthOutput, InterpretationsAgreeWithReferenceRanges) {
  for (const json& o : All("Observation")) {
    if (!o.contains("referenceRange")) continue;
    double v = o["valueQuantity"]["value"];
    const json& range = o["referenceRange"][0];
    std::string expected = "N";
    if (range.contains("low") && v < range["low"]["value"].get<double>()) expected = "L";
    if (range.contains("high") && v > range["high"]["value"].get<double>()) expected = "H";
    EXPECT_EQ(o["interpretation"][0]["coding"][0]["code"], expected) << o.dump();
  }
}

TEST_F(SynthOutput, NotesAreUtf8AndMentionTheEncounterDiagnoses) {
  for (const json& d : All("DocumentReference")) {
    std::string text = NoteText(d);
    ASSERT_FALSE(text.empty()) << d["id"];
    EXPECT_TRUE(testing::IsValidUtf8(text)) << d["id"];
    EXPECT_EQ(text.rfind(d["type"]["text"].get<std::string>(), 0), 0u) << text;
    const json* enc = Find(d["context"]["encounter"][0]["reference"].get<std::string>());
    ASSERT_NE(enc, nullptr);
    const json* patient = Find(Ref(d, "subject"));
    EXPECT_NE(text.find((*patient)["name"][0]["text"].get<std::string>()), std::string::npos);
    for (const json& diag : (*enc)["diagnosis"]) {
      const json* cond = Find(diag["condition"]["reference"].get<std::string>());
      ASSERT_NE(cond, nullptr);
      std::string display = (*cond)["code"]["text"];
      EXPECT_NE(text.find(display), std::string::npos) << display << " missing from\n" << text;
    }
  }
}

TEST_F(SynthOutput, NotesMentionLabValuesAndDrugsOfTheirEncounter) {
  auto notes = ByEncounter("DocumentReference");
  auto obs = ByEncounter("Observation");
  auto meds = ByEncounter("MedicationRequest");
  size_t checked = 0;
  for (const auto& [enc, docs] : notes) {
    std::string all;
    for (const json* d : docs) all += NoteText(*d) + "\n";
    for (const json* o : obs[enc]) {
      if (Code((*o)["category"][0]) != "laboratory") continue;
      std::string name = (*o)["code"]["text"].get<std::string>() + " ";
      double value = Value(o);
      bool found = false;
      for (size_t pos = all.find(name); pos != std::string::npos && !found;
           pos = all.find(name, pos + 1)) {
        double mentioned = std::strtod(all.c_str() + pos + name.size(), nullptr);
        found = std::abs(mentioned - value) < 1e-9;
      }
      EXPECT_TRUE(found) << name << value << " not in notes of " << enc;
      ++checked;
    }
    for (const json* m : meds[enc]) {
      std::string drug = (*m)["medicationCodeableConcept"]["text"];
      EXPECT_NE(all.find(drug), std::string::npos) << drug << " not in notes of " << enc;
    }
  }
  EXPECT_GT(checked, 3000u);
}

TEST_F(SynthOutput, EveryEncounterHasANoteAndVitalSigns) {
  auto notes = ByEncounter("DocumentReference");
  auto obs = ByEncounter("Observation");
  for (const json& e : All("Encounter")) {
    std::string ref = "Encounter/" + e["id"].get<std::string>();
    EXPECT_FALSE(notes[ref].empty()) << ref;
    bool bp = false;
    for (const json* o : obs[ref]) bp |= (*o)["code"]["coding"][0]["code"] == "85354-9";
    EXPECT_TRUE(bp) << ref;
    if (e["class"]["code"] == "IMP") {
      std::set<std::string> kinds;
      for (const json* d : notes[ref]) kinds.insert((*d)["type"]["text"].get<std::string>());
      EXPECT_EQ(kinds, (std::set<std::string>{"入院记录", "病程记录", "出院小结"})) << ref;
    }
  }
}

}  // namespace
}  // namespace haip::synth
