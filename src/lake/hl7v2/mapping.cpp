#include "lake/hl7v2/mapping.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/crypto.h"
#include "core/error.h"

namespace haip::lake::hl7v2 {
namespace {

// Thrown inside the mappers when the message lacks what the mapping needs;
// becomes an AE with the text.
struct MissingData {
  std::string what;
};

[[noreturn]] void Missing(std::string what) { throw MissingData{std::move(what)}; }

// ---- text --------------------------------------------------------------

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Invalid sequences (possible after \X..\ escapes) become U+FFFD so every
// string can be serialized as JSON.
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// A field value ready for FHIR: trimmed, valid UTF-8, and the HL7 explicit
// null ("") read as empty.
std::string V(const Segment& s, size_t f, size_t r = 1, size_t c = 1, size_t sub = 1) {
  std::string v = Trim(s.Get(f, r, c, sub));
  if (v == "\"\"") return {};
  return SanitizeUtf8(v);
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// First code point of s is in a CJK block (names written family-first, no space).
bool StartsWithCjk(std::string_view s) {
  if (s.empty() || Utf8SequenceLength(s, 0) < 3) return false;
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i])); };
  uint32_t cp =
      Utf8SequenceLength(s, 0) == 3
          ? ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F)
          : ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  return (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x2FFFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
         (cp >= 0x3040 && cp <= 0x30FF);
}

// ---- time --------------------------------------------------------------

bool Digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int Num(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

struct HL7Time {
  std::string digits;    // 4..14 digits
  std::string fraction;  // digits after '.', only with seconds
  std::string offset;    // "+hh:mm" or ""
};

bool ParseHL7Time(std::string_view ts, HL7Time& out) {
  std::string s = Trim(ts);
  size_t tz = s.find_first_of("+-", 4);
  std::string body = s.substr(0, tz);
  if (tz != std::string::npos) {
    std::string_view z = std::string_view(s).substr(tz + 1);
    if (z.size() != 4 || !Digits(z) || Num(z.substr(0, 2)) > 14 || Num(z.substr(2)) > 59)
      return false;
    out.offset =
        std::string(1, s[tz]) + std::string(z.substr(0, 2)) + ":" + std::string(z.substr(2));
  }
  size_t dot = body.find('.');
  out.digits = body.substr(0, dot);
  if (dot != std::string::npos) {
    out.fraction = body.substr(dot + 1);
    if (!Digits(out.fraction) || out.fraction.size() > 9 || out.digits.size() != 14) return false;
  }
  const std::string& d = out.digits;
  if (!Digits(d) || d.size() < 4 || d.size() > 14 || d.size() % 2 != 0) return false;
  int y = Num(d.substr(0, 4));
  if (y < 1) return false;
  if (d.size() >= 6) {
    int m = Num(d.substr(4, 2));
    if (m < 1 || m > 12) return false;
    if (d.size() >= 8) {
      int day = Num(d.substr(6, 2));
      if (day < 1 || day > DaysInMonth(y, m)) return false;
    }
  }
  if (d.size() >= 10 && Num(d.substr(8, 2)) > 23) return false;
  if (d.size() >= 12 && Num(d.substr(10, 2)) > 59) return false;
  if (d.size() >= 14 && Num(d.substr(12, 2)) > 59) return false;
  return true;
}

// ---- FHIR building blocks ---------------------------------------------

std::string CodeSystemUri(const std::string& name) {
  static const std::map<std::string, std::string> kSystems = {
      {"LN", "http://loinc.org"},
      {"LOINC", "http://loinc.org"},
      {"SCT", "http://snomed.info/sct"},
      {"SNM", "http://snomed.info/sct"},
      {"SNM3", "http://snomed.info/sct"},
      {"SNOMED", "http://snomed.info/sct"},
      {"SNOMED CT", "http://snomed.info/sct"},
      {"I10", "http://hl7.org/fhir/sid/icd-10"},
      {"ICD10", "http://hl7.org/fhir/sid/icd-10"},
      {"I10C", "http://hl7.org/fhir/sid/icd-10-cm"},
      {"ICD10CM", "http://hl7.org/fhir/sid/icd-10-cm"},
      {"I9", "http://hl7.org/fhir/sid/icd-9-cm"},
      {"I9C", "http://hl7.org/fhir/sid/icd-9-cm"},
      {"UCUM", "http://unitsofmeasure.org"},
      {"C4", "http://www.ama-assn.org/go/cpt"},
      {"CPT", "http://www.ama-assn.org/go/cpt"},
      {"RXNORM", "http://www.nlm.nih.gov/research/umls/rxnorm"},
      {"RXN", "http://www.nlm.nih.gov/research/umls/rxnorm"},
      {"NDC", "http://hl7.org/fhir/sid/ndc"},
      {"CVX", "http://hl7.org/fhir/sid/cvx"},
  };
  if (name.empty()) return {};
  std::string key = Upper(name);
  if (auto it = kSystems.find(key); it != kSystems.end()) return it->second;
  if (key.size() == 7 && key.substr(0, 3) == "HL7" && Digits(key.substr(3))) {
    return "http://terminology.hl7.org/CodeSystem/v2-" + key.substr(3);
  }
  return "urn:haip:hl7v2:codesystem:" + PercentEncode(name);
}

bool LooksLikeOid(std::string_view s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return s.find('.') != std::string_view::npos;
}

// A system URI for an HD (namespace id, universal id, universal id type).
std::string SystemFromHd(const std::string& ns, const std::string& uid, const std::string& type) {
  if (!uid.empty()) {
    std::string t = Upper(type);
    if (t == "ISO" || LooksLikeOid(uid)) return "urn:oid:" + uid;
    if (t == "UUID" || t == "GUID") return "urn:uuid:" + uid;
    if (t == "URI" || t == "URL") return uid;
  }
  if (!ns.empty()) return "urn:haip:hl7v2:assigning-authority:" + PercentEncode(ns);
  return {};
}

Json Coding(const std::string& code, const std::string& display, const std::string& system_name) {
  Json c = Json::object();
  if (std::string sys = CodeSystemUri(system_name); !sys.empty()) c["system"] = sys;
  if (!code.empty()) c["code"] = code;
  if (!display.empty()) c["display"] = display;
  return c;
}

// CE/CWE/CNE: primary and alternate coding, original text (component 9).
Json CodeableConcept(const Segment& s, size_t f, size_t r = 1) {
  Json cc = Json::object();
  Json codings = Json::array();
  for (size_t base : {1u, 4u}) {
    std::string code = V(s, f, r, base);
    std::string display = V(s, f, r, base + 1);
    if (code.empty() && display.empty()) continue;
    if (code.empty()) continue;  // text only: goes to CodeableConcept.text
    codings.push_back(Coding(code, display, V(s, f, r, base + 2)));
  }
  if (!codings.empty()) cc["coding"] = codings;
  std::string text = V(s, f, r, 9);
  if (text.empty()) text = V(s, f, r, 2);
  if (text.empty() && codings.empty()) text = V(s, f, r, 1);
  if (!text.empty()) cc["text"] = text;
  return cc;
}

// A number as JSON: integers stay integers so they serialize without ".0".
bool ParseNumber(const std::string& text, Json& out) {
  std::string t = Trim(text);
  if (t.empty() || t.size() > 40) return false;
  bool integer = true;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if ((c == '+' || c == '-') && i == 0) continue;
    if (c == '.') {
      integer = false;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  if (t == "+" || t == "-" || t == "." || t == "+." || t == "-.") return false;
  if (integer) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0') {
      out = v;
      return true;
    }
  }
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (!end || *end != '\0' || !std::isfinite(v)) return false;
  out = v;
  return true;
}

