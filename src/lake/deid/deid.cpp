// Deidentifier: walks a FHIR resource as generic JSON, so every resource
// type and extension is covered by the same element rules (docs/deid.md):
// person-identifying elements are dropped, identifiers and references are
// replaced by keyed pseudonyms, addresses cut to the province, dates shifted
// per patient, and every remaining string that is not a code goes through
// the free-text scrubber.
#include "lake/deid/deid.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "lake/deid/dates.h"
#include "lake/deid/text.h"

namespace haip::lake::deid {

namespace {

using sv = std::string_view;

constexpr sv kAgeCapExtension =
    "https://haip.example.org/fhir/StructureDefinition/deid-age-over-cap";
constexpr sv kDataAbsentReason = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
constexpr sv kObservationValueSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

// ------------------------------------------------------------- base64

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(sv in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Standard or URL-safe alphabet, padding optional, whitespace ignored;
// nullopt on any other character.
std::optional<std::string> Base64Decode(sv in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t')
      continue;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// ------------------------------------------------------------- helpers

bool StartsWith(sv s, sv p) { return s.substr(0, p.size()) == p; }

std::string Lower(sv s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

const std::string* StringAt(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// "Patient/123", "https://x/fhir/Patient/123/_history/2" -> {type, id}.
std::optional<std::pair<std::string, std::string>> SplitReference(sv ref) {
  if (ref.empty() || ref[0] == '#' || StartsWith(ref, "urn:")) return std::nullopt;
  if (ref.find('?') != sv::npos) return std::nullopt;
  size_t h = ref.find("/_history/");
  if (h != sv::npos) ref = ref.substr(0, h);
  size_t slash = ref.rfind('/');
  if (slash == sv::npos || slash == 0 || slash + 1 == ref.size()) return std::nullopt;
  sv id = ref.substr(slash + 1);
  sv head = ref.substr(0, slash);
  size_t s2 = head.rfind('/');
  sv type = s2 == sv::npos ? head : head.substr(s2 + 1);
  if (type.empty() || type[0] < 'A' || type[0] > 'Z') return std::nullopt;
  return std::make_pair(std::string(type), std::string(id));
}

bool IsPersonType(sv type) {
  return type == "Patient" || type == "Practitioner" || type == "PractitionerRole" ||
         type == "RelatedPerson" || type == "Person" || type == "Group";
}

// The patient a resource belongs to: the Patient's own id, or the Patient
// its subject / patient / beneficiary refers to.
std::optional<std::string> PatientIdOf(const Json& r, const Json** ref_obj) {
  const std::string* type = StringAt(r, "resourceType");
  if (type && *type == "Patient") {
    const std::string* id = StringAt(r, "id");
    if (id) return *id;
    return std::nullopt;
  }
  for (const char* key : {"subject", "patient", "beneficiary"}) {
    auto it = r.find(key);
    if (it == r.end() || !it->is_object()) continue;
    const std::string* ref = StringAt(*it, "reference");
    if (!ref) continue;
    auto split = SplitReference(*ref);
    if (split && split->first == "Patient") {
      *ref_obj = &*it;
      return split->second;
    }
  }
  return std::nullopt;
}

// Names of a HumanName array (or single HumanName): text, family+given,
// and given names of two or more characters.
void CollectNames(const Json& names, std::vector<std::string>& out) {
  auto one = [&](const Json& n) {
    if (!n.is_object()) return;
    if (const std::string* t = StringAt(n, "text")) out.push_back(*t);
    std::string family;
    if (const std::string* f = StringAt(n, "family")) family = *f;
    std::string given_all;
    if (auto g = n.find("given"); g != n.end() && g->is_array()) {
      for (const Json& gv : *g) {
        if (!gv.is_string()) continue;
        const std::string& s = gv.get_ref<const std::string&>();
        given_all += s;
        if (CodePoints(s) >= 2) out.push_back(s);
        if (!family.empty()) out.push_back(family + s);
      }
    }
    if (!family.empty() && !given_all.empty()) out.push_back(family + given_all);
  };
  if (names.is_array()) {
    for (const Json& n : names) one(n);
  } else {
    one(names);
  }
}

// Keys whose string values are codes, URIs or structure, never free text.
const std::unordered_set<sv>& KeptKeys() {
  static const std::unordered_set<sv> keys = {
      "resourceType",   "system",       "code",       "unit",       "version",   "url",
      "contentType",    "language",     "status",     "use",        "gender",    "mode",
      "intent",         "priority",     "comparator", "profile",    "versionId", "data",
      "type",           "docStatus",    "linkId",     "expression", "path",      "valueCode",
      "valueCanonical", "valueBoolean", "id"};
  return keys;
}

// Keys of elements that exist only to identify or reach a person.
const std::unordered_set<sv>& DroppedKeys() {
  static const std::unordered_set<sv> keys = {"photo", "telecom", "contact", "valueHumanName",
                                              "valueContactPoint"};
  return keys;
}

// Date keys where partial dates (YYYY, YYYY-MM) are shifted as well; full
// dates are recognised under any key.
bool IsDateKey(sv key) {
  if (key.find("Date") != sv::npos || key.find("date") != sv::npos ||
      key.find("Instant") != sv::npos || key.find("Time") != sv::npos)
    return true;
  static const std::unordered_set<sv> keys = {
      "start",    "end",         "issued",         "authoredOn",  "recorded", "created",
      "creation", "lastUpdated", "timestamp",      "occurred",    "sent",     "received",
      "instant",  "published",   "whenHandedOver", "whenPrepared"};
  return keys.count(key) > 0;
}

}  // namespace

std::string DeidProfile::Label() const {
  return "deid profile " + name + " v" + std::to_string(version);
}

// ------------------------------------------------------------------ State

struct Deidentifier::State {
  std::string key;
  DeidProfile profile;
  CivilDate reference;
  mutable std::shared_mutex mu;
  std::unordered_map<std::string, PatientContext> patients;  // by Patient.id
  NameSet global_names;

  std::string Hmac(sv data) const { return crypto::HmacSha256Hex(key, data); }

  int ShiftFor(sv compartment) const {
    std::string h = Hmac("date-shift|" + std::string(compartment));
    uint32_t v = static_cast<uint32_t>(std::stoul(h.substr(0, 8), nullptr, 16));
    int magnitude = static_cast<int>(v % static_cast<uint32_t>(profile.max_shift_days)) + 1;
    bool negative = (std::stoi(h.substr(8, 1), nullptr, 16) & 1) != 0;
    return negative ? -magnitude : magnitude;
  }

  std::string PseudoId(sv type, sv id) const {
    return Hmac("resource|" + std::string(type) + "/" + std::string(id))
        .substr(0, static_cast<size_t>(profile.id_hex_chars));
  }

  std::string PseudoIdentifier(sv system, sv value) const {
    return profile.identifier_prefix +
           Hmac("identifier|" + std::string(system) + "|" + std::string(value))
               .substr(0, static_cast<size_t>(profile.identifier_hex_chars));
  }

  std::string PseudoUuid(sv uuid) const {
    std::string h = Hmac("uuid|" + std::string(uuid));
    h[12] = '4';  // version 4 layout, variant 10xx
    h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20, 12);
  }

  PatientContext BuildContext(const Json& patient) const {
    PatientContext ctx;
    if (const std::string* id = StringAt(patient, "id")) ctx.patient_id = *id;
    ctx.shift_days = ShiftFor("Patient/" + ctx.patient_id);
    if (auto n = patient.find("name"); n != patient.end()) CollectNames(*n, ctx.names);
    if (auto ids = patient.find("identifier"); ids != patient.end() && ids->is_array())
      for (const Json& i : *ids)
        if (const std::string* v = StringAt(i, "value")) ctx.identifiers.push_back(*v);
    if (auto tel = patient.find("telecom"); tel != patient.end() && tel->is_array())
      for (const Json& t : *tel)
        if (const std::string* v = StringAt(t, "value")) ctx.telecoms.push_back(*v);
    if (auto addr = patient.find("address"); addr != patient.end() && addr->is_array()) {
      for (const Json& a : *addr) {
        if (const std::string* t = StringAt(a, "text")) ctx.addresses.push_back(*t);
        if (auto l = a.find("line"); l != a.end() && l->is_array())
          for (const Json& line : *l)
            if (line.is_string()) ctx.addresses.push_back(line.get<std::string>());
        const std::string* city = StringAt(a, "city");
        const std::string* district = StringAt(a, "district");
        if (city && district) ctx.addresses.push_back(*city + *district);
      }
    }
    if (auto c = patient.find("contact"); c != patient.end() && c->is_array()) {
      for (const Json& person : *c) {
        if (auto n = person.find("name"); n != person.end()) CollectNames(*n, ctx.names);
        if (auto tel = person.find("telecom"); tel != person.end() && tel->is_array())
          for (const Json& t : *tel)
            if (const std::string* v = StringAt(t, "value")) ctx.telecoms.push_back(*v);
      }
    }
    if (const std::string* b = StringAt(patient, "birthDate")) ctx.over_age_cap = OverAgeCap(*b);
    return ctx;
  }

  // Older than the cap at the reference date; a partial birth date counts
  // from its latest possible day, so nobody is flagged who might be younger.
  bool OverAgeCap(sv birth) const {
    auto precision = FhirDatePrecision(birth);
    if (!precision) return false;
    CivilDate b{std::stoi(std::string(birth.substr(0, 4))), 12, 31};
    if (*precision != DatePrecision::kYear) {
      b.month = std::stoi(std::string(birth.substr(5, 2)));
      b.day = 28;
      while (IsValidDate(b.year, b.month, b.day + 1)) ++b.day;
    }
    if (*precision == DatePrecision::kDay) b.day = std::stoi(std::string(birth.substr(8, 2)));
    return AgeYears(b, reference) > profile.age_cap_years;
  }
};

// ----------------------------------------------------------------- Walker

namespace {

// One Apply() call: the resource's context and shift, and the rules.
class Walker {
 public:
  Walker(const Deidentifier::State& st, const PatientContext* ctx, int shift)
      : st_(st), ctx_(ctx), shift_(shift) {}

  void Resource(Json& r, bool contained) {
    std::string type = r.value("resourceType", "");
    if (!contained) {
      if (const std::string* id = StringAt(r, "id")) r["id"] = st_.PseudoId(type, *id);
    }
    if (auto meta = r.find("meta"); meta != r.end() && meta->is_object()) meta->erase("source");
    bool birth_done = false;
    if (type == "Patient" || type == "Person" || type == "RelatedPerson" ||
        type == "Practitioner") {
      BirthDate(r, type == "Patient" && ctx_ && ctx_->over_age_cap);
      birth_done = true;
    }
    Object(r, birth_done);
    if (!contained) Label(r);
  }

 private:
  std::string Scrub(sv text) const {
    ScrubInput in;
    in.ctx = ctx_;
    in.shift_days = shift_;
    in.age_cap_years = st_.profile.age_cap_years;
    in.unlabelled_names = st_.profile.scrub_unlabelled_names;
    in.global_names = &st_.global_names;
    return ScrubFreeText(text, in);
  }

  // XHTML (Narrative.div, text/html attachments): text between tags is
  // scrubbed, tags pass through so the markup stays valid. Each text run is
  // scrubbed on its own, so a name split by a tag is not recognised.
  std::string ScrubMarkup(sv html) const {
    std::string out;
    out.reserve(html.size());
    size_t i = 0;
    while (i < html.size()) {
      size_t lt = html.find('<', i);
      if (lt == sv::npos) lt = html.size();
      out += Scrub(html.substr(i, lt - i));
      if (lt == html.size()) break;
      size_t gt = html.find('>', lt);
      if (gt == sv::npos) gt = html.size() - 1;
      out.append(html.substr(lt, gt - lt + 1));
      i = gt + 1;
    }
    return out;
  }

  void BirthDate(Json& r, bool over_cap) {
    auto it = r.find("birthDate");
    if (it == r.end()) return;
    if (!it->is_string()) {
      r.erase(it);
      return;
    }
    if (over_cap) {
      // Grouped as "cap+1 or older": born in the year that makes them
      // exactly cap+1 at the reference date.
      r["birthDate"] = std::to_string(st_.reference.year - st_.profile.age_cap_years - 1);
      r["_birthDate"] = Json{
          {"extension", Json::array({Json{{"url", kAgeCapExtension}, {"valueBoolean", true}}})}};
      return;
    }
    r.erase("_birthDate");
    auto shifted = ShiftFhirDate(it->get_ref<const std::string&>(), shift_);
    if (shifted)
      *it = *shifted;
    else
      r.erase(it);
  }

  void Label(Json& r) {
    Json& meta = r["meta"];
    if (!meta.is_object()) meta = Json::object();
    Json& security = meta["security"];
    if (!security.is_array()) security = Json::array();
    for (const Json& s : security)
      if (s.value("system", "") == kObservationValueSystem && s.value("code", "") == "PSEUDED")
        return;
    security.push_back(Json{
        {"system", kObservationValueSystem}, {"code", "PSEUDED"}, {"display", "pseudonymized"}});
  }

  void Object(Json& obj, bool skip_birth = false) {
    if (obj.contains("contentType") ||
        (obj.contains("data") && obj["data"].is_string() && !obj.contains("resourceType")))
      Attachment(obj);
    const bool coding = obj.contains("system") && obj.contains("code");
    std::optional<std::string> original_ref;
    if (const std::string* ref = StringAt(obj, "reference")) original_ref = *ref;
    std::vector<std::string> erase;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string& k = it.key();
      Json& v = it.value();
      if (skip_birth && (k == "birthDate" || k == "_birthDate")) continue;
      if (DroppedKeys().count(k) || (k == "name" && (v.is_array() || v.is_object()))) {
        erase.push_back(k);
      } else if (k == "identifier" || k == "valueIdentifier") {
        Identifiers(v);
      } else if (k == "address" || k == "valueAddress") {
        Addresses(v);
      } else if ((k == "reference" || k == "fullUrl") && v.is_string()) {
        auto pseudo = Reference(v.get_ref<const std::string&>());
        if (pseudo)
          v = *pseudo;
        else
          erase.push_back(k);
      } else if (k == "display" && original_ref) {
        auto split = SplitReference(*original_ref);
        std::string type = split ? split->first : obj.value("type", "");
        if (IsPersonType(type) || type.empty())
          erase.push_back(k);
        else if (v.is_string())
          v = Scrub(v.get_ref<const std::string&>());
      } else if (k == "authorString") {
        v = "[姓名]";
      } else if (k == "contained" && v.is_array()) {
        for (Json& c : v)
          if (c.is_object()) Resource(c, true);
      } else {
        Value(v, k, coding);
      }
    }
    for (const auto& k : erase) obj.erase(k);
  }

  void Value(Json& v, sv key, bool in_coding) {
    if (v.is_string()) {
      String(v, key, in_coding);
    } else if (v.is_object()) {
      Object(v);
    } else if (v.is_array()) {
      for (Json& e : v) Value(e, key, in_coding);
    }
  }

  void String(Json& v, sv key, bool in_coding) {
    if (KeptKeys().count(key) || (in_coding && key == "display")) return;
    const std::string& s = v.get_ref<const std::string&>();
    if (key == "div") {
      v = ScrubMarkup(s);
      return;
    }
    if (auto p = FhirDatePrecision(s)) {
      if (*p == DatePrecision::kDay || IsDateKey(key)) {
        if (auto shifted = ShiftFhirDate(s, shift_)) {
          v = *shifted;
          return;
        }
      }
    }
    v = Scrub(s);
  }

  void Identifiers(Json& v) {
    if (v.is_array()) {
      for (Json& e : v) Identifiers(e);
      return;
    }
    if (!v.is_object()) return;
    std::string system = v.value("system", "");
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it.key() == "value") {
        if (it->is_string()) *it = st_.PseudoIdentifier(system, it->get_ref<const std::string&>());
      } else if (it.key() != "system" && it.key() != "use") {
        Json& child = it.value();
        if (child.is_object())
          Object(child);
        else
          Value(child, it.key(), false);
      }
    }
  }

  // Only the province (state), country and the leading postal-code digits
  // survive; text is rebuilt from the province.
  void Addresses(Json& v) {
    if (v.is_array()) {
      for (Json& e : v) Addresses(e);
      return;
    }
    if (v.is_string()) {
      v = Scrub(v.get_ref<const std::string&>());
      return;
    }
    if (!v.is_object()) return;
    Json out = Json::object();
    for (const char* k : {"use", "type", "state", "country"})
      if (auto it = v.find(k); it != v.end() && it->is_string()) out[k] = *it;
    if (const std::string* pc = StringAt(v, "postalCode")) {
      size_t keep = static_cast<size_t>(st_.profile.postal_prefix_digits);
      if (keep > 0 && pc->size() > keep) out["postalCode"] = pc->substr(0, keep);
    }
    if (out.contains("state")) out["text"] = out["state"];
    v = std::move(out);
  }

  std::optional<std::string> Reference(sv ref) const {
    if (ref.empty() || ref[0] == '#') return std::string(ref);
    if (StartsWith(ref, "urn:uuid:")) return "urn:uuid:" + st_.PseudoUuid(ref.substr(9));
    if (StartsWith(ref, "urn:oid:")) return std::string(ref);
    auto split = SplitReference(ref);
    if (!split) return std::nullopt;  // conditional or unparseable: may embed identifiers
    return split->first + "/" + st_.PseudoId(split->first, split->second);
  }

  void Attachment(Json& a) {
    a.erase("url");
    a.erase("hash");
    auto data = a.find("data");
    if (data == a.end() || !data->is_string()) return;
    std::string ct = Lower(a.value("contentType", ""));
    bool text = StartsWith(ct, "text/") || ct.find("json") != std::string::npos ||
                ct.find("xml") != std::string::npos;
    std::optional<std::string> decoded;
    if (text) decoded = Base64Decode(data->get_ref<const std::string&>());
    if (!decoded) {
      // Binary content (PDF, images) cannot be scrubbed here: withheld.
      a.erase("data");
      a.erase("size");
      a["_data"] = Json{
          {"extension", Json::array({Json{{"url", kDataAbsentReason}, {"valueCode", "masked"}}})}};
      return;
    }
    bool markup = ct.find("html") != std::string::npos || ct.find("xml") != std::string::npos;
    std::string clean = markup ? ScrubMarkup(*decoded) : Scrub(*decoded);
    *data = Base64Encode(clean);
    if (a.contains("size")) a["size"] = clean.size();
  }

  const Deidentifier::State& st_;
  const PatientContext* ctx_;
  int shift_;
};

}  // namespace

// ----------------------------------------------------------- Deidentifier

Deidentifier::Deidentifier(std::string key, DeidProfile profile) : state_(new State) {
  if (key.size() < 16) throw Error(ErrorCode::kBadRequest, "deid key must be at least 16 bytes");
  const DeidProfile& p = profile;
  if (p.max_shift_days < 1 || p.max_shift_days > 3650)
    throw Error(ErrorCode::kBadRequest, "deid profile: max_shift_days must be 1..3650");
  if (p.age_cap_years < 1 || p.age_cap_years > 150)
    throw Error(ErrorCode::kBadRequest, "deid profile: age_cap_years must be 1..150");
  if (p.postal_prefix_digits < 0 || p.postal_prefix_digits > 6)
    throw Error(ErrorCode::kBadRequest, "deid profile: postal_prefix_digits must be 0..6");
  if (p.id_hex_chars < 16 || p.id_hex_chars > 64)
    throw Error(ErrorCode::kBadRequest, "deid profile: id_hex_chars must be 16..64");
  if (p.identifier_hex_chars < 8 || p.identifier_hex_chars > 64)
    throw Error(ErrorCode::kBadRequest, "deid profile: identifier_hex_chars must be 8..64");
  if (p.reference_date.empty()) {
    state_->reference = CivilFromDays(clock::NowMillis() / 86'400'000);
  } else {
    auto d = ParseIsoDate(p.reference_date);
    if (!d) throw Error(ErrorCode::kBadRequest, "deid profile: reference_date must be YYYY-MM-DD");
    state_->reference = *d;
  }
  state_->key = std::move(key);
  state_->profile = std::move(profile);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", state_->reference.year % 10000,
                state_->reference.month % 100, state_->reference.day % 100);
  state_->profile.reference_date = buf;
}

