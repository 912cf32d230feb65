// Runs every message of the shared sample corpus (../shared/data/hl7v2, the
// Microsoft FHIR-Converter samples; see its README.md and manifest.csv)
// through the parser and the mapping.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "lake/hl7v2/mapping.h"

namespace haip::lake::hl7v2 {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = HAIP_HL7V2_CORPUS_DIR;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// manifest.csv: file, bytes, utf8_bom, messages, msh9_message_type, msh12_version, segments
std::map<std::string, std::string> ManifestTypes() {
  std::map<std::string, std::string> out;
  std::istringstream in(ReadFile(kDir / "manifest.csv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cols.push_back(c);
    if (cols.size() >= 5) out[cols[0]] = cols[4];
  }
  return out;
}

// What each supported type must produce; the multiset of resource types
// is checked for presence, not count.
std::set<std::string> Expected(const std::string& type_trigger) {
  if (type_trigger == "ADT^A01" || type_trigger == "ADT^A02" || type_trigger == "ADT^A03" ||
      type_trigger == "ADT^A04" || type_trigger == "ADT^A08") {
    return {"Patient", "Encounter"};
  }
  if (type_trigger == "ADT^A40") return {"Patient"};
  if (type_trigger == "ORU^R01") return {"Patient", "DiagnosticReport", "Observation"};
  if (type_trigger == "ORM^O01" || type_trigger == "OML^O21") return {"Patient", "ServiceRequest"};
  return {};
}

// Samples that are themselves incomplete for the mapping: expected AE and
// the field it names.
const std::map<std::string, std::string> kKnownIncomplete = {
    // An OBX with value type ED and an empty OBX-3.
    {"ORU-R01-01.hl7", "OBX-3"},
};

class Corpus : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(kDir)) GTEST_SKIP() << "../shared/data/hl7v2 not present";
  }
  std::vector<fs::path> Files() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(kDir)) {
      if (e.path().extension() == ".hl7") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(Corpus, EveryFileParsesAndMapsAsExpected) {
  auto manifest = ManifestTypes();
  auto files = Files();
  ASSERT_FALSE(files.empty());
  size_t mapped = 0;
  std::map<std::string, size_t> produced;
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    std::string raw = ReadFile(path);
    Message msg = Message::Parse(raw);  // throws (fails the test) on any file
    ASSERT_TRUE(manifest.count(path.filename().string())) << "not in manifest.csv";
    // The manifest's MSH-9 agrees with the parser.
    std::string msh9 = manifest[path.filename().string()];
    EXPECT_EQ(msh9.substr(0, 7), msg.MessageType() + "^" + msg.TriggerEvent());

    MappingResult r = MapToFhir(msg);
    std::string tt = msg.MessageType() + "^" + msg.TriggerEvent();
    auto expected = Expected(tt);
    if (auto known = kKnownIncomplete.find(path.filename().string());
        known != kKnownIncomplete.end()) {
      EXPECT_EQ(r.ack, AckCode::kAE);
      EXPECT_NE(r.error.find(known->second), std::string::npos) << r.error;
      EXPECT_TRUE(r.resources.empty());
      continue;
    }
    ASSERT_EQ(r.ack, AckCode::kAA) << r.error;
    std::set<std::string> types;
    std::set<std::string> ids;
    for (const Json& j : r.resources) {
      types.insert(j["resourceType"]);
      ids.insert(j["resourceType"].get<std::string>() + "/" + j["id"].get<std::string>());
      EXPECT_EQ(j["meta"]["source"], r.source);
      EXPECT_NO_THROW(j.dump());
      ++produced[j["resourceType"]];
    }
    EXPECT_EQ(types, expected) << tt;
    EXPECT_EQ(r.mapped, !expected.empty());
    if (tt == "ADT^A40") {
      EXPECT_FALSE(r.merges.empty());
    }
    // Every reference points at a resource of the same message.
    for (const Json& j : r.resources) {
      if (j.contains("subject")) {
        EXPECT_TRUE(ids.count(j["subject"]["reference"].get<std::string>()));
      }
      if (j.contains("result")) {
        for (const Json& ref : j["result"])
          EXPECT_TRUE(ids.count(ref["reference"].get<std::string>()));
      }
    }
    // Idempotent: the same bytes map to the same resources.
    EXPECT_EQ(MapRawToFhir(raw).resources, r.resources);
    // The ACK parses and answers this message.
    Message ack = Message::Parse(AckFor(raw, r));
    EXPECT_EQ(ack.Get("MSA", 1), "AA");
    EXPECT_EQ(ack.Get("MSA", 2), msg.ControlId());
    if (!expected.empty()) ++mapped;
  }
  EXPECT_GE(mapped, 30u);
  EXPECT_GT(produced["Observation"], 20u);
  EXPECT_GT(produced["ServiceRequest"], 10u);
}

TEST_F(Corpus, MalformedVariantsAreRejected) {
  for (const auto& path : Files()) {
    SCOPED_TRACE(path.filename().string());
    std::string raw = ReadFile(path);
    size_t msh = raw.find("MSH");
    ASSERT_NE(msh, std::string::npos);
    // Truncated MSH, garbage in front, binary noise: AR, nothing produced.
    for (const std::string& bad :
         {raw.substr(0, msh + 6), "garbage\r" + raw.substr(msh),
          std::string("\x00\xFF\x13", 3) + raw, raw.substr(0, msh) + "MSH" + raw.substr(msh + 4)}) {
      MappingResult r = MapRawToFhir(bad);
      EXPECT_EQ(r.ack, AckCode::kAR) << r.error;
      EXPECT_TRUE(r.resources.empty());
      EXPECT_EQ(Message::Parse(AckFor(bad, r)).Get("MSA", 1), "AR");
    }
    // The PID segments removed: AE for the mapped types, naming PID.
    Message msg = Message::Parse(raw);
    if (Expected(msg.MessageType() + "^" + msg.TriggerEvent()).empty()) continue;
    std::string no_pid;
    std::istringstream lines(raw);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("PID|", 0) != 0) no_pid += line + "\n";
    }
    MappingResult r = MapRawToFhir(no_pid);
    EXPECT_EQ(r.ack, AckCode::kAE);
    EXPECT_NE(r.error.find("PID"), std::string::npos) << r.error;
    EXPECT_TRUE(r.resources.empty());
  }
}

}  // namespace
}  // namespace haip::lake::hl7v2
