// FHIR search over the index rows: parameters become SQL set conditions on
// fhir_index, combined with AND across parameters and OR across the
// comma-separated values of one parameter.
#include <set>

#include "core/clock.h"
#include "lake/fhir/search_params.h"
#include "lake/fhir/store.h"

namespace haip::lake {

namespace {

[[noreturn]] void BadParam(const std::string& diag) { throw FhirError(ErrorCode::kBadRequest, "invalid", diag); }

std::vector<std::string> SplitValues(const std::string& v) {
  // Commas separate alternatives; "\," is a literal comma.
  std::vector<std::string> out(1);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() && (v[i + 1] == ',' || v[i + 1] == '|' || v[i + 1] == '\\')) {
      out.back() += v[++i];
    } else if (v[i] == ',') {
      out.emplace_back();
    } else {
      out.back() += v[i];
    }
  }
  return out;
}

std::string LikeEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  return out;
}

struct Prefixed {
  std::string prefix = "eq";
  std::string value;
};

Prefixed SplitPrefix(const std::string& v) {
  static const std::set<std::string> prefixes = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"};
  if (v.size() > 2 && prefixes.count(v.substr(0, 2)) && !std::isdigit(static_cast<unsigned char>(v[0]))) {
    return {v.substr(0, 2), v.substr(2)};
  }
  return {"eq", v};
}

// Range comparison of a stored [lo, hi) against a search [plo, phi).
std::string DateCondition(const std::string& prefix, const std::string& lo, const std::string& hi, int64_t plo,
                          int64_t phi, storage::Params& p) {
  auto two = [&](const std::string& sql, int64_t a, int64_t b) {
    p.emplace_back(a);
    p.emplace_back(b);
    return sql;
  };
  auto one = [&](const std::string& sql, int64_t a) {
    p.emplace_back(a);
    return sql;
  };
  if (prefix == "eq" || prefix == "ap") return two("(" + lo + " >= ? AND " + hi + " <= ?)", plo, phi);
  if (prefix == "ne") return two("NOT (" + lo + " >= ? AND " + hi + " <= ?)", plo, phi);
  if (prefix == "lt") return one(lo + " < ?", plo);
  if (prefix == "gt") return one(hi + " > ?", phi);
  if (prefix == "le") return one(lo + " < ?", phi);
  if (prefix == "ge") return one(hi + " > ?", plo);
  if (prefix == "sa") return one(lo + " >= ?", phi);
  if (prefix == "eb") return one(hi + " <= ?", plo);
  BadParam("unknown prefix " + prefix);
}

struct Query {
  std::string type;
  std::vector<std::string> where;
  storage::Params params;
  int64_t count = 50;
  int64_t offset = 0;
  std::vector<std::pair<std::string, bool>> sort;  // param, descending
  std::vector<std::string> includes, revincludes;
  std::string summary, total;
  int index_conditions = 0;
};