Deidentifier::~Deidentifier() = default;

const DeidProfile& Deidentifier::profile() const { return state_->profile; }

void Deidentifier::LearnPatient(const Json& patient) {
  const std::string* type = StringAt(patient, "resourceType");
  if (!type || *type != "Patient") return;
  PatientContext ctx = state_->BuildContext(patient);
  std::unique_lock lock(state_->mu);
  for (const auto& n : ctx.names)
    if (CodePoints(n) >= 3) state_->global_names.insert(n);
  state_->patients[ctx.patient_id] = std::move(ctx);
}

void Deidentifier::Learn(const Json& resource) {
  const std::string* type = StringAt(resource, "resourceType");
  if (!type) return;
  if (*type == "Patient") {
    LearnPatient(resource);
    return;
  }
  if (*type != "Practitioner" && *type != "RelatedPerson" && *type != "Person") return;
  auto n = resource.find("name");
  if (n == resource.end()) return;
  std::vector<std::string> names;
  CollectNames(*n, names);
  std::unique_lock lock(state_->mu);
  for (const auto& name : names)
    if (CodePoints(name) >= 2) state_->global_names.insert(name);
}

void Deidentifier::ForgetPatient(std::string_view patient_id) {
  std::unique_lock lock(state_->mu);
  state_->patients.erase(std::string(patient_id));
}