// Unit from a CE/CWE: UCUM code and system when the code is valid UCUM.
void AddUnit(Json& quantity, const Segment& s, size_t f) {
  std::string code = V(s, f, 1, 1);
  std::string text = V(s, f, 1, 2);
  if (code.empty() && text.empty()) return;
  quantity["unit"] = text.empty() ? code : text;
  if (!code.empty() && IsUcumUnit(code)) {
    quantity["system"] = "http://unitsofmeasure.org";
    quantity["code"] = code;
  }
}

Json PersonDisplay(const Segment& s, size_t f, size_t r) {
  // XCN: 1 id, 2 family, 3 given, 4 middle, 5 suffix, 6 prefix.
  std::string id = V(s, f, r, 1);
  std::string family = V(s, f, r, 2);
  std::string given = V(s, f, r, 3);
  std::string middle = V(s, f, r, 4);
  std::string prefix = V(s, f, r, 6);
  std::string name;
  if (StartsWithCjk(family)) {
    name = family + given;
  } else {
    for (const std::string* p : {&prefix, &given, &middle, &family}) {
      if (p->empty()) continue;
      if (!name.empty()) name += ' ';
      name += *p;
    }
  }
  Json ref = Json::object();
  if (!name.empty()) ref["display"] = name;
  if (!id.empty()) {
    Json ident = {{"value", id}};
    std::string sys = SystemFromHd(V(s, f, r, 9, 1), V(s, f, r, 9, 2), V(s, f, r, 9, 3));
    if (!sys.empty()) ident["system"] = sys;
    ref["identifier"] = ident;
  }
  return ref;
}

// ---- context -----------------------------------------------------------

struct Context {
  const Message& msg;
  const MappingOptions& options;
  MappingResult& result;
  std::string facility;  // MSH-4, the namespace for every id

  Json Resource(const std::string& type, const std::string& key) const {
    return Json{{"resourceType", type},
                {"id", ResourceId(type, facility, key)},
                {"meta", {{"source", result.source}}}};
  }
  std::string Time(const std::string& ts) const {
    return HL7TimeToFhir(ts, options.default_utc_offset);
  }
};

// ---- Patient -----------------------------------------------------------

// The repetition of a CX field that identifies the patient: the first with
// identifier type MR, else the first with a value; 0 when none.
size_t PrimaryIdentifier(const Segment& s, size_t f) {
  size_t first = 0;
  for (size_t r = 1; r <= s.RepetitionCount(f); ++r) {
    if (V(s, f, r, 1).empty()) continue;
    if (Upper(V(s, f, r, 5)) == "MR") return r;
    if (first == 0) first = r;
  }
  return first;
}

// The identity of a patient within the facility: value and assigning authority.
std::string PatientKey(const Segment& s, size_t f, size_t r) {
  return V(s, f, r, 1) + "^" + V(s, f, r, 4, 1) + "^" + V(s, f, r, 4, 2);
}

