// Bundle transaction (all or nothing) and batch (each entry on its own).
#include <map>

#include "lake/fhir/search_params.h"
#include "lake/fhir/store.h"

namespace haip::lake {

namespace {

struct EntryPlan {
  size_t index;
  std::string method;  // POST, PUT, DELETE, GET
  std::string type, id;
  SearchParams condition;  // conditional create / update
  bool conditional = false;
  Json resource;
};

SearchParams ParseQuery(const std::string& q) {
  SearchParams out;
  size_t start = 0;
  while (start < q.size()) {
    size_t amp = q.find('&', start);
    std::string pair = q.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    auto eq = pair.find('=');
    if (!pair.empty()) out.emplace_back(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

std::string EntryPath(size_t i) { return "Bundle.entry[" + std::to_string(i) + "]"; }

EntryPlan PlanEntry(const Json& entry, size_t i) {
  EntryPlan plan;
  plan.index = i;
  std::string where = EntryPath(i);
  if (!entry.is_object()) throw FhirError(ErrorCode::kBadRequest, "structure", "entry must be an object", where);
  auto req = entry.find("request");
  if (req == entry.end() || !req->is_object() || !req->contains("method") || !req->contains("url")) {
    throw FhirError(ErrorCode::kBadRequest, "required", "entry.request with method and url is required", where + ".request");
  }
  plan.method = (*req)["method"].get<std::string>();
  std::string url = (*req)["url"].get<std::string>();
  std::string path = url, query;
  if (auto qm = url.find('?'); qm != std::string::npos) {
    path = url.substr(0, qm);
    query = url.substr(qm + 1);
  }
  auto slash = path.find('/');
  plan.type = path.substr(0, slash);
  if (slash != std::string::npos) plan.id = path.substr(slash + 1);
  if (!IsValidTypeName(plan.type)) throw FhirError(ErrorCode::kBadRequest, "invalid", "request.url names no resource type: " + url, where + ".request.url");
  if (plan.method == "POST" || plan.method == "PUT") {
    if (!entry.contains("resource")) throw FhirError(ErrorCode::kBadRequest, "required", "entry.resource is required for " + plan.method, where + ".resource");
    plan.resource = entry["resource"];
    if (plan.resource.value("resourceType", std::string()) != plan.type) {
      throw FhirError(ErrorCode::kBadRequest, "invalid", "resource type does not match request.url", where + ".resource.resourceType");
    }
  }
  if (plan.method == "POST") {
    if (auto ine = req->find("ifNoneExist"); ine != req->end() && ine->is_string()) {
      plan.condition = ParseQuery(ine->get<std::string>());
      plan.conditional = true;
    }
  } else if (plan.method == "PUT") {
    if (!query.empty()) {
      plan.condition = ParseQuery(query);
      plan.conditional = true;
    } else if (plan.id.empty()) {
      throw FhirError(ErrorCode::kBadRequest, "invalid", "PUT needs Type/id or Type?search", where + ".request.url");
    }
  } else if (plan.method == "DELETE") {
    if (plan.id.empty()) throw FhirError(ErrorCode::kBadRequest, "invalid", "DELETE needs Type/id", where + ".request.url");
  } else if (plan.method != "GET") {
    throw FhirError(ErrorCode::kBadRequest, "not-supported", "request.method must be POST, PUT, DELETE or GET", where + ".request.method");
  }
  return plan;
}

// Rewrites every reference found in `node` through `map` (fullUrl -> Type/id).
void RewriteReferences(Json& node, const std::map<std::string, std::string>& map, std::vector<std::string>& dangling,
                       const std::string& path) {
  if (node.is_object()) {
    for (auto& [k, v] : node.items()) {
      if (k == "reference" && v.is_string()) {
        const auto& ref = v.get_ref<const std::string&>();
        if (auto it = map.find(ref); it != map.end()) {
          v = it->second;
        } else if (ref.rfind("urn:uuid:", 0) == 0 || ref.rfind("urn:oid:", 0) == 0) {
          dangling.push_back(path + ".reference");
        }
      } else {
        RewriteReferences(v, map, dangling, path + "." + k);
      }
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) RewriteReferences(node[i], map, dangling, path + "[" + std::to_string(i) + "]");
  }
}

Json ResponseEntry(const std::string& status, const WriteOutcome* w, const std::string& base) {
  Json e = {{"response", {{"status", status}}}};
  if (w) {
    std::string type = w->resource["resourceType"], id = w->resource["id"];
    e["fullUrl"] = base + "/" + type + "/" + id;
    e["response"]["location"] = type + "/" + id + "/_history/" + std::to_string(w->version);
    e["response"]["etag"] = "W/\"" + std::to_string(w->version) + "\"";
    e["response"]["lastModified"] = w->resource["meta"]["lastUpdated"];
    e["resource"] = w->resource;
  }
  return e;
}
}  // namespace

Json FhirStore::ProcessBundle(const Json& bundle, const std::string& base, bool keep_ids,
                              std::vector<WriteOutcome>* outcomes) {
  if (!bundle.is_object() || bundle.value("resourceType", std::string()) != "Bundle") {
    throw FhirError(ErrorCode::kBadRequest, "structure", "the body must be a Bundle", "Bundle");
  }
  std::string kind = bundle.value("type", std::string());
  if (kind != "transaction" && kind != "batch") {
    throw FhirError(ErrorCode::kBadRequest, "value", "Bundle.type must be transaction or batch", "Bundle.type");
  }
  Json entries = bundle.value("entry", Json::array());
  if (!entries.is_array()) throw FhirError(ErrorCode::kBadRequest, "structure", "Bundle.entry must be an array", "Bundle.entry");
  Json response = {{"resourceType", "Bundle"}, {"type", kind + "-response"}, {"entry", Json::array()}};

  if (kind == "batch") {
    for (size_t i = 0; i < entries.size(); ++i) {
      try {
        EntryPlan plan = PlanEntry(entries[i], i);
        if (plan.method == "GET") {
          Json r = plan.id.empty() ? Search(plan.type, plan.condition, base) : Read(plan.type, plan.id);
          response["entry"].push_back({{"resource", r}, {"response", {{"status", "200"}}}});
        } else if (plan.method == "DELETE") {
          Delete(plan.type, plan.id);
          response["entry"].push_back(ResponseEntry("204", nullptr, base));
        } else {
          if (plan.conditional) {
            auto ids = Match(plan.type, plan.condition);
            if (ids.size() > 1) throw FhirError(ErrorCode::kPreconditionFailed, "multiple-matches", "the condition matches more than one resource");
            if (ids.size() == 1 && plan.method == "POST") {
              Json existing = Read(plan.type, ids[0]);
              response["entry"].push_back({{"response", {{"status", "200"}, {"location", plan.type + "/" + ids[0]}}}, {"resource", existing}});
              continue;
            }
            if (ids.size() == 1) plan.id = ids[0];
          }
          WriteOutcome w = plan.method == "PUT" ? Update(plan.type, plan.id.empty() ? NewResourceId() : plan.id, [&] {
            Json r = plan.resource;
            if (!plan.id.empty()) r["id"] = plan.id;
            return r;
          }())
                                                : Create(plan.resource);
          response["entry"].push_back(ResponseEntry(w.created ? "201" : "200", &w, base));
        }
      } catch (const FhirError& e) {
        response["entry"].push_back({{"response", {{"status", std::to_string(HttpStatus(e.code())) + " " + std::string(ErrorCodeName(e.code()))}, {"outcome", e.outcome()}}}});
      } catch (const Error& e) {
        response["entry"].push_back({{"response", {{"status", std::to_string(HttpStatus(e.code()))}, {"outcome", MakeOperationOutcome("exception", e.what())}}}});
      }
    }
    return response;
  }

  // Transaction: plan and validate everything first, then write it all in
  // one database transaction; any failure leaves nothing behind.
  std::vector<EntryPlan> plans;
  std::vector<ValidationIssue> issues;
  std::map<std::string, std::string> full_urls;  // fullUrl -> Type/id
  for (size_t i = 0; i < entries.size(); ++i) {
    EntryPlan plan = PlanEntry(entries[i], i);
    if (plan.method == "POST" || plan.method == "PUT") {
      auto found = ValidateResource(plan.resource, EntryPath(i) + ".resource");
      issues.insert(issues.end(), found.begin(), found.end());
    }
    if (plan.method == "POST" && !plan.conditional) {
      std::string full_url = entries[i].value("fullUrl", std::string());
      if (keep_ids && plan.resource.contains("id") && plan.resource["id"].is_string()) {
        plan.id = plan.resource["id"].get<std::string>();
      } else if (keep_ids && full_url.rfind("urn:uuid:", 0) == 0 && IsValidId(full_url.substr(9))) {
        plan.id = full_url.substr(9);
      } else {
        plan.id = NewResourceId();
      }
    }
    if (plan.conditional) {
      auto ids = Match(plan.type, plan.condition);
      if (ids.size() > 1) {
        throw FhirError(ErrorCode::kPreconditionFailed, "multiple-matches", "the condition matches more than one resource",
                        EntryPath(i) + ".request");
      }
      if (ids.size() == 1) {
        plan.id = ids[0];
        if (plan.method == "POST") plan.method = "GET";  // exists: no write, resolve references to it
      } else if (plan.id.empty()) {
        plan.id = NewResourceId();
      }
    }
    if (entries[i].contains("fullUrl") && entries[i]["fullUrl"].is_string()) {
      full_urls[entries[i]["fullUrl"].get<std::string>()] = plan.type + "/" + plan.id;
    }
    plans.push_back(std::move(plan));
  }
  for (auto& plan : plans) {
    if (plan.method != "POST" && plan.method != "PUT") continue;
    std::vector<std::string> dangling;
    RewriteReferences(plan.resource, full_urls, dangling, EntryPath(plan.index) + ".resource");
    for (const auto& d : dangling) issues.push_back({"error", "not-found", d, "reference to a bundle entry that does not exist"});
    plan.resource["id"] = plan.id;
  }
  if (!issues.empty()) {
    throw FhirError(ErrorCode::kUnprocessable, Outcome{MakeOperationOutcome(issues)},
                    "transaction rejected: " + issues[0].expression + ": " + issues[0].diagnostics);
  }
  std::vector<Json> results(plans.size());
  db_.Transaction([&](storage::Session& tx) {
    if (outcomes) outcomes->clear();
    for (size_t k = 0; k < plans.size(); ++k) {
      auto& plan = plans[k];
      if (plan.method == "POST" || plan.method == "PUT") {
        WriteOutcome w = Write(tx, plan.resource, plan.type, plan.id);
        results[k] = ResponseEntry(w.created ? "201 Created" : "200 OK", &w, base);
        if (outcomes) outcomes->push_back(std::move(w));
      } else if (plan.method == "DELETE") {
        DeleteIn(tx, plan.type, plan.id);
        results[k] = ResponseEntry("204 No Content", nullptr, base);
      }
    }
  });
  for (size_t k = 0; k < plans.size(); ++k) {
    if (plans[k].method == "GET") {
      results[k] = plans[k].id.empty() ? Json{{"resource", Search(plans[k].type, plans[k].condition, base)}, {"response", {{"status", "200 OK"}}}}
                                       : Json{{"resource", Read(plans[k].type, plans[k].id)}, {"response", {{"status", "200 OK"}}}};
    }
    response["entry"].push_back(std::move(results[k]));
  }
  return response;
}

}  // namespace haip::lake