PatientContext Deidentifier::ContextFor(std::string_view patient_id) const {
  std::shared_lock lock(state_->mu);
  auto it = state_->patients.find(std::string(patient_id));
  if (it != state_->patients.end()) return it->second;
  PatientContext ctx;
  ctx.patient_id = std::string(patient_id);
  ctx.shift_days = state_->ShiftFor("Patient/" + ctx.patient_id);
  return ctx;
}

Json Deidentifier::Apply(const Json& resource) const {
  const std::string* type = StringAt(resource, "resourceType");
  if (!resource.is_object() || !type)
    throw Error(ErrorCode::kBadRequest, "deid: not a FHIR resource (no resourceType)");
  Json out = resource;
  std::shared_lock lock(state_->mu);
  const Json* ref_obj = nullptr;
  auto pid = PatientIdOf(resource, &ref_obj);
  PatientContext derived;
  const PatientContext* ctx = nullptr;
  int shift = 0;
  if (pid) {
    auto it = state_->patients.find(*pid);
    if (it != state_->patients.end()) {
      ctx = &it->second;
    } else {
      if (*type == "Patient") {
        derived = state_->BuildContext(resource);
      } else {
        derived.patient_id = *pid;
        derived.shift_days = state_->ShiftFor("Patient/" + *pid);
        if (ref_obj)
          if (const std::string* d = StringAt(*ref_obj, "display")) derived.names.push_back(*d);
      }
      ctx = &derived;
    }
    shift = ctx->shift_days;
  } else {
    shift = state_->ShiftFor(*type + "/" + resource.value("id", ""));
  }
  Walker(*state_, ctx, shift).Resource(out, false);
  return out;
}