Json Identifier(const Segment& s, size_t f, size_t r) {
  Json id = {{"value", V(s, f, r, 1)}};
  std::string sys = SystemFromHd(V(s, f, r, 4, 1), V(s, f, r, 4, 2), V(s, f, r, 4, 3));
  if (!sys.empty()) id["system"] = sys;
  if (std::string type = V(s, f, r, 5); !type.empty()) {
    id["type"] = {
        {"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v2-0203"},
                                 {"code", type}}})}};
  }
  return id;
}

Json HumanName(const Segment& s, size_t f, size_t r) {
  // XPN: 1 family (FN: 1 surname), 2 given, 3 further given, 4 suffix,
  // 5 prefix, 6 degree, 7 name type.
  std::string family = V(s, f, r, 1, 1);
  std::string given = V(s, f, r, 2);
  std::string middle = V(s, f, r, 3);
  Json name = Json::object();
  static const std::map<std::string, std::string> kUse = {
      {"L", "official"},  {"D", "usual"},     {"M", "maiden"}, {"N", "nickname"},
      {"A", "anonymous"}, {"S", "anonymous"}, {"C", "old"}};
  if (auto it = kUse.find(V(s, f, r, 7)); it != kUse.end()) name["use"] = it->second;
  if (!family.empty()) name["family"] = family;
  Json givens = Json::array();
  if (!given.empty()) givens.push_back(given);
  if (!middle.empty()) givens.push_back(middle);
  if (!givens.empty()) name["given"] = givens;
  if (std::string prefix = V(s, f, r, 5); !prefix.empty()) name["prefix"] = Json::array({prefix});
  Json suffix = Json::array();
  for (size_t c : {4u, 6u}) {
    if (std::string v = V(s, f, r, c); !v.empty()) suffix.push_back(v);
  }
  if (!suffix.empty()) name["suffix"] = suffix;
  std::string text;
  if (StartsWithCjk(family) || StartsWithCjk(given)) {
    text = family + given + middle;  // 张三: family first, no spaces
  } else {
    for (const std::string* p : {&given, &middle, &family}) {
      if (p->empty()) continue;
      if (!text.empty()) text += ' ';
      text += *p;
    }
  }
  if (!text.empty()) name["text"] = text;
  return name;
}

Json Address(const Segment& s, size_t f, size_t r) {
  // XAD: 1 street (SAD: 1 street line), 2 other designation, 3 city,
  // 4 state/province, 5 postal code, 6 country, 7 type, 9 county/district.
  Json a = Json::object();
  Json lines = Json::array();
  // SAD: 1 street or mailing address, 2 street name, 3 dwelling number;
  // senders split "1000&Hospital Lane" so the parts are joined back.
  std::string street;
  for (size_t sub : {1u, 2u, 3u}) {
    std::string v = V(s, f, r, 1, sub);
    if (v.empty()) continue;
    if (!street.empty()) street += ' ';
    street += v;
  }
  for (const std::string& v : {street, V(s, f, r, 2)}) {
    if (!v.empty()) lines.push_back(v);
  }
  if (!lines.empty()) a["line"] = lines;
  const std::pair<size_t, const char*> parts[] = {
      {3, "city"}, {9, "district"}, {4, "state"}, {5, "postalCode"}, {6, "country"}};
  for (const auto& [c, key] : parts) {
    if (std::string v = V(s, f, r, c); !v.empty()) a[key] = v;
  }
  std::string type = V(s, f, r, 7);
  if (type == "H")
    a["use"] = "home";
  else if (type == "B" || type == "O")
    a["use"] = "work";
  else if (type == "C")
    a["use"] = "temp";
  else if (type == "M")
    a["type"] = "postal";
  return a;
}

void AddTelecoms(Json& patient, const Segment& s, size_t f, const char* default_use) {
  // XTN: 1 formatted number, 2 use (PRN, WPN, NET...), 3 equipment (PH, FX,
  // CP, BP, Internet), 4 email, 6 area code, 7 local number, 12 unformatted.
  for (size_t r = 1; r <= s.RepetitionCount(f); ++r) {
    std::string use = Upper(V(s, f, r, 2));
    std::string equipment = Upper(V(s, f, r, 3));
    std::string value = V(s, f, r, 1);
    std::string system = "phone";
    if (equipment == "INTERNET" || equipment == "X.400" || use == "NET") {
      system = "email";
      if (std::string email = V(s, f, r, 4); !email.empty()) value = email;
    } else if (equipment == "FX") {
      system = "fax";
    } else if (equipment == "BP") {
      system = "pager";
    }
    if (value.empty()) {
      std::string area = V(s, f, r, 6);
      std::string local = V(s, f, r, 7);
      value = area.empty() ? local : (local.empty() ? std::string() : "(" + area + ")" + local);
    }
    if (value.empty()) value = V(s, f, r, 12);
    if (value.empty()) continue;
    Json t = {{"system", system}, {"value", value}};
    if (equipment == "CP")
      t["use"] = "mobile";
    else if (use == "WPN")
      t["use"] = "work";
    else if (use == "PRN" || use == "ORN" || use == "VHN")
      t["use"] = "home";
    else
      t["use"] = default_use;
    patient["telecom"].push_back(t);
  }
}

struct PatientOut {
  std::string id;
  std::string key;
  Json resource;
};

