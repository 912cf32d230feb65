#include "cohort/sql.h"

#include <charconv>
#include <limits>

namespace haip::cohort {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string Number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that round-trips
  std::string s(buf, p);
  // PostgreSQL reads 1e+20 fine; make integers look like numbers in both.
  return s;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string InList(const std::string& column, const std::vector<std::string>& values) {
  std::string out = column + " IN (";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + Quote(values[i]);
  return out + ")";
}

// Conditions on an event row aliased `e` (without the window).
std::string FilterSql(const EventFilter& f, const Criteria& c) {
  std::vector<std::string> parts;
  if (!f.concept_set.empty()) {
    const ConceptSet* set = c.FindSet(f.concept_set);
    std::string any;
    for (const auto& item : set->items) {
      std::string code = item.descendants ? "substr(e.code, 1, " + std::to_string(Utf8Length(item.code)) +
                                                ") = " + Quote(item.code)
                                          : "e.code = " + Quote(item.code);
      any += (any.empty() ? "" : " OR ") + ("(e.system = " + Quote(item.system) + " AND " + code + ")");
    }
    parts.push_back("(" + any + ")");
  }
  if (!f.classes.empty()) parts.push_back(InList("e.code", f.classes));
  const ValueFilter& v = f.value;
  if (v.gt || v.gte || v.lt || v.lte || v.eq) parts.push_back("e.value IS NOT NULL");
  if (v.gt) parts.push_back("e.value > " + Number(*v.gt));
  if (v.gte) parts.push_back("e.value >= " + Number(*v.gte));
  if (v.lt) parts.push_back("e.value < " + Number(*v.lt));
  if (v.lte) parts.push_back("e.value <= " + Number(*v.lte));
  if (v.eq) parts.push_back("e.value = " + Number(*v.eq));
  if (!v.unit.empty()) parts.push_back("e.unit = " + Quote(v.unit));
  if (!f.departments.empty()) {
    parts.push_back("(" + InList("e.department", f.departments) + " OR " + InList("e.department_name", f.departments) + ")");
  }
  std::string out;
  for (const auto& p : parts) out += " AND " + p;
  return out;
}

std::string RuleSql(const Rule& r, const Criteria& c) {
  switch (r.kind) {
    case Rule::Kind::kEvent: {
      std::string where = "e.person_id = q.person_id" + FilterSql(r.event, c);
      if (r.window.start) where += " AND e.day >= q.index_day + (" + std::to_string(*r.window.start) + ")";
      if (r.window.end) where += " AND e.day <= q.index_day + (" + std::to_string(*r.window.end) + ")";
      std::string from = std::string(" FROM ") + std::string(TableOf(r.event.domain)) + " e WHERE " + where;
      if (r.count == Rule::Count::kAtLeast) {
        if (r.count_n == 0) return "(1 = 1)";
        if (r.count_n == 1) return "EXISTS (SELECT 1" + from + ")";
        return "((SELECT COUNT(*)" + from + ") >= " + std::to_string(r.count_n) + ")";
      }
      if (r.count == Rule::Count::kAtMost && r.count_n == 0) return "NOT EXISTS (SELECT 1" + from + ")";
      return "((SELECT COUNT(*)" + from + ") " + (r.count == Rule::Count::kAtMost ? "<=" : "=") + " " +
             std::to_string(r.count_n) + ")";
    }
    case Rule::Kind::kAge: {
      const std::string age = "((q.index_ymd - p.birth_ymd) / 10000)";
      std::string where = "p.person_id = q.person_id AND p.birth_ymd IS NOT NULL";
      if (r.age_gt) where += " AND " + age + " > " + std::to_string(*r.age_gt);
      if (r.age_gte) where += " AND " + age + " >= " + std::to_string(*r.age_gte);
      if (r.age_lt) where += " AND " + age + " < " + std::to_string(*r.age_lt);
      if (r.age_lte) where += " AND " + age + " <= " + std::to_string(*r.age_lte);
      return "EXISTS (SELECT 1 FROM person p WHERE " + where + ")";
    }
    case Rule::Kind::kGender:
      return "EXISTS (SELECT 1 FROM person p WHERE p.person_id = q.person_id AND " + InList("p.gender", r.genders) + ")";
    case Rule::Kind::kAll:
    case Rule::Kind::kAny: {
      std::string out;
      for (const auto& child : r.children) {
        out += (out.empty() ? "" : r.kind == Rule::Kind::kAll ? " AND " : " OR ") + RuleSql(child, c);
      }
      return "(" + out + ")";
    }
    case Rule::Kind::kNot:
      return "(NOT " + RuleSql(r.children[0], c) + ")";
    case Rule::Kind::kAtLeast: {
      if (r.at_least == 0) return "(1 = 1)";
      std::string sum;
      for (const auto& child : r.children) {
        sum += (sum.empty() ? "" : " + ") + ("(CASE WHEN " + RuleSql(child, c) + " THEN 1 ELSE 0 END)");
      }
      return "((" + sum + ") >= " + std::to_string(r.at_least) + ")";
    }
  }
  return "(1 = 0)";
}

std::string NamedRuleSql(const NamedRule& nr, const Criteria& c) {
  std::string sql = RuleSql(nr.rule, c);
  return nr.exclusion ? "(NOT " + sql + ")" : sql;
}

// WITH ... q0 (entry), q1 .. qn (after each rule).
std::string Ctes(const Criteria& c) {
  std::string events;
  for (const auto& f : c.entry) {
    std::string sql = "SELECT e.person_id, e.day, e.ymd FROM " + std::string(TableOf(f.domain)) + " e WHERE 1 = 1" + FilterSql(f, c);
    if (c.entry_from) sql += " AND e.day >= " + std::to_string(*c.entry_from);
    if (c.entry_to) sql += " AND e.day <= " + std::to_string(*c.entry_to);
    events += (events.empty() ? "" : "\n  UNION ALL\n  ") + sql;
  }
  std::string out = "WITH entry_events AS (\n  " + events + "\n),\n";
  const char* select_day = c.occurrence == Criteria::Occurrence::kFirst  ? "MIN(ee.day) AS index_day, MIN(ee.ymd)"
                           : c.occurrence == Criteria::Occurrence::kLast ? "MAX(ee.day) AS index_day, MAX(ee.ymd)"
                                                                         : nullptr;
  if (select_day != nullptr) {
    out += std::string("q0 AS (\n  SELECT ee.person_id, ") + select_day +
           " AS index_ymd FROM entry_events ee JOIN person p ON p.person_id = ee.person_id GROUP BY ee.person_id\n)";
  } else {
    out += "q0 AS (\n  SELECT DISTINCT ee.person_id, ee.day AS index_day, ee.ymd AS index_ymd FROM entry_events ee "
           "JOIN person p ON p.person_id = ee.person_id\n)";
  }
  for (size_t k = 0; k < c.rules.size(); ++k) {
    out += ",\nq" + std::to_string(k + 1) + " AS (\n  -- " + c.rules[k].name + "\n  SELECT q.person_id, q.index_day, q.index_ymd FROM q" +
           std::to_string(k) + " q WHERE " + NamedRuleSql(c.rules[k], c) + "\n)";
  }
  return out + "\n";
}

}  // namespace