std::string Deidentifier::ScrubText(std::string_view text, const PatientContext* ctx) const {
  std::shared_lock lock(state_->mu);
  ScrubInput in;
  in.ctx = ctx;
  in.shift_days = ctx ? ctx->shift_days : 0;
  in.age_cap_years = state_->profile.age_cap_years;
  in.unlabelled_names = state_->profile.scrub_unlabelled_names;
  in.global_names = &state_->global_names;
  return ScrubFreeText(text, in);
}

std::string Deidentifier::PseudonymId(std::string_view resource_type, std::string_view id) const {
  return state_->PseudoId(resource_type, id);
}

std::string Deidentifier::PseudonymIdentifier(std::string_view system,
                                              std::string_view value) const {
  return state_->PseudoIdentifier(system, value);
}

int Deidentifier::ShiftDays(std::string_view patient_id) const {
  return state_->ShiftFor("Patient/" + std::string(patient_id));
}

Json Deidentifier::ProfileDescription() const {
  const DeidProfile& p = state_->profile;
  Json rules = Json::array({
      Json{{"element",
            "HumanName (every name element), contact, telecom, photo, "
            "valueHumanName, valueContactPoint"},
           {"action", "remove"}},
      Json{{"element", "Identifier.value (all identifiers: ID card, MRN, insurance, licence)"},
           {"action", "pseudonymize"},
           {"method",
            "identifier_prefix + hex(HMAC-SHA256(key, \"identifier|\" + system + \"|\" + "
            "value))[:identifier_hex_chars]"}},
      Json{{"element", "Resource.id and Reference.reference"},
           {"action", "pseudonymize"},
           {"method", "hex(HMAC-SHA256(key, \"resource|\" + type + \"/\" + id))[:id_hex_chars]"}},
      Json{{"element",
            "Reference.display of Patient/Practitioner/PractitionerRole/RelatedPerson/"
            "Person/Group"},
           {"action", "remove"}},
      Json{{"element", "Address"},
           {"action", "generalize"},
           {"keep", "use, type, state (province), country, postalCode[:postal_prefix_digits]"}},
      Json{{"element", "date, dateTime, instant, Period, dates in text"},
           {"action", "shift"},
           {"method",
            "per patient, days in [-max_shift_days,-1]u[1,max_shift_days] from "
            "HMAC-SHA256(key, \"date-shift|Patient/\" + id)"}},
      Json{
          {"element", "Patient.birthDate when older than age_cap_years at reference_date"},
          {"action", "generalize"},
          {"method", "year (reference year - age_cap_years - 1) plus extension deid-age-over-cap"}},
      Json{{"element",
            "free text (Narrative, Annotation, CodeableConcept.text, strings, text "
            "attachments)"},
           {"action", "scrub"},
           {"placeholders",
            Json::array({"[姓名]", "[身份证号]", "[电话]", "[邮箱]", "[网址]", "[IP]", "[地址]",
                         "[病案号]", "[医保号]", "[编号]", "[号码]"})}},
      Json{{"element", "binary attachments, Attachment.url, Attachment.hash, meta.source"},
           {"action", "remove"}},
      Json{{"element", "codes, quantities, units, booleans, numbers"}, {"action", "keep"}},
  });
  return Json{
      {"name", p.name},
      {"version", p.version},
      {"label", p.Label()},
      {"parameters", Json{{"max_shift_days", p.max_shift_days},
                          {"age_cap_years", p.age_cap_years},
                          {"reference_date", p.reference_date},
                          {"postal_prefix_digits", p.postal_prefix_digits},
                          {"id_hex_chars", p.id_hex_chars},
                          {"identifier_prefix", p.identifier_prefix},
                          {"identifier_hex_chars", p.identifier_hex_chars},
                          {"scrub_unlabelled_names", p.scrub_unlabelled_names}}},
      {"rules", std::move(rules)},
      {"key_fingerprint",
       crypto::Sha256Hex("haip-deid-key-fingerprint|" + state_->key).substr(0, 16)},
  };
}

// ---------------------------------------------------------------- key file

std::string LoadOrCreateKey(const std::filesystem::path& path) {
  auto trim = [](std::string s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (path.has_parent_path()) {
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec)
        throw Error(ErrorCode::kInternal,
                    "cannot create " + path.parent_path().string() + ": " + ec.message());
      std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    }
    std::string key = crypto::HexEncode(crypto::RandomBytes(32));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      std::string line = key + "\n";
      ssize_t n = ::write(fd, line.data(), line.size());
      bool ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) throw Error(ErrorCode::kInternal, "cannot write deid key " + path.string());
      return key;
    }
    if (errno != EEXIST)
      throw Error(ErrorCode::kInternal,
                  "cannot create deid key " + path.string() + ": " + std::strerror(errno));
    // Created concurrently by another process: read theirs.
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kInternal, "cannot read deid key " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string key = trim(ss.str());
  if (key.size() < 16)
    throw Error(ErrorCode::kBadRequest, "deid key " + path.string() + " holds fewer than 16 bytes");
  return key;
}

}  // namespace haip::lake::deid