PatientOut MapPatient(const Context& ctx, const Segment& pid) {
  size_t primary = PrimaryIdentifier(pid, 3);
  if (primary == 0) Missing("PID-3 patient identifier missing");
  PatientOut out;
  out.key = PatientKey(pid, 3, primary);
  Json p = ctx.Resource("Patient", out.key);
  out.id = p["id"];
  Json ids = Json::array();
  for (size_t r = 1; r <= pid.RepetitionCount(3); ++r) {
    if (!V(pid, 3, r, 1).empty()) ids.push_back(Identifier(pid, 3, r));
  }
  p["identifier"] = ids;
  Json names = Json::array();
  for (size_t r = 1; r <= pid.RepetitionCount(5); ++r) {
    Json n = HumanName(pid, 5, r);
    if (n.contains("family") || n.contains("given") || n.contains("text")) names.push_back(n);
  }
  if (!names.empty()) p["name"] = names;
  static const std::map<std::string, std::string> kGender = {{"M", "male"},    {"F", "female"},
                                                             {"O", "other"},   {"A", "other"},
                                                             {"U", "unknown"}, {"N", "unknown"}};
  if (std::string g = Upper(V(pid, 8)); !g.empty()) {
    auto it = kGender.find(g);
    p["gender"] = it != kGender.end() ? it->second : "unknown";
  }
  if (std::string bd = HL7TimeToFhirDate(V(pid, 7)); !bd.empty()) p["birthDate"] = bd;
  Json addresses = Json::array();
  for (size_t r = 1; r <= pid.RepetitionCount(11); ++r) {
    Json a = Address(pid, 11, r);
    if (!a.empty()) addresses.push_back(a);
  }
  if (!addresses.empty()) p["address"] = addresses;
  AddTelecoms(p, pid, 13, "home");
  AddTelecoms(p, pid, 14, "work");
  static const std::string kMarital = "ADILMPSTUW";
  if (std::string m = Upper(V(pid, 16)); m.size() == 1 && kMarital.find(m) != std::string::npos) {
    p["maritalStatus"] = {
        {"coding",
         Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"},
                       {"code", m}}})}};
  }
  if (std::string death = ctx.Time(V(pid, 29)); !death.empty()) {
    p["deceasedDateTime"] = death;
  } else if (Upper(V(pid, 30)) == "Y") {
    p["deceasedBoolean"] = true;
  }
  out.resource = std::move(p);
  return out;
}

const Segment& RequireSegment(const Message& msg, std::string_view id) {
  const Segment* s = msg.First(id);
  if (!s) Missing(std::string(id) + " segment missing");
  return *s;
}

// ---- ADT ---------------------------------------------------------------

Json Location(const Segment& s, size_t f, const char* status) {
  // PL: 1 point of care, 2 room, 3 bed, 4 facility, 9 description.
  std::string display;
  for (size_t c : {1u, 2u, 3u}) {
    std::string v = V(s, f, 1, c);
    if (v.empty()) continue;
    if (!display.empty()) display += ' ';
    display += v;
  }
  if (std::string desc = V(s, f, 1, 9); !desc.empty())
    display = display.empty() ? desc : display + " (" + desc + ")";
  if (display.empty()) return nullptr;
  return {{"location", {{"display", display}}}, {"status", status}};
}

void MapAdt(Context& ctx, const std::string& trigger) {
  const Message& msg = ctx.msg;
  PatientOut patient = MapPatient(ctx, RequireSegment(msg, "PID"));
  ctx.result.resources.push_back(patient.resource);
  const Segment& pv1 = RequireSegment(msg, "PV1");

  std::string visit = V(pv1, 19, 1, 1);
  std::string admit = V(pv1, 44);
  std::string key = !visit.empty()   ? "visit|" + visit + "^" + V(pv1, 19, 1, 4, 1)
                    : !admit.empty() ? "admit|" + patient.key + "|" + admit
                                     : "message|" + (msg.ControlId().empty() ? ctx.result.raw_sha256
                                                                             : msg.ControlId());
  Json e = ctx.Resource("Encounter", key);
  if (!visit.empty()) e["identifier"] = Json::array({Identifier(pv1, 19, 1)});

  static const std::map<std::string, std::pair<std::string, std::string>> kClass = {
      {"I", {"IMP", "inpatient encounter"}}, {"B", {"IMP", "inpatient encounter"}},
      {"O", {"AMB", "ambulatory"}},          {"R", {"AMB", "ambulatory"}},
      {"E", {"EMER", "emergency"}},          {"P", {"PRENC", "pre-admission"}}};
  if (auto it = kClass.find(Upper(V(pv1, 2))); it != kClass.end()) {
    e["class"] = {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
                  {"code", it->second.first},
                  {"display", it->second.second}};
  } else {
    e["class"] = {{"system", "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"},
                  {"code", "UNK"}};
  }

  std::string start = ctx.Time(admit);
  std::string end = ctx.Time(V(pv1, 45));
  if (trigger == "A03" && end.empty()) {
    // Discharge without PV1-45: the event time is when it happened.
    for (std::string t : {msg.Get("EVN", 6), msg.Get("EVN", 2), msg.Get("MSH", 7)}) {
      end = ctx.Time(t);
      if (!end.empty()) break;
    }
  }
  e["status"] = trigger == "A03" || !end.empty() ? "finished" : "in-progress";
  e["subject"] = {{"reference", "Patient/" + patient.id}};
  Json period = Json::object();
  if (!start.empty()) period["start"] = start;
  if (!end.empty()) period["end"] = end;
  if (!period.empty()) e["period"] = period;

  Json locations = Json::array();
  if (Json current = Location(pv1, 3, trigger == "A03" ? "completed" : "active");
      !current.is_null()) {
    locations.push_back(current);
  }
  if (trigger == "A02") {  // transfer: PV1-6 is where the patient came from
    if (Json prior = Location(pv1, 6, "completed"); !prior.is_null()) locations.push_back(prior);
  }
  if (!locations.empty()) e["location"] = locations;

  const std::tuple<size_t, const char*, const char*> roles[] = {
      {7, "ATND", "attender"}, {8, "REF", "referrer"}, {17, "ADM", "admitter"}};
  Json participants = Json::array();
  for (const auto& [field, code, display] : roles) {
    for (size_t r = 1; r <= pv1.RepetitionCount(field); ++r) {
      Json person = PersonDisplay(pv1, field, r);
      if (person.empty()) continue;
      participants.push_back(
          {{"type",
            Json::array(
                {{{"coding",
                   Json::array(
                       {{{"system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"},
                         {"code", code},
                         {"display", display}}})}}})},
           {"individual", person}});
    }
  }
  if (!participants.empty()) e["participant"] = participants;
  ctx.result.resources.push_back(std::move(e));
}