std::string_view TableOf(Domain d) {
  switch (d) {
    case Domain::kCondition: return "condition_occurrence";
    case Domain::kObservation: return "measurement";
    case Domain::kMedication: return "drug_exposure";
    case Domain::kProcedure: return "procedure_occurrence";
    case Domain::kEncounter: return "visit_occurrence";
  }
  return "condition_occurrence";
}

std::string FlatTablesDdl() {
  std::string ddl =
      "CREATE TABLE person (person_id BIGINT PRIMARY KEY, patient_id TEXT NOT NULL, birth_day INTEGER, "
      "birth_ymd INTEGER, gender TEXT NOT NULL);\n";
  for (int d = 0; d < kDomainCount; ++d) {
    std::string t(TableOf(static_cast<Domain>(d)));
    ddl += "CREATE TABLE " + t +
           " (person_id BIGINT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, day INTEGER NOT NULL, ymd INTEGER NOT NULL, "
           "value DOUBLE PRECISION, unit TEXT NOT NULL, department TEXT NOT NULL, department_name TEXT NOT NULL);\n";
    ddl += "CREATE INDEX " + t + "_concept ON " + t + " (system, code, person_id, day);\n";
    ddl += "CREATE INDEX " + t + "_person ON " + t + " (person_id, day);\n";
  }
  return ddl;
}

std::string AttritionSql(const Criteria& c, storage::Dialect) {
  std::string sql = Ctes(c);
  sql += "SELECT 0 AS step, (SELECT COUNT(DISTINCT person_id) FROM q0) AS patients, "
         "(SELECT COUNT(DISTINCT person_id) FROM q0) AS passed_alone";
  for (size_t k = 0; k < c.rules.size(); ++k) {
    sql += "\nUNION ALL SELECT " + std::to_string(k + 1) + ", (SELECT COUNT(DISTINCT person_id) FROM q" +
           std::to_string(k + 1) + "), (SELECT COUNT(DISTINCT q.person_id) FROM q0 q WHERE " +
           NamedRuleSql(c.rules[k], c) + ")";
  }
  return sql + "\nORDER BY 1";
}

std::string PatientsSql(const Criteria& c, storage::Dialect) {
  return Ctes(c) + "SELECT DISTINCT p.patient_id FROM q" + std::to_string(c.rules.size()) +
         " q JOIN person p ON p.person_id = q.person_id ORDER BY 1";
}

FlatLoader::FlatLoader(storage::Database& db, size_t batch) : db_(db), batch_(batch) {}

int64_t FlatLoader::PersonId(const std::string& patient) {
  auto [it, inserted] = person_ids_.try_emplace(patient, static_cast<int64_t>(person_ids_.size()) + 1);
  return it->second;
}

void FlatLoader::Add(const Facts& facts) {
  if (facts.person) persons_.push_back(*facts.person);
  events_.insert(events_.end(), facts.events.begin(), facts.events.end());
  if (persons_.size() + events_.size() >= batch_) Flush();
}

void FlatLoader::Flush() {
  if (persons_.empty() && events_.empty()) return;
  db_.Transaction([&](storage::Session& tx) {
    for (const auto& p : persons_) {
      storage::Params params{PersonId(p.id), p.id};
      if (p.has_birth) params.insert(params.end(), {int64_t{p.birth_day}, int64_t{Ymd(p.birth_day)}});
      else params.insert(params.end(), {nullptr, nullptr});
      params.emplace_back(p.gender);
      tx.Execute("INSERT INTO person (person_id, patient_id, birth_day, birth_ymd, gender) VALUES (?, ?, ?, ?, ?)",
                 params);
    }
    for (const auto& e : events_) {
      storage::Params params{PersonId(e.patient), e.system, e.code, int64_t{e.day}, int64_t{Ymd(e.day)}};
      if (e.has_value()) params.emplace_back(e.value);
      else params.emplace_back(nullptr);
      params.insert(params.end(), {e.unit, e.department, e.department_name});
      tx.Execute("INSERT INTO " + std::string(TableOf(e.domain)) +
                     " (person_id, system, code, day, ymd, value, unit, department, department_name) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 params);
    }
  });
  persons_.clear();
  events_.clear();
}

}  // namespace haip::cohort
