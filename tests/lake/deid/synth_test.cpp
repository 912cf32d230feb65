// The must-show: de-identify a whole synthetic hospital and prove that none
// of its names, ID numbers, phone numbers or exact dates survive, that
// pseudonyms are stable per key, references still resolve and clinical
// values are untouched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lake/deid/deid.h"
#include "synth/generator.h"

namespace haip::lake::deid {
namespace {

namespace fs = std::filesystem;

constexpr char kKey[] = "synth-test-key-0123456789abcdef";
constexpr uint64_t kPatients = 300;

std::string Base64Decode(std::string_view s) {
  static const std::string a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    size_t p = a.find(c);
    if (p == std::string::npos) continue;
    acc = (acc << 6) | static_cast<uint32_t>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// The JSON text of a resource plus its decoded text attachments: everything a
// reader of the export could see.
std::string Visible(const Json& r) {
  std::string out = r.dump();
  if (auto c = r.find("content"); c != r.end() && c->is_array())
    for (const Json& e : *c)
      if (e.contains("attachment") && e["attachment"].contains("data"))
        out += "\n" + Base64Decode(e["attachment"]["data"].get<std::string>());
  return out;
}

bool D(char c) { return c >= '0' && c <= '9'; }

// Calendar dates written as YYYY-MM-DD or YYYY年MM月DD日, normalised to YYYY-MM-DD.
std::set<std::string> DatesIn(std::string_view t) {
  std::set<std::string> out;
  const std::string_view nian = "年", yue = "月";
  for (size_t i = 0; i + 10 <= t.size(); ++i) {
    if (!(D(t[i]) && D(t[i + 1]) && D(t[i + 2]) && D(t[i + 3]))) continue;
    if (i > 0 && D(t[i - 1])) continue;
    std::string_view y = t.substr(i, 4);
    if (t[i + 4] == '-' && D(t[i + 5]) && D(t[i + 6]) && t[i + 7] == '-' && D(t[i + 8]) &&
        D(t[i + 9])) {
      out.insert(std::string(t.substr(i, 10)));
    } else if (t.substr(i + 4, 3) == nian && i + 18 <= t.size() && D(t[i + 7]) && D(t[i + 8]) &&
               t.substr(i + 9, 3) == yue && D(t[i + 12]) && D(t[i + 13])) {
      out.insert(std::string(y) + "-" + std::string(t.substr(i + 7, 2)) + "-" +
                 std::string(t.substr(i + 12, 2)));
    }
  }
  return out;
}

std::string ShiftIso(const std::string& date, int days) {
  int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(5, 2)),
      d = std::stoi(date.substr(8, 2));
  std::chrono::sys_days sd = std::chrono::year(y) / m / d;
  std::chrono::year_month_day r{sd + std::chrono::days(days)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(r.year()) % 10000,
                static_cast<unsigned>(r.month()) % 100, static_cast<unsigned>(r.day()) % 100);
  return buf;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

struct Hospital {
  std::map<std::string, std::vector<Json>> by_type;
  std::vector<Json> all;
};

class SynthDeid : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::temp_directory_path() / ("haip-deid-synth-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    synth::SynthOptions o;
    o.patients = kPatients;
    o.seed = 11;
    o.out_dir = *dir_;
    synth::Generate(o);
    hospital_ = new Hospital;
    for (std::string_view type : synth::kResourceTypes) {
      std::ifstream in(*dir_ / (std::string(type) + ".ndjson"));
      std::string line;
      while (std::getline(in, line)) {
        Json r = Json::parse(line);
        hospital_->by_type[std::string(type)].push_back(r);
        hospital_->all.push_back(std::move(r));
      }
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete hospital_;
  }

  // Learn every Patient and Practitioner, then apply on two threads.
  static std::vector<Json> Export(const Deidentifier& d) {
    std::vector<Json> out(hospital_->all.size());
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 2; ++t)
      threads.emplace_back([&, t] {
        for (size_t i = t; i < out.size(); i += 2) out[i] = d.Apply(hospital_->all[i]);
      });
    for (auto& th : threads) th.join();
    return out;
  }

  static std::unique_ptr<Deidentifier> Make(const std::string& key) {
    DeidProfile p;
    p.reference_date = "2026-01-01";
    auto d = std::make_unique<Deidentifier>(key, p);
    for (const Json& r : hospital_->all) d->Learn(r);
    return d;
  }

  static fs::path* dir_;
  static Hospital* hospital_;
};

fs::path* SynthDeid::dir_ = nullptr;
Hospital* SynthDeid::hospital_ = nullptr;

std::string PatientOf(const Json& r) {
  if (r["resourceType"] == "Patient") return r["id"];
  std::string ref = r.contains("subject") ? r["subject"].value("reference", "") : "";
  return ref.rfind("Patient/", 0) == 0 ? ref.substr(8) : "";
}

TEST_F(SynthDeid, NoNameIdNumberPhoneOrOriginalDateSurvives) {
  auto d = Make(kKey);
  std::vector<Json> out = Export(*d);
  ASSERT_EQ(out.size(), hospital_->all.size());

  // What each patient's resources looked like before and after.
  std::map<std::string, std::string> visible_by_patient;  // original id -> output text
  std::map<std::string, std::set<std::string>> dates_in, dates_out;
  std::string all_visible;
  for (size_t i = 0; i < out.size(); ++i) {
    std::string v = Visible(out[i]);
    std::string pid = PatientOf(hospital_->all[i]);
    all_visible += v;
    all_visible += '\n';
    if (pid.empty()) continue;
    visible_by_patient[pid] += v;
    for (const auto& date : DatesIn(Visible(hospital_->all[i]))) dates_in[pid].insert(date);
    for (const auto& date : DatesIn(v)) dates_out[pid].insert(date);
  }

  size_t names_checked = 0, ids_checked = 0, phones_checked = 0, dates_checked = 0,
         coincidences = 0;
  for (const Json& p : hospital_->by_type["Patient"]) {
    std::string pid = p["id"];
    const std::string& mine = visible_by_patient[pid];
    const Json& n = p["name"][0];
    std::string full = n["family"].get<std::string>() + n["given"][0].get<std::string>();
    ASSERT_EQ(full, n["text"].get<std::string>());
    // Three-character names are unique enough to search the whole export;
    // two-character ones are searched in the patient's own resources.
    if (CodePoints(full) >= 3) {
      EXPECT_EQ(all_visible.find(full), std::string::npos) << full;
    }
    EXPECT_EQ(mine.find(full), std::string::npos) << full;
    ++names_checked;
    for (const Json& id : p["identifier"]) {
      std::string v = id["value"];
      EXPECT_EQ(all_visible.find(v), std::string::npos) << v;
      ++ids_checked;
    }
    for (const Json& t : p["telecom"]) {
      std::string v = t["value"];
      EXPECT_EQ(all_visible.find(v), std::string::npos) << v;
      ++phones_checked;
    }
    for (const Json& a : p["address"])
      for (const Json& line : a["line"])
        EXPECT_EQ(all_visible.find(line.get<std::string>()), std::string::npos);

    // Dates: every date in the patient's output is one of its original dates
    // shifted, and no original date appears unless it also happens to be a
    // shifted one (the shift equals the distance between two of its dates).
    int shift = d->ShiftDays(pid);
    ASSERT_NE(shift, 0);
    std::set<std::string> shifted;
    for (const auto& date : dates_in[pid]) shifted.insert(ShiftIso(date, shift));
    for (const auto& date : dates_out[pid])
      EXPECT_TRUE(shifted.count(date)) << pid << " has unexpected date " << date;
    for (const auto& date : dates_in[pid]) {
      ++dates_checked;
      if (shifted.count(date)) {
        ++coincidences;
        continue;
      }
      EXPECT_EQ(dates_out[pid].count(date), 0u) << pid << " leaks " << date;
    }
    EXPECT_GE(dates_in[pid].size(), 2u);
  }
  for (const Json& prac : hospital_->by_type["Practitioner"]) {
    std::string full = prac["name"][0]["text"];
    EXPECT_EQ(all_visible.find(full), std::string::npos) << full;
    ++names_checked;
    std::string licence = prac["identifier"][0]["value"];
    EXPECT_EQ(all_visible.find(licence), std::string::npos) << licence;
    ++ids_checked;
  }
  // Original resource ids are gone too, from ids and references alike.
  std::set<std::string> original_ids;
  for (const Json& r : hospital_->all) original_ids.insert(r["id"].get<std::string>());
  for (const Json& r : out) {
    EXPECT_EQ(original_ids.count(r["id"].get<std::string>()), 0u);
    for (const char* k : {"subject", "encounter"})
      if (r.contains(k)) {
        std::string ref = r[k]["reference"];
        EXPECT_EQ(original_ids.count(ref.substr(ref.find('/') + 1)), 0u) << ref;
      }
  }
  EXPECT_EQ(names_checked, kPatients + hospital_->by_type["Practitioner"].size());
  EXPECT_EQ(ids_checked, 2 * kPatients + hospital_->by_type["Practitioner"].size());
  EXPECT_EQ(phones_checked, kPatients);
  EXPECT_LT(coincidences * 20, dates_checked);  // coincidences are rare
  std::printf(
      "checked %zu names, %zu identifiers, %zu phone numbers, %zu dates "
      "(%zu equal to another shifted date of the same patient) in %zu resources\n",
      names_checked, ids_checked, phones_checked, dates_checked, coincidences, out.size());
}

TEST_F(SynthDeid, PseudonymsAreStablePerKey) {
  auto a = Make(kKey);
  auto b = Make(kKey);
  auto c = Make("a-different-key-0123456789");
  std::set<std::string> ids;
  for (const Json& p : hospital_->by_type["Patient"]) {
    Json pa = a->Apply(p), pb = b->Apply(p), pc = c->Apply(p);
    EXPECT_EQ(pa, pb);
    EXPECT_NE(pa["id"], pc["id"]);
    EXPECT_NE(pa["identifier"], pc["identifier"]);
    EXPECT_NE(pa["id"], p["id"]);
    ids.insert(pa["id"]);
  }
  EXPECT_EQ(ids.size(), kPatients);  // no collisions
}

TEST_F(SynthDeid, ReferencesResolveAndClinicalValuesSurvive) {
  auto d = Make(kKey);
  std::vector<Json> out = Export(*d);
  std::set<std::string> targets;
  for (const Json& r : out)
    targets.insert(r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>());
  size_t refs = 0;
  std::function<void(const Json&)> walk = [&](const Json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "reference" && it->is_string()) {
          EXPECT_TRUE(targets.count(it->get<std::string>())) << *it;
          ++refs;
        } else {
          walk(*it);
        }
      }
    } else if (j.is_array()) {
      for (const Json& e : j) walk(e);
    }
  };
  for (const Json& r : out) walk(r);
  EXPECT_GT(refs, out.size());

  size_t values = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const Json& in = hospital_->all[i];
    const Json& o = out[i];
    for (const char* k : {"code", "valueQuantity", "component", "category", "interpretation",
                          "referenceRange", "medicationCodeableConcept", "dosageInstruction",
                          "class", "clinicalStatus", "verificationStatus", "status", "type"}) {
      if (!in.contains(k)) continue;
      EXPECT_EQ(o[k], in[k]) << in["id"] << " " << k;
      ++values;
    }
    // Time of day and durations survive the shift.
    if (in.contains("period") && in["period"].contains("end")) {
      std::string s0 = in["period"]["start"], e0 = in["period"]["end"];
      std::string s1 = o["period"]["start"], e1 = o["period"]["end"];
      EXPECT_EQ(s0.substr(10), s1.substr(10));
      EXPECT_EQ(e0.substr(10), e1.substr(10));
      EXPECT_EQ(ShiftIso(s0.substr(0, 10), d->ShiftDays(PatientOf(in))), s1.substr(0, 10));
      EXPECT_EQ(ShiftIso(e0.substr(0, 10), d->ShiftDays(PatientOf(in))), e1.substr(0, 10));
    }
  }
  EXPECT_GT(values, out.size());

  // Notes keep their clinical body: diagnoses, vital signs and drugs.
  size_t notes = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i]["resourceType"] != "DocumentReference") continue;
    std::string before =
        Base64Decode(hospital_->all[i]["content"][0]["attachment"]["data"].get<std::string>());
    std::string after = Base64Decode(out[i]["content"][0]["attachment"]["data"].get<std::string>());
    for (const char* marker : {"诊断：", "体格检查：", "mmHg", "次/分"}) {
      EXPECT_EQ(before.find(marker) != std::string::npos, after.find(marker) != std::string::npos)
          << marker << "\n"
          << after;
    }
    EXPECT_NE(after.find("姓名：[姓名]"), std::string::npos) << after;
    size_t diag = before.find("诊断：");
    if (diag != std::string::npos) {
      std::string line = before.substr(diag, before.find('\n', diag) - diag);
      EXPECT_NE(after.find(line), std::string::npos) << line << "\n" << after;
    }
    ++notes;
  }
  EXPECT_EQ(notes, hospital_->by_type["DocumentReference"].size());
}

}  // namespace
}  // namespace haip::lake::deid