void MapMerge(Context& ctx) {
  const auto& segments = ctx.msg.segments();
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].id() != "PID") continue;
    PatientOut surviving = MapPatient(ctx, segments[i]);
    const Segment* mrg = nullptr;
    for (size_t k = i + 1; k < segments.size() && segments[k].id() != "PID"; ++k) {
      if (segments[k].id() == "MRG") {
        mrg = &segments[k];
        break;
      }
    }
    if (!mrg)
      Missing("MRG segment missing after PID " + std::to_string(ctx.result.merges.size() + 1));
    size_t prior = PrimaryIdentifier(*mrg, 1);
    if (prior == 0) Missing("MRG-1 prior patient identifier missing");
    std::string merged = ResourceId("Patient", ctx.facility, PatientKey(*mrg, 1, prior));
    if (merged == surviving.id) Missing("MRG-1 names the same patient as PID-3");
    ctx.result.resources.push_back(surviving.resource);
    ctx.result.merges.push_back({surviving.id, merged});
  }
  if (ctx.result.merges.empty()) Missing("PID segment missing");
}

// ---- ORU ---------------------------------------------------------------

std::string ObservationStatus(const std::string& code) {
  static const std::map<std::string, std::string> kStatus = {{"F", "final"},
                                                             {"C", "corrected"},
                                                             {"P", "preliminary"},
                                                             {"R", "preliminary"},
                                                             {"S", "preliminary"},
                                                             {"I", "registered"},
                                                             {"O", "registered"},
                                                             {"X", "cancelled"},
                                                             {"D", "entered-in-error"},
                                                             {"W", "entered-in-error"},
                                                             {"A", "amended"},
                                                             {"U", "final"}};
  auto it = kStatus.find(Upper(code));
  return it != kStatus.end() ? it->second : "unknown";
}

std::string ReportStatus(const std::string& code) {
  static const std::map<std::string, std::string> kStatus = {
      {"F", "final"},     {"C", "corrected"}, {"P", "preliminary"}, {"R", "preliminary"},
      {"A", "partial"},   {"S", "partial"},   {"I", "registered"},  {"O", "registered"},
      {"X", "cancelled"}, {"Y", "unknown"},   {"Z", "unknown"}};
  auto it = kStatus.find(Upper(code));
  return it != kStatus.end() ? it->second : "unknown";
}

// "3.5-5.0", "13 to 18", "<5", ">=10": low/high when both sides are numbers.
Json ReferenceRange(const Segment& obx, const std::string& text) {
  Json range = {{"text", text}};
  auto quantity = [&](const std::string& v) -> Json {
    Json n;
    if (!ParseNumber(v, n)) return nullptr;
    Json q = {{"value", n}};
    AddUnit(q, obx, 6);
    return q;
  };
  std::string low, high;
  if (size_t to = text.find(" to "); to != std::string::npos) {
    low = text.substr(0, to);
    high = text.substr(to + 4);
  } else if (size_t dash = text.find('-', 1); dash != std::string::npos) {
    low = text.substr(0, dash);
    high = text.substr(dash + 1);
  } else if (!text.empty() && text[0] == '<') {
    high = text.substr(text.size() > 1 && text[1] == '=' ? 2 : 1);
  } else if (!text.empty() && text[0] == '>') {
    low = text.substr(text.size() > 1 && text[1] == '=' ? 2 : 1);
  }
  if (!low.empty()) {
    if (Json q = quantity(low); !q.is_null()) range["low"] = q;
  }
  if (!high.empty()) {
    if (Json q = quantity(high); !q.is_null()) range["high"] = q;
  }
  return range;
}

