#include "lake/fhir/validator.h"

#include <map>
#include <set>

#include "lake/fhir/search_params.h"

namespace haip::lake {

namespace {

struct TypeRules {
  std::vector<std::string_view> required;           // element (or "medication[x]") that must be present
  std::map<std::string_view, std::set<std::string_view>> codes;  // element -> allowed codes
};

const std::map<std::string_view, TypeRules>& Rules() {
  static const std::set<std::string_view> request_status = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"};
  static const std::set<std::string_view> event_status = {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"};
  static const std::set<std::string_view> request_intent = {"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"};
  static const std::map<std::string_view, TypeRules> rules = {
      {"Patient", {{}, {{"gender", {"male", "female", "other", "unknown"}}}}},
      {"Practitioner", {{}, {{"gender", {"male", "female", "other", "unknown"}}}}},
      {"Organization", {{}, {}}},
      {"Location", {{}, {{"status", {"active", "suspended", "inactive"}}}}},
      {"Encounter", {{"status", "class"}, {{"status", {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"}}}}},
      {"Condition", {{"subject"}, {}}},
      {"Observation", {{"status", "code"}, {{"status", {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}}}}},
      {"MedicationRequest", {{"status", "intent", "subject", "medication[x]"},
                             {{"status", {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}},
                              {"intent", {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}}}}},
      {"MedicationAdministration", {{"status", "subject", "medication[x]", "effective[x]"},
                                    {{"status", {"in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"}}}}},
      {"Procedure", {{"status", "subject"}, {{"status", event_status}}}},
      {"DiagnosticReport", {{"status", "code"}, {{"status", {"registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown"}}}}},
      {"ServiceRequest", {{"status", "intent", "subject"}, {{"status", request_status}, {"intent", request_intent}}}},
      {"AllergyIntolerance", {{"patient"}, {}}},
      {"Immunization", {{"status", "vaccineCode", "patient", "occurrence[x]"}, {{"status", {"completed", "entered-in-error", "not-done"}}}}},
      {"DocumentReference", {{"status", "content"}, {{"status", {"current", "superseded", "entered-in-error"}}}}},
      {"ImagingStudy", {{"status", "subject"}, {{"status", {"registered", "available", "cancelled", "entered-in-error", "unknown"}}}}},
      {"CarePlan", {{"status", "intent", "subject"}, {{"status", request_status}, {"intent", {"proposal", "plan", "order", "option"}}}}},
      {"Claim", {{"status", "use", "patient", "created"}, {{"status", {"active", "cancelled", "draft", "entered-in-error"}}, {"use", {"claim", "preauthorization", "predetermination"}}}}},
      {"ExplanationOfBenefit", {{"status", "use", "patient", "created"}, {{"status", {"active", "cancelled", "draft", "entered-in-error"}}, {"use", {"claim", "preauthorization", "predetermination"}}}}},
  };
  return rules;
}

// Elements whose values are FHIR date/dateTime/instant strings.
bool IsDateElement(std::string_view key) {
  static const std::set<std::string_view> names = {
      "birthDate", "authoredOn", "issued", "recordedDate", "created", "date", "started", "start",
      "end", "occurrenceDateTime", "effectiveDateTime", "effectiveInstant", "onsetDateTime",
      "abatementDateTime", "performedDateTime", "deceasedDateTime", "lastUpdated", "assertedDate",
      "dateWritten", "expirationDate", "lastOccurrence", "onset"};
  return names.count(key) > 0;
}

struct Checker {
  std::vector<ValidationIssue>& issues;

  void Add(std::string code, std::string path, std::string diag) {
    issues.push_back({"error", std::move(code), std::move(path), std::move(diag)});
  }

  void Walk(const Json& node, const std::string& path, std::string_view key) {
    if (node.is_object()) {
      if (node.empty()) Add("structure", path, "empty objects are not allowed in FHIR");
      CheckObject(node, path, key);
      for (const auto& [k, v] : node.items()) {
        if (k == "resourceType" && path.find('.') != std::string::npos && key != "resource") continue;
        Walk(v, path + "." + k, k);
      }
    } else if (node.is_array()) {
      if (node.empty()) Add("structure", path, "empty arrays are not allowed in FHIR");
      for (size_t i = 0; i < node.size(); ++i) Walk(node[i], path + "[" + std::to_string(i) + "]", key);
    } else if (node.is_null()) {
      Add("structure", path, "null values are not allowed in FHIR");
    } else if (node.is_string()) {
      const auto& s = node.get_ref<const std::string&>();
      if (s.empty()) Add("value", path, "empty strings are not allowed in FHIR");
      if (IsDateElement(key) && !DateRange(s)) Add("value", path, "not a valid FHIR date/dateTime: '" + s + "'");
    }
  }

  void CheckObject(const Json& obj, const std::string& path, std::string_view key) {
    auto str_field = [&](const char* f, bool non_blank) {
      auto it = obj.find(f);
      if (it == obj.end()) return;
      if (!it->is_string()) {
        Add("value", path + "." + f, std::string(f) + " must be a string");
      } else if (non_blank) {
        const auto& s = it->get_ref<const std::string&>();
        if (!s.empty() && (s.front() == ' ' || s.back() == ' ' || s.find_first_of("\t\n\r") != std::string::npos)) {
          Add("value", path + "." + f, std::string(f) + " must not have leading, trailing or control whitespace");
        }
      }
    };
    if (key == "coding" || obj.contains("coding")) {
      if (auto c = obj.find("coding"); c != obj.end() && !c->is_array()) Add("structure", path + ".coding", "coding must be an array");
    }
    if (key == "coding") {
      str_field("system", true);
      str_field("code", true);
      if (auto s = obj.find("system"); s != obj.end() && s->is_string() && s->get_ref<const std::string&>().find(' ') != std::string::npos) {
        Add("value", path + ".system", "system must be a URI (no spaces)");
      }
    }
    if (obj.contains("reference")) {
      str_field("reference", false);
      const auto& r = obj["reference"];
      if (r.is_string()) {
        const auto& s = r.get_ref<const std::string&>();
        bool ok = s.rfind("urn:uuid:", 0) == 0 || s.rfind("urn:oid:", 0) == 0 || s.rfind("#", 0) == 0 ||
                  s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || SplitReference(s).has_value();
        if (!ok) Add("value", path + ".reference", "reference must be 'Type/id', an absolute URL, urn:uuid: or #contained: '" + s + "'");
      }
    }
    if (key == "valueQuantity" || key == "quantity") {
      if (auto v = obj.find("value"); v != obj.end() && !v->is_number()) Add("value", path + ".value", "Quantity.value must be a number");
    }
    if (key == "period" || key.ends_with("Period")) {
      auto s = obj.find("start"), e = obj.find("end");
      if (s != obj.end() && e != obj.end() && s->is_string() && e->is_string()) {
        auto rs = DateRange(s->get<std::string>()), re = DateRange(e->get<std::string>());
        if (rs && re && rs->first > re->second) Add("invalid", path, "Period.end is before Period.start");
      }
    }
  }
};

bool HasChoice(const Json& r, std::string_view base) {
  for (const auto& [k, _] : r.items()) {
    if (k.size() > base.size() && k.compare(0, base.size(), base) == 0 && std::isupper(static_cast<unsigned char>(k[base.size()]))) return true;
  }
  return false;
}
}  // namespace

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return true;
}

std::vector<ValidationIssue> ValidateResource(const Json& r, const std::string& prefix) {
  std::vector<ValidationIssue> issues;
  auto where = [&](const std::string& p) { return prefix.empty() ? p : prefix + (p.empty() ? "" : "." + p); };
  if (!r.is_object()) {
    issues.push_back({"error", "structure", where(""), "a resource must be a JSON object"});
    return issues;
  }
  auto rt = r.find("resourceType");
  if (rt == r.end() || !rt->is_string() || !IsValidTypeName(rt->get<std::string>())) {
    issues.push_back({"error", "required", where("resourceType"), "resourceType is missing or not a resource type name"});
    return issues;
  }
  std::string type = rt->get<std::string>();
  std::string root = prefix.empty() ? type : prefix;
  if (!IsR4ResourceType(type)) {
    issues.push_back({"error", "not-supported", where("resourceType"), "'" + type + "' is not a FHIR R4 resource type"});
    return issues;
  }
  if (auto id = r.find("id"); id != r.end() && (!id->is_string() || !IsValidId(id->get<std::string>()))) {
    issues.push_back({"error", "value", root + ".id", "id must be 1-64 characters of letters, digits, '-' and '.'"});
  }
  if (auto m = r.find("meta"); m != r.end() && !m->is_object()) {
    issues.push_back({"error", "structure", root + ".meta", "meta must be an object"});
  }
  Checker checker{issues};
  for (const auto& [k, v] : r.items()) {
    if (k == "resourceType" || k == "contained") continue;
    checker.Walk(v, root + "." + k, k);
  }
  auto rules = Rules().find(type);
  if (rules != Rules().end()) {
    for (std::string_view req : rules->second.required) {
      bool present = req.ends_with("[x]") ? HasChoice(r, req.substr(0, req.size() - 3)) : r.contains(std::string(req));
      if (!present) issues.push_back({"error", "required", root + "." + std::string(req), std::string(req) + " is required (cardinality 1..)"});
    }
    for (const auto& [elem, allowed] : rules->second.codes) {
      auto it = r.find(std::string(elem));
      if (it == r.end()) continue;
      if (!it->is_string() || !allowed.count(it->get_ref<const std::string&>())) {
        issues.push_back({"error", "value", root + "." + std::string(elem),
                          std::string(elem) + " has a value outside its required value set: " + it->dump()});
      }
    }
    // Elements with cardinality 0..* in R4, per type ("*": every type here).
    static const std::map<std::string_view, std::vector<std::string_view>> arrays = {
        {"*", {"identifier", "note", "contained", "extension"}},
        {"Patient", {"name", "telecom", "address", "contact", "link"}},
        {"Practitioner", {"name", "telecom", "address", "qualification"}},
        {"Organization", {"telecom", "address", "alias", "type"}},
        {"Location", {"telecom", "type", "alias"}},
        {"Encounter", {"type", "participant", "diagnosis", "location", "reasonCode"}},
        {"Condition", {"category"}},
        {"Observation", {"category", "performer", "interpretation", "referenceRange", "component"}},
        {"DiagnosticReport", {"category", "performer", "result"}},
        {"DocumentReference", {"category", "content", "author"}},
        {"ServiceRequest", {"category"}},
        {"CarePlan", {"category", "activity"}},
        {"Procedure", {"performer"}},
        {"MedicationAdministration", {"performer"}},
        {"ImagingStudy", {"series"}},
    };
    for (const char* scope : {"*", type.c_str()}) {
      auto a = arrays.find(scope);
      if (a == arrays.end()) continue;
      for (std::string_view e : a->second) {
        if (auto it = r.find(std::string(e)); it != r.end() && !it->is_array()) {
          issues.push_back({"error", "structure", root + "." + std::string(e), std::string(e) + " must be an array (0..*)"});
        }
      }
    }
    for (const char* e : {"subject", "patient", "encounter"}) {
      if (auto it = r.find(e); it != r.end() && !it->is_object()) {
        issues.push_back({"error", "structure", root + "." + e, std::string(e) + " must be a Reference object"});
      }
    }
    for (const char* e : {"code", "class"}) {
      if (auto it = r.find(e); it != r.end() && !it->is_object() && type != "Patient") {
        issues.push_back({"error", "structure", root + "." + e, std::string(e) + " must be an object"});
      }
    }
    if (type == "DocumentReference" && r.contains("content") && r["content"].is_array()) {
      for (size_t i = 0; i < r["content"].size(); ++i) {
        if (!r["content"][i].is_object() || !r["content"][i].contains("attachment")) {
          issues.push_back({"error", "required", root + ".content[" + std::to_string(i) + "].attachment", "content.attachment is required"});
        }
      }
    }
  }
  return issues;
}

Json MakeOperationOutcome(const std::vector<ValidationIssue>& issues) {
  Json out = {{"resourceType", "OperationOutcome"}, {"issue", Json::array()}};
  for (const auto& i : issues) {
    Json issue = {{"severity", i.severity}, {"code", i.code}, {"diagnostics", i.diagnostics}};
    if (!i.expression.empty()) issue["expression"] = Json::array({i.expression});
    out["issue"].push_back(std::move(issue));
  }
  return out;
}

Json MakeOperationOutcome(const std::string& code, const std::string& diagnostics, const std::string& expression,
                          const std::string& severity) {
  return MakeOperationOutcome({{severity, code, expression, diagnostics}});
}

}  // namespace haip::lake
