#include "cohort/criteria.h"

#include <set>

#include "core/error.h"

namespace haip::cohort {
namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& message) {
  throw Error(ErrorCode::kBadRequest, "criteria: " + path + ": " + message);
}

void OnlyKeys(const Json& j, const std::string& path, std::initializer_list<const char*> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      Fail(path, "unknown member \"" + it.key() + "\" (expected " + list + ")");
    }
  }
}

const Json& Object(const Json& j, const std::string& path) {
  if (!j.is_object()) Fail(path, "must be an object");
  return j;
}

const Json& Array(const Json& j, const std::string& path) {
  if (!j.is_array()) Fail(path, "must be an array");
  return j;
}

std::string String(const Json& j, const std::string& path) {
  if (!j.is_string()) Fail(path, "must be a string");
  return j.get<std::string>();
}

double Number(const Json& j, const std::string& path) {
  if (!j.is_number()) Fail(path, "must be a number");
  return j.get<double>();
}

int Integer(const Json& j, const std::string& path, int min, int max) {
  if (!j.is_number_integer()) Fail(path, "must be an integer");
  int64_t v = j.get<int64_t>();
  if (v < min || v > max) Fail(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return static_cast<int>(v);
}

std::vector<std::string> Strings(const Json& j, const std::string& path) {
  std::vector<std::string> out;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
    return out;
  }
  Array(j, path);
  for (size_t i = 0; i < j.size(); ++i) out.push_back(String(j[i], path + "[" + std::to_string(i) + "]"));
  if (out.empty()) Fail(path, "must not be empty");
  return out;
}

int32_t Day(const Json& j, const std::string& path) {
  auto day = ParseDay(String(j, path));
  if (!day) Fail(path, "must be a date (YYYY-MM-DD)");
  return *day;
}

class Parser {
 public:
  explicit Parser(Criteria& c) : c_(c) {}

  EventFilter Event(const Json& j, const std::string& path) {
    Object(j, path);
    OnlyKeys(j, path, {"domain", "conceptSet", "value", "class", "department"});
    EventFilter f;
    if (!j.contains("domain")) Fail(path + ".domain", "is required");
    auto domain = ParseDomain(String(j["domain"], path + ".domain"));
    if (!domain) Fail(path + ".domain", "must be condition, observation, medication, procedure or encounter");
    f.domain = *domain;
    if (j.contains("conceptSet")) {
      f.concept_set = String(j["conceptSet"], path + ".conceptSet");
      if (c_.FindSet(f.concept_set) == nullptr) Fail(path + ".conceptSet", "unknown concept set \"" + f.concept_set + "\"");
    }
    if (j.contains("value")) {
      if (f.domain != Domain::kObservation) Fail(path + ".value", "only observations have values");
      const Json& v = Object(j["value"], path + ".value");
      OnlyKeys(v, path + ".value", {"gt", "gte", "lt", "lte", "eq", "unit"});
      auto num = [&](const char* key, std::optional<double>& out) {
        if (v.contains(key)) out = Number(v[key], path + ".value." + key);
      };
      num("gt", f.value.gt);
      num("gte", f.value.gte);
      num("lt", f.value.lt);
      num("lte", f.value.lte);
      num("eq", f.value.eq);
      if (v.contains("unit")) f.value.unit = String(v["unit"], path + ".value.unit");
      if (f.value.empty()) Fail(path + ".value", "needs at least one of gt, gte, lt, lte, eq, unit");
    }
    if (j.contains("class") || j.contains("department")) {
      if (f.domain != Domain::kEncounter) Fail(path, "class and department apply to encounters only");
      if (j.contains("class")) f.classes = Strings(j["class"], path + ".class");
      if (j.contains("department")) f.departments = Strings(j["department"], path + ".department");
    }
    return f;
  }