void SetValue(const Context& ctx, Json& obs, const Segment& obx) {
  std::string type = Upper(V(obx, 2));
  size_t reps = obx.RepetitionCount(5);
  if (reps == 0) return;
  if (type == "NM") {
    std::string text = V(obx, 5);
    std::string comparator;
    for (const char* op : {"<=", ">=", "<", ">"}) {
      if (text.rfind(op, 0) == 0) {
        comparator = op;
        text = Trim(text.substr(comparator.size()));
        break;
      }
    }
    Json n;
    if (ParseNumber(text, n)) {
      Json q = {{"value", n}};
      if (!comparator.empty()) q["comparator"] = comparator;
      AddUnit(q, obx, 6);
      obs["valueQuantity"] = q;
    } else if (!V(obx, 5).empty()) {
      obs["valueString"] = V(obx, 5);
    }
  } else if (type == "SN") {
    // SN: 1 comparator, 2 number, 3 separator/suffix, 4 number.
    std::string comparator = V(obx, 5, 1, 1);
    std::string separator = V(obx, 5, 1, 3);
    Json n;
    if (separator.empty() && ParseNumber(V(obx, 5, 1, 2), n)) {
      Json q = {{"value", n}};
      if (comparator == "<" || comparator == ">" || comparator == "<=" || comparator == ">=") {
        q["comparator"] = comparator;
      }
      AddUnit(q, obx, 6);
      obs["valueQuantity"] = q;
    } else {
      std::string text = comparator + V(obx, 5, 1, 2) + separator + V(obx, 5, 1, 4);
      if (!text.empty()) obs["valueString"] = text;
    }
  } else if (type == "ST" || type == "TX" || type == "FT") {
    std::string text;
    for (size_t r = 1; r <= reps; ++r) {
      if (r > 1) text += '\n';
      text += SanitizeUtf8(Trim(obx.GetRepetitionText(5, r)));
    }
    if (!text.empty()) obs["valueString"] = text;
  } else if (type == "CE" || type == "CWE" || type == "CNE" || type == "CF") {
    Json cc = CodeableConcept(obx, 5);
    if (!cc.empty()) obs["valueCodeableConcept"] = cc;
  } else if (type == "DT" || type == "DTM" || type == "TS") {
    if (std::string t = ctx.Time(V(obx, 5)); !t.empty()) obs["valueDateTime"] = t;
  } else if (type == "ED" || type == "RP") {
    // Encapsulated data and pointers are not values FHIR Observation holds;
    // the raw message keeps them.
  } else {
    std::string text = SanitizeUtf8(Trim(obx.GetRepetitionText(5, 1)));
    if (!text.empty()) obs["valueString"] = text;
  }
}

void MapOru(Context& ctx) {
  const Message& msg = ctx.msg;
  PatientOut patient = MapPatient(ctx, RequireSegment(msg, "PID"));
  ctx.result.resources.push_back(patient.resource);
  Json subject = {{"reference", "Patient/" + patient.id}};

  std::string control = msg.ControlId().empty() ? ctx.result.raw_sha256 : msg.ControlId();
  Json* report = nullptr;
  std::string report_key;
  std::string report_time;
  std::map<std::string, int> seen;  // occurrences of an observation key
  Json* last_obs = nullptr;
  std::vector<Json> reports;
  std::vector<Json> observations;
  reports.reserve(msg.segments().size());
  observations.reserve(msg.segments().size());
  size_t obr_count = 0;
  size_t obx_count = 0;

  for (const Segment& s : msg.segments()) {
    if (s.id() == "OBR") {
      ++obr_count;
      std::string filler = V(s, 3, 1, 1);
      std::string placer = V(s, 2, 1, 1);
      report_key = !filler.empty()   ? "filler|" + filler + "^" + V(s, 3, 1, 2)
                   : !placer.empty() ? "placer|" + placer + "^" + V(s, 2, 1, 2)
                                     : "message|" + control + "|" + std::to_string(obr_count);
      if (V(s, 4, 1, 1).empty() && V(s, 4, 1, 2).empty()) {
        Missing("OBR-4 universal service identifier missing (OBR " + std::to_string(obr_count) +
                ")");
      }
      Json r = ctx.Resource("DiagnosticReport", report_key);
      Json ids = Json::array();
      for (auto [field, type] : {std::pair<size_t, const char*>{2, "PLAC"}, {3, "FILL"}}) {
        std::string value = V(s, field, 1, 1);
        if (value.empty()) continue;
        Json id = {
            {"value", value},
            {"type",
             {{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v2-0203"},
                                       {"code", type}}})}}}};
        std::string sys = SystemFromHd(V(s, field, 1, 2), V(s, field, 1, 3), V(s, field, 1, 4));
        if (!sys.empty()) id["system"] = sys;
        ids.push_back(id);
      }
      if (!ids.empty()) r["identifier"] = ids;
      r["status"] = ReportStatus(V(s, 25));
      r["code"] = CodeableConcept(s, 4);
      r["subject"] = subject;
      report_time = ctx.Time(V(s, 7));
      if (!report_time.empty()) r["effectiveDateTime"] = report_time;
      reports.push_back(std::move(r));
      report = &reports.back();
      seen.clear();
      last_obs = nullptr;
    } else if (s.id() == "OBX") {
      ++obx_count;
      std::string code = V(s, 3, 1, 1);
      if (code.empty() && V(s, 3, 1, 2).empty()) {
        Missing("OBX-3 observation identifier missing (OBX " + std::to_string(obx_count) + ")");
      }
      // Identity: the report, the test code and OBX-4 sub-id, so a corrected
      // result replaces the one it corrects.
      std::string key = (report ? report_key : "message|" + control) + "|" + V(s, 3, 1, 3) + "^" +
                        (code.empty() ? V(s, 3, 1, 2) : code) + "|" + V(s, 4);
      key += "|" + std::to_string(++seen[key]);
      Json o = ctx.Resource("Observation", key);
      o["status"] = ObservationStatus(V(s, 11));
      o["code"] = CodeableConcept(s, 3);
      o["subject"] = subject;
      std::string effective = ctx.Time(V(s, 14));
      if (effective.empty()) effective = report_time;
      if (!effective.empty()) o["effectiveDateTime"] = effective;
      SetValue(ctx, o, s);
      if (std::string range = V(s, 7); !range.empty()) {
        o["referenceRange"] = Json::array({ReferenceRange(s, range)});
      }
      Json interpretation = Json::array();
      for (size_t r = 1; r <= s.RepetitionCount(8); ++r) {
        if (std::string flag = V(s, 8, r, 1); !flag.empty()) {
          interpretation.push_back(
              {{"coding",
                Json::array(
                    {{{"system",
                       "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"},
                      {"code", flag}}})}});
        }
      }
      if (!interpretation.empty()) o["interpretation"] = interpretation;
      if (report)
        (*report)["result"].push_back({{"reference", "Observation/" + o["id"].get<std::string>()}});
      observations.push_back(std::move(o));
      last_obs = &observations.back();
    } else if (s.id() == "NTE" && last_obs) {
      std::string text;
      for (size_t r = 1; r <= s.RepetitionCount(3); ++r) {
        if (r > 1) text += '\n';
        text += SanitizeUtf8(Trim(s.GetRepetitionText(3, r)));
      }
      if (!text.empty()) (*last_obs)["note"].push_back({{"text", text}});
    }
  }
  if (obx_count == 0) Missing("OBX segment missing");
  for (auto& r : reports) ctx.result.resources.push_back(std::move(r));
  for (auto& o : observations) ctx.result.resources.push_back(std::move(o));
}

