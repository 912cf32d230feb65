#include "lake/hl7v2/mapping.h"

#include <gtest/gtest.h>

#include <map>

#include "core/crypto.h"

namespace haip::lake::hl7v2 {
namespace {

const Json* Find(const MappingResult& r, const std::string& type, size_t nth = 0) {
  for (const Json& j : r.resources) {
    if (j["resourceType"] == type && nth-- == 0) return &j;
  }
  return nullptr;
}

std::vector<std::string> Types(const MappingResult& r) {
  std::vector<std::string> out;
  for (const Json& j : r.resources) out.push_back(j["resourceType"]);
  return out;
}

// A segment from field number -> value, so tests need not count pipes.
std::string Seg(const std::string& id, const std::map<int, std::string>& fields) {
  std::string out = id;
  int last = fields.empty() ? 0 : fields.rbegin()->first;
  for (int i = 1; i <= last; ++i) {
    out += '|';
    if (auto it = fields.find(i); it != fields.end()) out += it->second;
  }
  return out + "\r";
}

std::string Adt(const std::string& trigger, const std::string& pv1) {
  return "MSH|^~\\&|HIS|FAC1|HAIP|LAKE|20240301101500+0800||ADT^" + trigger + "^ADT_" + trigger +
         "|CTL-" + trigger + "|P|2.5|||||CHN||UNICODE UTF-8\r" +
         Seg("EVN", {{1, trigger}, {2, "20240301101500+0800"}, {6, "20240301101000+0800"}}) +
         Seg("PID", {{1, "1"},
                     {3, "MRN001^^^HOSP&2.16.156.1&ISO^MR~110101198001011234^^^CHNID^NNCHN"},
                     {5, "张^三^^^^^L~Zhang^San^^^^^A"},
                     {7, "19800101"},
                     {8, "M"},
                     {11, "88 Nanjing Rd^Apt 5^Shanghai^SH^200000^CHN^H^^Huangpu"},
                     {13, "021-5555^PRN^PH~^NET^Internet^z@x.cn"},
                     {14, "^WPN^PH^^^21^66667777"},
                     {16, "M"}}) +
         pv1;
}

const std::map<int, std::string> kPv1Fields = {{1, "1"},
                                               {2, "I"},
                                               {3, "W3^301^2^FAC1"},
                                               {6, "W2^201^1"},
                                               {7, "D100^Li^Ming^^^Dr"},
                                               {10, "MED"},
                                               {19, "V789^^^FAC1^VN"},
                                               {44, "20240301090000+0800"}};
const std::string kPv1 = Seg("PV1", kPv1Fields);

TEST(Hl7Mapping, AdtA01PatientAndEncounter) {
  std::string raw = Adt("A01", kPv1);
  MappingResult r = MapRawToFhir(raw);
  ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
  EXPECT_TRUE(r.mapped);
  EXPECT_TRUE(r.demographics_authoritative);
  EXPECT_EQ(r.message_type, "ADT^A01");
  EXPECT_EQ(r.control_id, "CTL-A01");
  EXPECT_EQ(r.source, "urn:haip:hl7v2:" + crypto::Sha256Hex(raw));
  ASSERT_EQ(Types(r), (std::vector<std::string>{"Patient", "Encounter"}));
  const Json& p = *Find(r, "Patient");
  EXPECT_EQ(p["id"], ResourceId("Patient", "FAC1^^", "MRN001^HOSP^2.16.156.1"));
  EXPECT_EQ(p["id"].get<std::string>().size(), 32u);
  EXPECT_EQ(p["meta"]["source"], r.source);
  EXPECT_EQ(p["identifier"][0]["system"], "urn:oid:2.16.156.1");
  EXPECT_EQ(p["identifier"][0]["value"], "MRN001");
  EXPECT_EQ(p["identifier"][0]["type"]["coding"][0]["code"], "MR");
  EXPECT_EQ(p["identifier"][1]["system"], "urn:haip:hl7v2:assigning-authority:CHNID");
  EXPECT_EQ(p["name"][0]["family"], "张");
  EXPECT_EQ(p["name"][0]["given"][0], "三");
  EXPECT_EQ(p["name"][0]["text"], "张三");
  EXPECT_EQ(p["name"][0]["use"], "official");
  EXPECT_EQ(p["name"][1]["text"], "San Zhang");
  EXPECT_EQ(p["gender"], "male");
  EXPECT_EQ(p["birthDate"], "1980-01-01");
  EXPECT_EQ(p["address"][0]["line"], Json::array({"88 Nanjing Rd", "Apt 5"}));
  EXPECT_EQ(p["address"][0]["city"], "Shanghai");
  EXPECT_EQ(p["address"][0]["district"], "Huangpu");
  EXPECT_EQ(p["address"][0]["postalCode"], "200000");
  EXPECT_EQ(p["address"][0]["use"], "home");
  EXPECT_EQ(p["telecom"][0], (Json{{"system", "phone"}, {"value", "021-5555"}, {"use", "home"}}));
  EXPECT_EQ(p["telecom"][1], (Json{{"system", "email"}, {"value", "z@x.cn"}, {"use", "home"}}));
  EXPECT_EQ(p["telecom"][2],
            (Json{{"system", "phone"}, {"value", "(21)66667777"}, {"use", "work"}}));
  EXPECT_EQ(p["maritalStatus"]["coding"][0]["code"], "M");

  const Json& e = *Find(r, "Encounter");
  EXPECT_EQ(e["class"]["code"], "IMP");
  EXPECT_EQ(e["status"], "in-progress");
  EXPECT_EQ(e["subject"]["reference"], "Patient/" + p["id"].get<std::string>());
  EXPECT_EQ(e["identifier"][0]["value"], "V789");
  EXPECT_EQ(e["period"]["start"], "2024-03-01T09:00:00+08:00");
  EXPECT_FALSE(e["period"].contains("end"));
  ASSERT_EQ(e["location"].size(), 1u);
  EXPECT_EQ(e["location"][0]["location"]["display"], "W3 301 2");
  EXPECT_EQ(e["location"][0]["status"], "active");
  EXPECT_EQ(e["participant"][0]["type"][0]["coding"][0]["code"], "ATND");
  EXPECT_EQ(e["participant"][0]["individual"]["display"], "Dr Ming Li");
  EXPECT_EQ(e["participant"][0]["individual"]["identifier"]["value"], "D100");
  EXPECT_EQ(e["meta"]["source"], r.source);
  for (const Json& j : r.resources) EXPECT_NO_THROW(j.dump());
}

TEST(Hl7Mapping, IdsAreDeterministicAcrossMessages) {
  MappingResult a = MapRawToFhir(Adt("A01", kPv1));
  MappingResult b = MapRawToFhir(Adt("A01", kPv1));
  EXPECT_EQ(a.resources, b.resources);
  // A later transfer and discharge of the same visit update the same resources.
  MappingResult t = MapRawToFhir(Adt("A02", kPv1));
  EXPECT_EQ((*Find(t, "Patient"))["id"], (*Find(a, "Patient"))["id"]);
  EXPECT_EQ((*Find(t, "Encounter"))["id"], (*Find(a, "Encounter"))["id"]);
  EXPECT_NE(t.source, a.source);
  // Another facility is another namespace.
  std::string other = Adt("A01", kPv1);
  other.replace(other.find("FAC1"), 4, "FAC2");
  EXPECT_NE((*Find(MapRawToFhir(other), "Patient"))["id"], (*Find(a, "Patient"))["id"]);
}

TEST(Hl7Mapping, AdtA02TransferHasNewAndPriorLocation) {
  MappingResult r = MapRawToFhir(Adt("A02", kPv1));
  ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
  const Json& e = *Find(r, "Encounter");
  ASSERT_EQ(e["location"].size(), 2u);
  EXPECT_EQ(e["location"][0]["location"]["display"], "W3 301 2");
  EXPECT_EQ(e["location"][0]["status"], "active");
  EXPECT_EQ(e["location"][1]["location"]["display"], "W2 201 1");
  EXPECT_EQ(e["location"][1]["status"], "completed");
}

TEST(Hl7Mapping, AdtA03FinishesTheEncounter) {
  MappingResult r = MapRawToFhir(Adt("A03", kPv1));
  const Json& e = *Find(r, "Encounter");
  EXPECT_EQ(e["status"], "finished");
  EXPECT_EQ(e["period"]["end"], "2024-03-01T10:10:00+08:00");  // EVN-6: no PV1-45
  auto fields = kPv1Fields;
  fields[45] = "20240305120000";
  MappingResult r2 = MapRawToFhir(Adt("A03", Seg("PV1", fields)));
  EXPECT_EQ((*Find(r2, "Encounter"))["period"]["end"], "2024-03-05T12:00:00+08:00");
}

TEST(Hl7Mapping, AdtA04AndA08Classes) {
  MappingResult r = MapRawToFhir(Adt("A04", "PV1|1|O|CLINIC\r"));
  ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
  EXPECT_EQ((*Find(r, "Encounter"))["class"]["code"], "AMB");
  MappingResult e = MapRawToFhir(Adt("A08", "PV1|1|E\r"));
  ASSERT_EQ(e.ack, AckCode::kAA) << e.error;
  EXPECT_EQ((*Find(e, "Encounter"))["class"]["code"], "EMER");
  EXPECT_EQ(Types(e), (std::vector<std::string>{"Patient", "Encounter"}));
}

TEST(Hl7Mapping, AdtA40Merge) {
  std::string raw =
      "MSH|^~\\&|HIS|FAC1|HAIP|LAKE|20240301||ADT^A40^ADT_A39|M1|P|2.5\r"
      "EVN|A40|20240301\r"
      "PID|1||KEEP^^^HOSP^MR||Wang^Wu\r"
      "MRG|GONE^^^HOSP^MR\r";
  MappingResult r = MapRawToFhir(raw);
  ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
  ASSERT_EQ(r.merges.size(), 1u);
  EXPECT_EQ(r.merges[0].surviving_patient_id, ResourceId("Patient", "FAC1^^", "KEEP^HOSP^"));
  EXPECT_EQ(r.merges[0].merged_patient_id, ResourceId("Patient", "FAC1^^", "GONE^HOSP^"));
  ASSERT_EQ(Types(r), (std::vector<std::string>{"Patient"}));
  EXPECT_EQ(r.resources[0]["id"], r.merges[0].surviving_patient_id);

  MappingResult bad = MapRawToFhir(raw.substr(0, raw.find("MRG")));
  EXPECT_EQ(bad.ack, AckCode::kAE);
  EXPECT_NE(bad.error.find("MRG"), std::string::npos);
  EXPECT_TRUE(bad.resources.empty());
}

const std::string kOru =
    "MSH|^~\\&|LIS|LAB|HAIP|LAKE|20240302080000||ORU^R01^ORU_R01|R1|P|2.5.1\r"
    "PID|1||MRN001^^^HOSP^MR||Zhang^San\r" +
    Seg("OBR", {{1, "1"},
                {2, "PL1^HIS"},
                {3, "FL1^LIS"},
                {4, "57021-8^CBC W Auto Differential panel^LN"},
                {7, "20240302073000+0800"},
                {25, "F"}}) +
    "OBX|1|NM|718-7^Hemoglobin^LN||12.5|g/dL^grams per "
    "deciliter^UCUM|13.5-17.5|L|||F|||20240302074500+0800\r"
    "NTE|1||Repeat advised\r"
    "OBX|2|NM|26464-8^WBC^LN||<0.5|x10E9/L|4 to 10|LL~A|||C\r"
    "OBX|3|ST|8251-1^Comment^LN||Sample slightly hemolysed||||||P\r"
    "OBX|4|CWE|600-7^Bacteria identified^LN||3092008^Staphylococcus aureus^SCT||||||F\r"
    "OBX|5|TX|11526-1^Pathology study^LN||line one~line two||||||F\r";

TEST(Hl7Mapping, OruR01ReportAndObservations) {
  MappingResult r = MapRawToFhir(kOru);
  ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
  EXPECT_FALSE(r.demographics_authoritative);
  ASSERT_EQ(Types(r),
            (std::vector<std::string>{"Patient", "DiagnosticReport", "Observation", "Observation",
                                      "Observation", "Observation", "Observation"}));
  const Json& report = *Find(r, "DiagnosticReport");
  EXPECT_EQ(report["status"], "final");
  EXPECT_EQ(report["code"]["coding"][0]["system"], "http://loinc.org");
  EXPECT_EQ(report["code"]["coding"][0]["code"], "57021-8");
  EXPECT_EQ(report["effectiveDateTime"], "2024-03-02T07:30:00+08:00");
  EXPECT_EQ(report["identifier"][0]["value"], "PL1");
  EXPECT_EQ(report["identifier"][1]["type"]["coding"][0]["code"], "FILL");
  ASSERT_EQ(report["result"].size(), 5u);
  EXPECT_EQ(report["result"][0]["reference"],
            "Observation/" + (*Find(r, "Observation"))["id"].get<std::string>());

  const Json& hb = *Find(r, "Observation", 0);
  EXPECT_EQ(hb["status"], "final");
  EXPECT_EQ(hb["code"]["coding"][0],
            (Json{{"system", "http://loinc.org"}, {"code", "718-7"}, {"display", "Hemoglobin"}}));
  EXPECT_EQ(hb["valueQuantity"], (Json{{"value", 12.5},
                                       {"unit", "grams per deciliter"},
                                       {"system", "http://unitsofmeasure.org"},
                                       {"code", "g/dL"}}));
  EXPECT_EQ(hb["referenceRange"][0]["low"]["value"], 13.5);
  EXPECT_EQ(hb["referenceRange"][0]["high"]["code"], "g/dL");
  EXPECT_EQ(hb["referenceRange"][0]["text"], "13.5-17.5");
  EXPECT_EQ(hb["interpretation"][0]["coding"][0]["code"], "L");
  EXPECT_EQ(hb["effectiveDateTime"], "2024-03-02T07:45:00+08:00");
  EXPECT_EQ(hb["note"][0]["text"], "Repeat advised");
  EXPECT_EQ(hb["subject"], report["subject"]);

  const Json& wbc = *Find(r, "Observation", 1);
  EXPECT_EQ(wbc["valueQuantity"], (Json{{"value", 0.5}, {"comparator", "<"}, {"unit", "x10E9/L"}}));
  EXPECT_EQ(wbc["status"], "corrected");
  EXPECT_EQ(wbc["interpretation"].size(), 2u);
  EXPECT_EQ(wbc["referenceRange"][0]["low"]["value"], 4);
  EXPECT_EQ(wbc["effectiveDateTime"], "2024-03-02T07:30:00+08:00");  // from OBR-7

  EXPECT_EQ((*Find(r, "Observation", 2))["valueString"], "Sample slightly hemolysed");
  EXPECT_EQ((*Find(r, "Observation", 2))["status"], "preliminary");
  const Json& cwe = *Find(r, "Observation", 3);
  EXPECT_EQ(cwe["valueCodeableConcept"]["coding"][0]["system"], "http://snomed.info/sct");
  EXPECT_EQ(cwe["valueCodeableConcept"]["coding"][0]["code"], "3092008");
  EXPECT_EQ((*Find(r, "Observation", 4))["valueString"], "line one\nline two");
  for (const Json& j : r.resources) EXPECT_EQ(j["meta"]["source"], r.source);
}

TEST(Hl7Mapping, OruMissingObx3IsAe) {
  std::string raw = kOru;
  raw.replace(raw.find("718-7^Hemoglobin^LN"), 19, "");
  MappingResult r = MapRawToFhir(raw);
  EXPECT_EQ(r.ack, AckCode::kAE);
  EXPECT_NE(r.error.find("OBX-3"), std::string::npos);
  EXPECT_TRUE(r.resources.empty());
  Message ack = Message::Parse(AckFor(raw, r));
  EXPECT_EQ(ack.Get("MSA", 1), "AE");
  EXPECT_EQ(ack.Get("MSA", 2), "R1");
  EXPECT_NE(ack.Get("ERR", 8).find("OBX-3"), std::string::npos);
}

TEST(Hl7Mapping, OrmAndOmlServiceRequests) {
  std::string orm =
      "MSH|^~\\&|HIS|FAC1|LIS|LAB|20240302||ORM^O01|O1|P|2.3\r"
      "PID|1||MRN001^^^HOSP^MR\r"
      "ORC|NW|PL7^HIS|FL7^LIS||IP||||20240302081500|||D200^Zhao^Liu\r"
      "OBR|1|PL7^HIS|FL7^LIS|24331-1^Lipid panel^LN\r"
      "ORC|CA|PL8^HIS\r" +
      Seg("OBR", {{1, "2"}, {2, "PL8^HIS"}, {4, "2093-3^Cholesterol^LN"}, {16, "D300^Qian^Ba"}});
  MappingResult r = MapRawToFhir(orm);
  ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
  ASSERT_EQ(Types(r), (std::vector<std::string>{"Patient", "ServiceRequest", "ServiceRequest"}));
  const Json& a = *Find(r, "ServiceRequest", 0);
  EXPECT_EQ(a["status"], "active");
  EXPECT_EQ(a["intent"], "order");
  EXPECT_EQ(a["code"]["coding"][0]["code"], "24331-1");
  EXPECT_EQ(a["identifier"][0]["value"], "PL7");
  EXPECT_EQ(a["identifier"][0]["type"]["coding"][0]["code"], "PLAC");
  EXPECT_EQ(a["identifier"][0]["system"], "urn:haip:hl7v2:assigning-authority:HIS");
  EXPECT_EQ(a["identifier"][1]["value"], "FL7");
  EXPECT_EQ(a["requester"]["display"], "Liu Zhao");
  EXPECT_EQ(a["authoredOn"], "2024-03-02T08:15:00+08:00");
  EXPECT_EQ(a["id"], ResourceId("ServiceRequest", "FAC1^^", "placer|PL7^HIS"));
  const Json& b = *Find(r, "ServiceRequest", 1);
  EXPECT_EQ(b["status"], "revoked");
  EXPECT_EQ(b["requester"]["display"], "Ba Qian");

  std::string oml =
      "MSH|^~\\&|HIS|FAC1|LIS|LAB|20240302||OML^O21^OML_O21|O2|P|2.5.1\r"
      "PID|1||MRN001^^^HOSP^MR\r"
      "OBR|1|PL9^HIS||88888-8^Panel^LN\r";
  MappingResult o = MapRawToFhir(oml);
  ASSERT_EQ(o.ack, AckCode::kAA) << o.error;
  ASSERT_EQ(Types(o), (std::vector<std::string>{"Patient", "ServiceRequest"}));
  EXPECT_EQ((*Find(o, "ServiceRequest"))["status"], "active");

  MappingResult none =
      MapRawToFhir("MSH|^~\\&|HIS|FAC1|LIS|LAB|20240302||ORM^O01|O3|P|2.3\rPID|1||M^^^H^MR\r");
  EXPECT_EQ(none.ack, AckCode::kAE);
  EXPECT_NE(none.error.find("ORC"), std::string::npos);
}

TEST(Hl7Mapping, AckRules) {
  // Not HL7: AR.
  for (std::string raw :
       {std::string(""), std::string("hello"), std::string("MSH|^~"),
        std::string("\x01\x02\x03MSH|^~\\&"), std::string("MSH|^~\\&|A\rbad line\r")}) {
    MappingResult r = MapRawToFhir(raw);
    EXPECT_EQ(r.ack, AckCode::kAR) << raw;
    EXPECT_TRUE(r.resources.empty());
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(Message::Parse(AckFor(raw, r)).Get("MSA", 1), "AR");
  }
  EXPECT_EQ(MapRawToFhir("MSH|^~\\&|A|B|C|D|t||^|C1|P|2.5\r").ack, AckCode::kAR);
  // Missing what the mapping needs: AE naming the field.
  MappingResult no_pid3 = MapRawToFhir("MSH|^~\\&|A|B|C|D|t||ADT^A01|C1|P|2.5\rPID|1||\rPV1|1|I\r");
  EXPECT_EQ(no_pid3.ack, AckCode::kAE);
  EXPECT_EQ(no_pid3.error, "PID-3 patient identifier missing");
  MappingResult no_pv1 = MapRawToFhir("MSH|^~\\&|A|B|C|D|t||ADT^A01|C1|P|2.5\rPID|1||5\r");
  EXPECT_EQ(no_pv1.ack, AckCode::kAE);
  EXPECT_EQ(no_pv1.error, "PV1 segment missing");
  // Not UTF-8: AE.
  MappingResult gbk = MapRawToFhir(
      "MSH|^~\\&|A|B|C|D|t||ADT^A01|C1|P|2.5|||||CHN|GB 18030\rPID|1||5||\xD5\xC5\rPV1|1|I\r");
  EXPECT_EQ(gbk.ack, AckCode::kAE);
  EXPECT_NE(gbk.error.find("UTF-8"), std::string::npos);
  // Types the mapping does not cover: AA, nothing produced.
  MappingResult siu = MapRawToFhir("MSH|^~\\&|A|B|C|D|t||SIU^S12|C1|P|2.5\rSCH|1\r");
  EXPECT_EQ(siu.ack, AckCode::kAA);
  EXPECT_FALSE(siu.mapped);
  EXPECT_TRUE(siu.resources.empty());
  EXPECT_EQ(siu.message_type, "SIU^S12");
}

TEST(Hl7Mapping, EscapedBytesStayValidJson) {
  MappingResult r =
      MapRawToFhir("MSH|^~\\&|A|B|C|D|t||ADT^A01|C1|P|2.5\rPID|1||5||Bad\\XFF\\Name\rPV1|1|I\r");
  ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
  EXPECT_EQ(r.resources[0]["name"][0]["family"], "Bad\xEF\xBF\xBDName");
  EXPECT_NO_THROW(r.resources[0].dump());
}

TEST(Hl7Time, ToFhirKeepsPrecision) {
  EXPECT_EQ(HL7TimeToFhir("2024"), "2024");
  EXPECT_EQ(HL7TimeToFhir("202403"), "2024-03");
  EXPECT_EQ(HL7TimeToFhir("20240301"), "2024-03-01");
  EXPECT_EQ(HL7TimeToFhir("20240301+0800"), "2024-03-01");
  EXPECT_EQ(HL7TimeToFhir("2024030114"), "2024-03-01T14:00:00+08:00");
  EXPECT_EQ(HL7TimeToFhir("202403011405"), "2024-03-01T14:05:00+08:00");
  EXPECT_EQ(HL7TimeToFhir("20240301140506", "Z"), "2024-03-01T14:05:06Z");
  EXPECT_EQ(HL7TimeToFhir("20240301140506.1234-0500"), "2024-03-01T14:05:06.1234-05:00");
  EXPECT_EQ(HL7TimeToFhir("198908181126+0215"), "1989-08-18T11:26:00+02:15");
  EXPECT_EQ(HL7TimeToFhir(" 20240301 "), "2024-03-01");
  for (const char* bad : {"", "20", "20241301", "20240230", "2024030125", "20240301146", "abc",
                          "20240301+08", "2024.5", "20240301120000.", "0000"}) {
    EXPECT_EQ(HL7TimeToFhir(bad), "") << bad;
  }
  EXPECT_EQ(HL7TimeToFhir("20240229"), "2024-02-29");
  EXPECT_EQ(HL7TimeToFhirDate("198808181126+0215"), "1988-08-18");
  EXPECT_EQ(HL7TimeToFhirDate("1988"), "1988");
}

TEST(Hl7Ucum, CommonUnits) {
  for (const char* ok : {"g/dL",   "mg/dl",     "mmol/L", "10*9/L",     "10*6/uL",
                         "%",      "fL",        "pg",     "{cells}/uL", "mm[Hg]",
                         "/[HPF]", "[IU]/L",    "U/L",    "kg/m2",      "mL/min/{1.73_m2}",
                         "s-1",    "ug/(24.h)", "Cel",    "[degF]",     "1",
                         "mL/min"}) {
    EXPECT_TRUE(IsUcumUnit(ok)) << ok;
  }
  for (const char* bad :
       {"", "x10E9/L", "cells/uL", "beats/min", "mg/dl ", "tera.l-1", "g//L", "(mg", "{x"}) {
    EXPECT_FALSE(IsUcumUnit(bad)) << bad;
  }
}

}  // namespace
}  // namespace haip::lake::hl7v2