  Rule ParseRule(const Json& j, const std::string& path, int depth) {
    if (depth > 32) Fail(path, "rules nest too deeply (at most 32 levels)");
    Object(j, path);
    static const char* kKinds[] = {"event", "age", "gender", "all", "any", "not", "atLeast"};
    int kinds = 0;
    for (const char* k : kKinds) kinds += j.contains(k) ? 1 : 0;
    if (kinds != 1) Fail(path, "needs exactly one of event, age, gender, all, any, not, atLeast");
    Rule r;
    if (j.contains("event")) {
      OnlyKeys(j, path, {"event", "window", "count"});
      r.kind = Rule::Kind::kEvent;
      r.event = Event(j["event"], path + ".event");
      if (j.contains("window")) {
        const Json& w = Object(j["window"], path + ".window");
        OnlyKeys(w, path + ".window", {"start", "end"});
        constexpr int kMax = 100 * 366;
        if (w.contains("start") && !w["start"].is_null()) r.window.start = Integer(w["start"], path + ".window.start", -kMax, kMax);
        if (w.contains("end") && !w["end"].is_null()) r.window.end = Integer(w["end"], path + ".window.end", -kMax, kMax);
        if (r.window.start && r.window.end && *r.window.start > *r.window.end) {
          Fail(path + ".window", "start must not be after end");
        }
      }
      if (j.contains("count")) {
        const Json& c = Object(j["count"], path + ".count");
        OnlyKeys(c, path + ".count", {"atLeast", "atMost", "exactly"});
        if (c.size() != 1) Fail(path + ".count", "needs exactly one of atLeast, atMost, exactly");
        auto it = c.begin();
        r.count = it.key() == "atLeast" ? Rule::Count::kAtLeast
                  : it.key() == "atMost" ? Rule::Count::kAtMost
                                         : Rule::Count::kExactly;
        r.count_n = Integer(*it, path + ".count." + it.key(), 0, 1000000);
      }
    } else if (j.contains("age")) {
      OnlyKeys(j, path, {"age"});
      r.kind = Rule::Kind::kAge;
      const Json& a = Object(j["age"], path + ".age");
      OnlyKeys(a, path + ".age", {"gt", "gte", "lt", "lte"});
      if (a.empty()) Fail(path + ".age", "needs at least one of gt, gte, lt, lte");
      auto bound = [&](const char* key, std::optional<int>& out) {
        if (a.contains(key)) out = Integer(a[key], path + ".age." + key, 0, 200);
      };
      bound("gt", r.age_gt);
      bound("gte", r.age_gte);
      bound("lt", r.age_lt);
      bound("lte", r.age_lte);
    } else if (j.contains("gender")) {
      OnlyKeys(j, path, {"gender"});
      r.kind = Rule::Kind::kGender;
      r.genders = Strings(j["gender"], path + ".gender");
      for (const auto& g : r.genders) {
        if (g != "male" && g != "female" && g != "other" && g != "unknown") {
          Fail(path + ".gender", "\"" + g + "\" is not male, female, other or unknown");
        }
      }
    } else if (j.contains("not")) {
      OnlyKeys(j, path, {"not"});
      r.kind = Rule::Kind::kNot;
      r.children.push_back(ParseRule(j["not"], path + ".not", depth + 1));
    } else {
      const char* key = j.contains("all") ? "all" : j.contains("any") ? "any" : "of";
      if (j.contains("atLeast")) {
        OnlyKeys(j, path, {"atLeast", "of"});
        r.kind = Rule::Kind::kAtLeast;
        if (!j.contains("of")) Fail(path + ".of", "is required with atLeast");
        r.at_least = Integer(j["atLeast"], path + ".atLeast", 0, 1000);
      } else {
        OnlyKeys(j, path, {key});
        r.kind = j.contains("all") ? Rule::Kind::kAll : Rule::Kind::kAny;
      }
      const Json& list = Array(j[key], path + "." + key);
      if (list.empty()) Fail(path + "." + key, "must not be empty");
      for (size_t i = 0; i < list.size(); ++i) {
        r.children.push_back(ParseRule(list[i], path + "." + key + "[" + std::to_string(i) + "]", depth + 1));
      }
      if (r.kind == Rule::Kind::kAtLeast && r.at_least > static_cast<int>(r.children.size())) {
        Fail(path + ".atLeast", "is more than the number of rules in \"of\"");
      }
    }
    return r;
  }