// ---- ORM / OML -----------------------------------------------------------

std::string OrderStatus(const std::string& orc5, const std::string& orc1) {
  static const std::map<std::string, std::string> kByStatus = {
      {"A", "active"},     {"IP", "active"},  {"SC", "active"},
      {"CM", "completed"}, {"CA", "revoked"}, {"DC", "revoked"},
      {"RP", "revoked"},   {"HD", "on-hold"}, {"ER", "entered-in-error"}};
  static const std::map<std::string, std::string> kByControl = {
      {"NW", "active"},  {"XO", "active"},  {"RL", "active"},  {"SC", "active"},
      {"SN", "active"},  {"CA", "revoked"}, {"OC", "revoked"}, {"DC", "revoked"},
      {"OD", "revoked"}, {"HD", "on-hold"}, {"OH", "on-hold"}, {"CR", "revoked"}};
  if (auto it = kByStatus.find(Upper(orc5)); it != kByStatus.end()) return it->second;
  if (auto it = kByControl.find(Upper(orc1)); it != kByControl.end()) return it->second;
  return "unknown";
}

void MapOrders(Context& ctx) {
  const Message& msg = ctx.msg;
  PatientOut patient = MapPatient(ctx, RequireSegment(msg, "PID"));
  ctx.result.resources.push_back(patient.resource);
  std::string control = msg.ControlId().empty() ? ctx.result.raw_sha256 : msg.ControlId();

  struct Order {
    const Segment* orc = nullptr;
    const Segment* obr = nullptr;
  };
  std::vector<Order> orders;
  for (const Segment& s : msg.segments()) {
    if (s.id() == "ORC") {
      orders.push_back({&s, nullptr});
    } else if (s.id() == "OBR") {
      if (!orders.empty() && !orders.back().obr)
        orders.back().obr = &s;
      else
        orders.push_back({nullptr, &s});
    }
  }
  if (orders.empty()) Missing("ORC segment missing");

  for (size_t i = 0; i < orders.size(); ++i) {
    const Segment* orc = orders[i].orc;
    const Segment* obr = orders[i].obr;
    // ORC-2/3 and OBR-2/3 hold the same EIs; ORC is the order's primary home.
    auto ei = [&](size_t orc_field, size_t obr_field) -> std::pair<const Segment*, size_t> {
      if (orc && !V(*orc, orc_field, 1, 1).empty()) return {orc, orc_field};
      if (obr && !V(*obr, obr_field, 1, 1).empty()) return {obr, obr_field};
      return {nullptr, 0};
    };
    auto [placer_seg, placer_field] = ei(2, 2);
    auto [filler_seg, filler_field] = ei(3, 3);
    std::string key;
    if (placer_seg) {
      key =
          "placer|" + V(*placer_seg, placer_field, 1, 1) + "^" + V(*placer_seg, placer_field, 1, 2);
    } else if (filler_seg) {
      key =
          "filler|" + V(*filler_seg, filler_field, 1, 1) + "^" + V(*filler_seg, filler_field, 1, 2);
    } else if (orc && !V(*orc, 4, 1, 1).empty()) {
      key = "group|" + V(*orc, 4, 1, 1) + "^" + V(*orc, 4, 1, 2) + "|" + std::to_string(i + 1);
    } else {
      key = "message|" + control + "|" + std::to_string(i + 1);
    }
    Json sr = ctx.Resource("ServiceRequest", key);
    Json ids = Json::array();
    for (auto [seg, field, type] : {std::tuple{placer_seg, placer_field, "PLAC"},
                                    std::tuple{filler_seg, filler_field, "FILL"}}) {
      if (!seg) continue;
      Json id = {
          {"value", V(*seg, field, 1, 1)},
          {"type",
           {{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v2-0203"},
                                     {"code", type}}})}}}};
      std::string sys =
          SystemFromHd(V(*seg, field, 1, 2), V(*seg, field, 1, 3), V(*seg, field, 1, 4));
      if (!sys.empty()) id["system"] = sys;
      ids.push_back(id);
    }
    if (!ids.empty()) sr["identifier"] = ids;
    sr["status"] = orc ? OrderStatus(V(*orc, 5), V(*orc, 1)) : "active";
    sr["intent"] = "order";
    if (obr && !(V(*obr, 4, 1, 1).empty() && V(*obr, 4, 1, 2).empty()))
      sr["code"] = CodeableConcept(*obr, 4);
    sr["subject"] = {{"reference", "Patient/" + patient.id}};
    if (orc) {
      if (std::string t = ctx.Time(V(*orc, 9)); !t.empty()) sr["authoredOn"] = t;
    }
    Json requester = Json::object();
    if (orc) requester = PersonDisplay(*orc, 12, 1);
    if (requester.empty() && obr) requester = PersonDisplay(*obr, 16, 1);
    if (!requester.empty()) sr["requester"] = requester;
    ctx.result.resources.push_back(std::move(sr));
  }
}

}  // namespace