void AddParam(Query& q, const std::string& raw_name, const std::string& raw_value) {
  std::string name = raw_name, modifier;
  if (auto colon = name.find(':'); colon != std::string::npos) {
    modifier = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  auto values = SplitValues(raw_value);
  if (modifier == "missing") {
    const SearchParam* def = FindParam(q.type, name);
    if (!def) BadParam("unknown search parameter '" + name + "' for " + q.type);
    bool missing = raw_value == "true";
    q.where.push_back(std::string(missing ? "NOT " : "") +
                      "EXISTS (SELECT 1 FROM fhir_index i WHERE i.type = r.type AND i.id = r.id AND i.param = ?)");
    q.params.emplace_back(name);
    return;
  }
  if (name == "_id") {
    std::string in;
    for (const auto& v : values) {
      in += in.empty() ? "?" : ", ?";
      q.params.emplace_back(v);
    }
    q.where.push_back("r.id IN (" + in + ")");
    return;
  }
  if (name == "_lastUpdated") {
    std::string ors;
    for (const auto& v : values) {
      auto pv = SplitPrefix(v);
      auto range = DateRange(pv.value);
      if (!range) BadParam("_lastUpdated: not a date '" + pv.value + "'");
      ors += (ors.empty() ? "" : " OR ") +
             DateCondition(pv.prefix, "r.last_updated", "(r.last_updated + 1)", range->first, range->second, q.params);
    }
    q.where.push_back("(" + ors + ")");
    return;
  }
  const SearchParam* def = FindParam(q.type, name);
  if (!def && (name == "patient" || name == "subject")) {
    // Types without definitions are still searchable by their patient.
    static const SearchParam generic{"patient", ParamType::kReference, "subject|patient"};
    def = &generic;
  }
  if (!def) BadParam("unknown search parameter '" + raw_name + "' for " + q.type);

  // The patient compartment has its own indexed column.
  if (def->type == ParamType::kReference && (name == "patient" || name == "subject") && modifier.empty()) {
    bool all_patients = true;
    std::vector<std::string> ids;
    for (const auto& v : values) {
      auto split = SplitReference(v);
      if (split && split->first != "Patient") all_patients = false;
      ids.push_back(split ? split->second : v);
    }
    if (all_patients) {
      std::string in;
      for (const auto& id : ids) {
        in += in.empty() ? "?" : ", ?";
        q.params.emplace_back(id);
      }
      q.where.push_back("r.patient IN (" + in + ")");
      return;
    }
  }

  std::string ors;
  storage::Params p;
  for (const auto& v : values) {
    std::string cond;
    switch (def->type) {
      case ParamType::kToken: {
        if (modifier == "text") {
          cond = "(i.param = ? AND i.val LIKE ? ESCAPE '!')";
          p.emplace_back(name + ":text");
          p.emplace_back(LikeEscape(NormalizeString(v)) + "%");
          break;
        }
        if (!modifier.empty() && modifier != "not") BadParam("unsupported modifier :" + modifier + " on token parameter " + name);
        auto bar = v.find('|');
        if (bar == std::string::npos) {
          cond = "(i.param = ? AND i.val = ?)";
          p.emplace_back(name);
          p.emplace_back(v);
        } else if (bar + 1 == v.size()) {
          cond = "(i.param = ? AND i.sys = ?)";
          p.emplace_back(name);
          p.emplace_back(v.substr(0, bar));
        } else {
          cond = "(i.param = ? AND i.sys = ? AND i.val = ?)";
          p.emplace_back(name);
          p.emplace_back(v.substr(0, bar));
          p.emplace_back(v.substr(bar + 1));
        }
        break;
      }
      case ParamType::kReference: {
        auto split = SplitReference(v);
        if (!split) {
          // A bare id, or a URL ending in Type/id.
          auto pos = v.rfind('/');
          if (pos != std::string::npos && pos > 0) split = SplitReference(v.substr(v.rfind('/', pos - 1) + 1));
        }
        if (split) {
          cond = "(i.param = ? AND i.sys = ? AND i.val = ?)";
          p.emplace_back(name);
          p.emplace_back(split->first);
          p.emplace_back(split->second);
        } else {
          cond = "(i.param = ? AND i.val = ?)";
          p.emplace_back(name);
          p.emplace_back(v);
        }
        break;
      }
      case ParamType::kDate: {
        auto pv = SplitPrefix(v);
        auto range = DateRange(pv.value);
        if (!range) BadParam(name + ": not a FHIR date '" + pv.value + "'");
        p.emplace_back(name);
        cond = "(i.param = ? AND " + DateCondition(pv.prefix, "i.lo", "i.hi", range->first, range->second, p) + ")";
        break;
      }
      case ParamType::kQuantity: {
        auto pv = SplitPrefix(v);
        std::string number = pv.value, system, code;
        if (auto bar = number.find('|'); bar != std::string::npos) {
          std::string rest = number.substr(bar + 1);
          number = number.substr(0, bar);
          auto bar2 = rest.find('|');
          system = rest.substr(0, bar2);
          code = bar2 == std::string::npos ? "" : rest.substr(bar2 + 1);
        }
        double x;
        try {
          size_t used = 0;
          x = std::stod(number, &used);
          if (used != number.size()) throw std::invalid_argument(number);
        } catch (const std::exception&) {
          BadParam(name + ": not a number '" + number + "'");
        }
        // "eq" means within the precision of the value given: 5.4 matches [5.35, 5.45).
        size_t dot = number.find('.');
        double half = 0.5 * std::pow(10.0, -(dot == std::string::npos ? 0.0 : static_cast<double>(number.size() - dot - 1)));
        std::string c = "i.param = ?";
        p.emplace_back(name);
        const std::string& pre = pv.prefix;
        if (pre == "eq" || pre == "ap") {
          double slack = pre == "ap" ? std::max(half, std::abs(x) * 0.1) : half;
          c += " AND i.num >= ? AND i.num < ?";
          p.emplace_back(x - slack);
          p.emplace_back(x + slack);
        } else if (pre == "ne") {
          c += " AND (i.num < ? OR i.num >= ?)";
          p.emplace_back(x - half);
          p.emplace_back(x + half);
        } else {
          static const std::map<std::string, std::string> ops = {{"lt", "<"}, {"gt", ">"}, {"le", "<="}, {"ge", ">="}, {"sa", ">"}, {"eb", "<"}};
          c += " AND i.num " + ops.at(pre) + " ?";
          p.emplace_back(x);
        }
        if (!system.empty()) {
          c += " AND i.sys = ?";
          p.emplace_back(system);
        }
        if (!code.empty()) {
          c += " AND i.val = ?";
          p.emplace_back(code);
        }
        cond = "(" + c + ")";
        break;
      }
      case ParamType::kString: {
        std::string norm = NormalizeString(v);
        p.emplace_back(name);
        if (modifier == "exact") {
          cond = "(i.param = ? AND i.val = ?)";
          p.emplace_back(norm);
        } else if (modifier == "contains") {
          cond = "(i.param = ? AND i.val LIKE ? ESCAPE '!')";
          p.emplace_back("%" + LikeEscape(norm) + "%");
        } else if (modifier.empty()) {
          cond = "(i.param = ? AND i.val LIKE ? ESCAPE '!')";
          p.emplace_back(LikeEscape(norm) + "%");
        } else {
          BadParam("unsupported modifier :" + modifier + " on string parameter " + name);
        }
        break;
      }
    }
    ors += (ors.empty() ? "" : " OR ") + cond;
  }
  // The first index condition drives the query (a set of ids from the
  // index); later ones are checked per candidate through the (type, id)
  // index, which is cheap however unselective they are on their own.
  std::string sub;
  if (q.index_conditions++ == 0 || modifier == "not") {
    sub = "r.id IN (SELECT i.id FROM fhir_index i WHERE i.type = ? AND (" + ors + "))";
    if (modifier == "not") sub = "NOT " + sub;
  } else {
    sub = "EXISTS (SELECT 1 FROM fhir_index i WHERE i.type = ? AND i.id = r.id AND (" + ors + "))";
  }
  q.where.push_back(sub);
  q.params.emplace_back(q.type);
  for (auto& x : p) q.params.push_back(std::move(x));
}

int64_t ParseCount(const std::string& name, const std::string& v, int64_t max) {
  try {
    size_t used = 0;
    int64_t n = std::stoll(v, &used);
    if (used == v.size() && n >= 0) return std::min(n, max);
  } catch (const std::exception&) {
  }
  BadParam(name + " must be a non-negative integer");
}

Query BuildQuery(const std::string& type, const SearchParams& params) {
  Query q;
  q.type = type;
  q.where = {"r.type = ?", "r.deleted = 0"};
  q.params = {type};
  for (const auto& [name, value] : params) {
    if (name == "_count") {
      q.count = ParseCount(name, value, 1000);
    } else if (name == "_offset") {
      q.offset = ParseCount(name, value, INT64_MAX);
    } else if (name == "_sort") {
      for (auto& s : SplitValues(value)) {
        bool desc = !s.empty() && s[0] == '-';
        if (desc) s.erase(0, 1);
        if (s != "_lastUpdated" && s != "_id") {
          const SearchParam* def = FindParam(type, s);
          if (!def || (def->type != ParamType::kDate && def->type != ParamType::kString && def->type != ParamType::kToken)) {
            BadParam("cannot sort " + type + " by '" + s + "'");
          }
        }
        q.sort.emplace_back(s, desc);
      }
    } else if (name == "_include") {
      q.includes.push_back(value);
    } else if (name == "_revinclude") {
      q.revincludes.push_back(value);
    } else if (name == "_summary") {
      if (value != "count" && value != "false") BadParam("_summary supports 'count' and 'false'");
      q.summary = value;
    } else if (name == "_total") {
      q.total = value;
    } else if (name == "_format" || name == "_pretty") {
      // Output is always JSON.
    } else {
      AddParam(q, name, value);
    }
  }
  return q;
}

std::string WhereSql(const Query& q, const PatientFilter& filter) {
  std::string sql;
  for (const auto& w : q.where) sql += (sql.empty() ? " WHERE " : " AND ") + w;
  if (!filter.sql.empty()) sql += " AND (" + filter.sql + ")";
  return sql;
}

std::string QueryString(const SearchParams& params, int64_t offset, int64_t count) {
  auto enc = [](const std::string& s) {
    std::string out;
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '|' || c == ',') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  };
  std::string qs;
  for (const auto& [k, v] : params) {
    if (k == "_offset" || k == "_count") continue;
    qs += (qs.empty() ? "" : "&") + enc(k) + "=" + enc(v);
  }
  qs += (qs.empty() ? "" : "&") + std::string("_count=") + std::to_string(count) + "&_offset=" + std::to_string(offset);
  return qs;
}
}  // namespace