 private:
  Criteria& c_;
};

}  // namespace

const ConceptSet* Criteria::FindSet(const std::string& key) const {
  for (const auto& s : concept_sets) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

Criteria ParseCriteria(const Json& json) {
  Criteria c;
  Object(json, "$");
  OnlyKeys(json, "$", {"title", "description", "conceptSets", "entry", "inclusion", "exclusion"});
  if (json.contains("title")) c.title = String(json["title"], "title");
  if (json.contains("description")) c.description = String(json["description"], "description");
  if (json.contains("conceptSets")) {
    const Json& sets = Object(json["conceptSets"], "conceptSets");
    for (auto it = sets.begin(); it != sets.end(); ++it) {
      std::string path = "conceptSets." + it.key();
      const Json& s = Object(*it, path);
      OnlyKeys(s, path, {"name", "items"});
      ConceptSet set;
      set.key = it.key();
      if (s.contains("name")) set.name = String(s["name"], path + ".name");
      if (!s.contains("items")) Fail(path + ".items", "is required");
      const Json& items = Array(s["items"], path + ".items");
      if (items.empty()) Fail(path + ".items", "must not be empty");
      for (size_t i = 0; i < items.size(); ++i) {
        std::string ip = path + ".items[" + std::to_string(i) + "]";
        const Json& item = Object(items[i], ip);
        OnlyKeys(item, ip, {"system", "code", "display", "descendants"});
        ConceptItem ci;
        if (!item.contains("system")) Fail(ip + ".system", "is required");
        if (!item.contains("code")) Fail(ip + ".code", "is required");
        ci.system = String(item["system"], ip + ".system");
        ci.code = String(item["code"], ip + ".code");
        if (ci.code.empty()) Fail(ip + ".code", "must not be empty");
        if (item.contains("descendants")) {
          if (!item["descendants"].is_boolean()) Fail(ip + ".descendants", "must be true or false");
          ci.descendants = item["descendants"].get<bool>();
        }
        set.items.push_back(std::move(ci));
      }
      c.concept_sets.push_back(std::move(set));
    }
  }
  Parser parser(c);
  if (!json.contains("entry")) Fail("entry", "is required");
  const Json& entry = Object(json["entry"], "entry");
  OnlyKeys(entry, "entry", {"events", "occurrence", "from", "to"});
  if (!entry.contains("events")) Fail("entry.events", "is required");
  const Json& events = Array(entry["events"], "entry.events");
  if (events.empty()) Fail("entry.events", "must not be empty");
  for (size_t i = 0; i < events.size(); ++i) {
    c.entry.push_back(parser.Event(events[i], "entry.events[" + std::to_string(i) + "]"));
  }
  if (entry.contains("occurrence")) {
    std::string o = String(entry["occurrence"], "entry.occurrence");
    if (o == "first") c.occurrence = Criteria::Occurrence::kFirst;
    else if (o == "all") c.occurrence = Criteria::Occurrence::kAll;
    else if (o == "last") c.occurrence = Criteria::Occurrence::kLast;
    else Fail("entry.occurrence", "must be first, all or last");
  }
  if (entry.contains("from")) c.entry_from = Day(entry["from"], "entry.from");
  if (entry.contains("to")) c.entry_to = Day(entry["to"], "entry.to");
  for (const char* section : {"inclusion", "exclusion"}) {
    if (!json.contains(section)) continue;
    const Json& list = Array(json[section], section);
    for (size_t i = 0; i < list.size(); ++i) {
      std::string path = std::string(section) + "[" + std::to_string(i) + "]";
      const Json& r = Object(list[i], path);
      OnlyKeys(r, path, {"name", "rule"});
      NamedRule nr;
      nr.exclusion = std::string(section) == "exclusion";
      nr.name = r.contains("name") ? String(r["name"], path + ".name") : path;
      if (!r.contains("rule")) Fail(path + ".rule", "is required");
      nr.rule = parser.ParseRule(r["rule"], path + ".rule", 0);
      c.rules.push_back(std::move(nr));
    }
  }
  return c;
}

}  // namespace haip::cohort