std::string ResourceId(std::string_view resource_type, std::string_view facility,
                       std::string_view key) {
  std::string material;
  material.reserve(resource_type.size() + facility.size() + key.size() + 2);
  material.append(resource_type).append(1, '\n').append(facility).append(1, '\n').append(key);
  return crypto::Sha256Hex(material).substr(0, 32);
}

std::string HL7TimeToFhir(std::string_view ts, std::string_view default_utc_offset) {
  HL7Time t;
  if (!ParseHL7Time(ts, t)) return {};
  const std::string& d = t.digits;
  std::string out = d.substr(0, 4);
  if (d.size() >= 6) out += "-" + d.substr(4, 2);
  if (d.size() >= 8) out += "-" + d.substr(6, 2);
  if (d.size() <= 8) return out;  // a date carries no zone in FHIR
  out += "T" + d.substr(8, 2) + ":" + (d.size() >= 12 ? d.substr(10, 2) : "00") + ":" +
         (d.size() >= 14 ? d.substr(12, 2) : "00");
  if (!t.fraction.empty()) out += "." + t.fraction;
  out += t.offset.empty() ? std::string(default_utc_offset) : t.offset;
  return out;
}

std::string HL7TimeToFhirDate(std::string_view ts) {
  HL7Time t;
  if (!ParseHL7Time(ts, t)) return {};
  std::string out = HL7TimeToFhir(ts, "Z");
  return out.substr(0, std::min<size_t>(out.size(), 10));
}

MappingResult MapToFhir(const Message& message, const MappingOptions& options) {
  MappingResult result;
  result.raw_sha256 = crypto::Sha256Hex(message.raw());
  result.source = "urn:haip:hl7v2:" + result.raw_sha256;
  result.control_id = SanitizeUtf8(message.ControlId());
  std::string type = Upper(Trim(message.MessageType()));
  std::string trigger = Upper(Trim(message.TriggerEvent()));
  if (type.empty()) {
    result.ack = AckCode::kAR;
    result.error = "MSH-9 message type missing";
    return result;
  }
  result.message_type = SanitizeUtf8(trigger.empty() ? type : type + "^" + trigger);

  std::string_view body = message.raw();
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  if (!ValidUtf8(body)) {
    result.ack = AckCode::kAE;
    result.error = "message text is not valid UTF-8 (MSH-18 '" +
                   SanitizeUtf8(message.Get("MSH", 18)) + "'); send UTF-8";
    return result;
  }

  const Segment& msh = message.segments().front();
  Context ctx{message, options, result,
              V(msh, 4, 1, 1) + "^" + V(msh, 4, 1, 2) + "^" + V(msh, 4, 1, 3)};
  try {
    if (type == "ADT" && (trigger == "A01" || trigger == "A02" || trigger == "A03" ||
                          trigger == "A04" || trigger == "A08")) {
      result.mapped = true;
      result.demographics_authoritative = true;
      MapAdt(ctx, trigger);
    } else if (type == "ADT" && trigger == "A40") {
      result.mapped = true;
      result.demographics_authoritative = true;
      MapMerge(ctx);
    } else if (type == "ORU" && trigger == "R01") {
      result.mapped = true;
      MapOru(ctx);
    } else if ((type == "ORM" && trigger == "O01") || (type == "OML" && trigger == "O21")) {
      result.mapped = true;
      MapOrders(ctx);
    }
  } catch (const MissingData& e) {
    // All or nothing: a partial set would hide the problem from the sender,
    // who fixes the message and sends it again.
    result.ack = AckCode::kAE;
    result.error = e.what;
    result.resources.clear();
    result.merges.clear();
  }
  return result;
}

MappingResult MapRawToFhir(std::string_view raw, const MappingOptions& options) {
  try {
    return MapToFhir(Message::Parse(raw), options);
  } catch (const Error& e) {
    MappingResult result;
    result.ack = AckCode::kAR;
    result.error = SanitizeUtf8(e.what());
    result.raw_sha256 = crypto::Sha256Hex(raw);
    result.source = "urn:haip:hl7v2:" + result.raw_sha256;
    return result;
  }
}

std::string AckFor(std::string_view raw, const MappingResult& result, const AckOptions& options) {
  AckOptions o = options;
  if (o.error_code == 0 && result.ack == AckCode::kAR) o.error_code = 102;
  try {
    return BuildAck(Message::Parse(raw), result.ack, result.error, o);
  } catch (const Error&) {
    return BuildAckForRaw(raw, result.ack, result.error, o);
  }
}

}  // namespace haip::lake::hl7v2