std::vector<std::string> FhirStore::Match(const std::string& type, const SearchParams& params) const {
  Query q = BuildQuery(type, params);
  auto res = db_.Query("SELECT r.id FROM fhir_resource r" + WhereSql(q, {}) + " LIMIT 2", q.params);
  std::vector<std::string> ids;
  for (const auto& r : res.rows) ids.push_back(r[0].AsText());
  return ids;
}

Json FhirStore::Search(const std::string& type, const SearchParams& params, const std::string& base,
                       const PatientFilter& filter) const {
  if (!IsValidTypeName(type)) throw FhirError(ErrorCode::kNotFound, "not-supported", "unknown resource type '" + type + "'");
  Query q = BuildQuery(type, params);
  std::string where = WhereSql(q, filter);
  storage::Params all = q.params;
  for (const auto& p : filter.params) all.push_back(p);

  Json bundle = {{"resourceType", "Bundle"}, {"type", "searchset"}};
  bool want_total = q.summary == "count" || q.total != "none";
  int64_t total = -1;
  if (want_total) {
    total = db_.Query("SELECT COUNT(*) FROM fhir_resource r" + where, all).rows[0][0].AsInt();
    bundle["total"] = total;
  }
  if (q.summary == "count") return bundle;

  std::string order;
  storage::Params order_params;
  for (const auto& [param, desc] : q.sort) {
    std::string expr;
    if (param == "_lastUpdated") {
      expr = "r.last_updated";
    } else if (param == "_id") {
      expr = "r.id";
    } else {
      const SearchParam* def = FindParam(type, param);
      std::string col = def->type == ParamType::kDate ? (desc ? "MAX(i.hi)" : "MIN(i.lo)") : (desc ? "MAX(i.val)" : "MIN(i.val)");
      expr = "(SELECT " + col + " FROM fhir_index i WHERE i.type = r.type AND i.id = r.id AND i.param = ?)";
      order_params.emplace_back(param);
    }
    order += (order.empty() ? " ORDER BY " : ", ") + expr + (desc ? " DESC" : " ASC");
  }
  order += order.empty() ? " ORDER BY r.last_updated ASC, r.id ASC" : ", r.id ASC";
  storage::Params page_params = all;
  for (auto& p : order_params) page_params.push_back(p);
  page_params.emplace_back(q.count + 1);
  page_params.emplace_back(q.offset);
  auto res = db_.Query("SELECT r.id, r.body FROM fhir_resource r" + where + order + " LIMIT ? OFFSET ?", page_params);
  bool more = static_cast<int64_t>(res.size()) > q.count;
  if (more) res.rows.pop_back();

  std::string self = base + "/" + type;
  bundle["link"] = Json::array({{{"relation", "self"}, {"url", self + "?" + QueryString(params, q.offset, q.count)}}});
  if (more) {
    bundle["link"].push_back({{"relation", "next"}, {"url", self + "?" + QueryString(params, q.offset + q.count, q.count)}});
  }
  if (q.offset > 0) {
    bundle["link"].push_back(
        {{"relation", "previous"}, {"url", self + "?" + QueryString(params, std::max<int64_t>(0, q.offset - q.count), q.count)}});
  }
  bundle["entry"] = Json::array();
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& r : res.rows) {
    ids.push_back(r[0].AsText());
    seen.insert(type + "/" + r[0].AsText());
    bundle["entry"].push_back({{"fullUrl", base + "/" + type + "/" + r[0].AsText()},
                               {"resource", Json::parse(r[1].AsText())},
                               {"search", {{"mode", "match"}}}});
  }
  auto add_include = [&](const std::string& t, const std::string& id, const std::string& body) {
    if (!seen.insert(t + "/" + id).second) return;
    bundle["entry"].push_back({{"fullUrl", base + "/" + t + "/" + id}, {"resource", Json::parse(body)}, {"search", {{"mode", "include"}}}});
  };
  auto id_list = [&](storage::Params& p) {
    std::string in;
    for (const auto& id : ids) {
      in += in.empty() ? "?" : ", ?";
      p.emplace_back(id);
    }
    return in;
  };
  if (!ids.empty()) {
    for (const auto& inc : q.includes) {
      auto parts = SplitValues(inc);  // no commas expected; keep the first
      std::string spec = parts[0];
      auto c1 = spec.find(':');
      if (c1 == std::string::npos || spec.substr(0, c1) != type) BadParam("_include must be " + type + ":param[:TargetType]");
      std::string rest = spec.substr(c1 + 1), param = rest, target;
      if (auto c2 = rest.find(':'); c2 != std::string::npos) {
        param = rest.substr(0, c2);
        target = rest.substr(c2 + 1);
      }
      const SearchParam* def = FindParam(type, param);
      if (!def || def->type != ParamType::kReference) BadParam("_include: '" + param + "' is not a reference parameter of " + type);
      storage::Params p{type, param};
      std::string sql = "SELECT DISTINCT r.type, r.id, r.body FROM fhir_index i JOIN fhir_resource r ON r.type = i.sys AND r.id = i.val "
                        "WHERE i.type = ? AND i.param = ? AND r.deleted = 0 AND i.id IN (" + id_list(p) + ")";
      if (!target.empty()) {
        sql += " AND i.sys = ?";
        p.emplace_back(target);
      }
      if (!filter.sql.empty()) {
        sql += " AND (" + filter.sql + ")";
        for (const auto& fp : filter.params) p.push_back(fp);
      }
      for (const auto& r : db_.Query(sql, p).rows) add_include(r[0].AsText(), r[1].AsText(), r[2].AsText());
    }
    for (const auto& inc : q.revincludes) {
      auto c1 = inc.find(':');
      if (c1 == std::string::npos) BadParam("_revinclude must be SourceType:param");
      std::string src = inc.substr(0, c1), param = inc.substr(c1 + 1);
      const SearchParam* def = FindParam(src, param);
      if (!def || def->type != ParamType::kReference) BadParam("_revinclude: '" + param + "' is not a reference parameter of " + src);
      storage::Params p{src, src, param, type};
      std::string sql = "SELECT r.type, r.id, r.body FROM fhir_resource r WHERE r.type = ? AND r.deleted = 0 AND r.id IN "
                        "(SELECT i.id FROM fhir_index i WHERE i.type = ? AND i.param = ? AND i.sys = ? AND i.val IN (" + id_list(p) + "))";
      if (!filter.sql.empty()) {
        sql += " AND (" + filter.sql + ")";
        for (const auto& fp : filter.params) p.push_back(fp);
      }
      sql += " LIMIT 5000";
      for (const auto& r : db_.Query(sql, p).rows) add_include(r[0].AsText(), r[1].AsText(), r[2].AsText());
    }
  }
  return bundle;
}

Json FhirStore::Everything(const std::string& patient_id, const std::string& base, int64_t count, int64_t offset) const {
  Read("Patient", patient_id);  // 404 / 410 for unknown or deleted patients
  auto total = db_.Query("SELECT COUNT(*) FROM fhir_resource WHERE patient = ? AND deleted = 0", {patient_id}).rows[0][0].AsInt();
  auto res = db_.Query("SELECT type, id, body FROM fhir_resource WHERE patient = ? AND deleted = 0 ORDER BY type = 'Patient' DESC, type, id "
                       "LIMIT ? OFFSET ?",
                       {patient_id, count + 1, offset});
  bool more = static_cast<int64_t>(res.size()) > count;
  if (more) res.rows.pop_back();
  std::string self = base + "/Patient/" + patient_id + "/$everything";
  Json bundle = {{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", total}, {"entry", Json::array()}};
  bundle["link"] = Json::array({{{"relation", "self"}, {"url", self + "?_count=" + std::to_string(count) + "&_offset=" + std::to_string(offset)}}});
  if (more) {
    bundle["link"].push_back({{"relation", "next"}, {"url", self + "?_count=" + std::to_string(count) + "&_offset=" + std::to_string(offset + count)}});
  }
  for (const auto& r : res.rows) {
    bundle["entry"].push_back({{"fullUrl", base + "/" + r[0].AsText() + "/" + r[1].AsText()},
                               {"resource", Json::parse(r[2].AsText())},
                               {"search", {{"mode", "match"}}}});
  }
  return bundle;
}

}  // namespace haip::lake
