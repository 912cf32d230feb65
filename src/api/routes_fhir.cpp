// The FHIR R4 REST API (/fhir) and the lake's ingest API. FHIR errors are
// OperationOutcome resources; every access to patient data is audited with
// the patients it touched.
#include <zlib.h>

#include <set>

#include "api/app.h"
#include "core/clock.h"
#include "core/version.h"
#include "lake/fhir/access.h"
#include "lake/fhir/search_params.h"

namespace haip::api {

namespace {

constexpr const char* kFhirJson = "application/fhir+json; charset=utf-8";

HttpResponse Fhir(int status, const Json& body) {
  HttpResponse r = HttpResponse::FromJson(status, body);
  r.content_type = kFhirJson;
  return r;
}

HttpResponse Outcome(int status, const Json& outcome, const std::string& request_id) {
  Json o = outcome;
  o["id"] = request_id;  // ties the OperationOutcome to the logs and the audit record
  return Fhir(status, o);
}

// Runs a FHIR handler, turning errors into OperationOutcome responses.
template <typename Fn>
HttpResponse Guard(RequestContext& ctx, Fn&& fn) {
  try {
    return fn();
  } catch (const lake::FhirError& e) {
    ctx.audit_detail["error"] = e.what();
    return Outcome(HttpStatus(e.code()), e.outcome(), ctx.request_id);
  } catch (const Error& e) {
    ctx.audit_detail["error"] = e.what();
    static const std::map<ErrorCode, const char*> issue = {{ErrorCode::kForbidden, "forbidden"}, {ErrorCode::kNotFound, "not-found"},
                                                           {ErrorCode::kBadRequest, "invalid"}, {ErrorCode::kConflict, "conflict"}};
    auto it = issue.find(e.code());
    return Outcome(HttpStatus(e.code()), lake::MakeOperationOutcome(it == issue.end() ? "exception" : it->second, e.what()), ctx.request_id);
  }
}

Json ParseBody(const RequestContext& ctx) {
  Json body = Json::parse(ctx.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    throw lake::FhirError(ErrorCode::kBadRequest, "structure", "the body must be a FHIR resource in JSON");
  }
  return body;
}

lake::SearchParams QueryParams(const HttpRequest& req) {
  // Repeated parameters are ANDed, so they are read from the raw target.
  lake::SearchParams out;
  auto q = req.target.find('?');
  if (q == std::string::npos) return out;
  std::string_view rest(req.target);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      out.emplace_back(PercentDecode(pair.substr(0, eq), true),
                       eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

lake::PatientAccess CallerPatientAccess(RequestContext& ctx) {
  // Browsers send only Latin-1 in headers, so the console percent-encodes
  // the (often Chinese) reason; plain text passes through unchanged.
  std::string reason;
  try {
    reason = PercentDecode(ctx.request.Header("x-haip-break-glass"), false);
  } catch (const Error&) {
    reason = std::string(ctx.request.Header("x-haip-break-glass"));
  }
  auto access = lake::AccessFor(ctx.Caller(), reason);
  if (access.break_glass) {
    ctx.audit_detail["break_glass"] = true;
    ctx.audit_detail["break_glass_reason"] = reason;
  }
  return access;
}

namespace {

lake::PatientAccess Access(RequestContext& ctx) { return CallerPatientAccess(ctx); }

void CheckPatient(App& app, RequestContext& ctx, const lake::PatientAccess& access, const std::string& patient) {
  if (!patient.empty()) ctx.audit_patient = "Patient/" + patient;
  if (!lake::CanSeePatient(app.platform().db(), access, patient)) {
    throw Error(ErrorCode::kForbidden, "this patient is not one of your department's; use break-glass with a reason if you must");
  }
}

// Names the patients a bundle touched, for the audit record.
void AuditPatients(RequestContext& ctx, const Json& bundle) {
  std::set<std::string> patients;
  for (const auto& e : bundle.value("entry", Json::array())) {
    if (!e.contains("resource")) continue;
    if (std::string p = lake::PatientIdOf(e["resource"]); !p.empty()) patients.insert(p);
  }
  if (patients.size() == 1) ctx.audit_patient = "Patient/" + *patients.begin();
  Json list = Json::array();
  for (const auto& p : patients) {
    if (list.size() == 200) break;
    list.push_back(p);
  }
  ctx.audit_detail["patients"] = list;
  ctx.audit_detail["patient_count"] = patients.size();
}

HttpResponse Written(const lake::WriteOutcome& w) {
  HttpResponse r = Fhir(w.created ? 201 : 200, w.resource);
  std::string type = w.resource["resourceType"], id = w.resource["id"];
  r.headers.emplace_back("Location", "/fhir/" + type + "/" + id + "/_history/" + std::to_string(w.version));
  r.headers.emplace_back("ETag", "W/\"" + std::to_string(w.version) + "\"");
  r.headers.emplace_back("Last-Modified", w.resource["meta"]["lastUpdated"].get<std::string>());
  return r;
}

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error(ErrorCode::kInternal, "zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw Error(ErrorCode::kBadRequest, "the body is not valid gzip");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > (size_t{1} << 31)) {
      inflateEnd(&zs);
      throw Error(ErrorCode::kPayloadTooLarge, "the uncompressed body is larger than 2 GiB");
    }
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

Json CapabilityStatement() {
  Json rest = {{"mode", "server"}, {"resource", Json::array()}, {"interaction", Json::array({{{"code", "transaction"}}, {{"code", "batch"}}})}};
  auto types = lake::SupportedResourceTypes();
  for (std::string_view t : types) {
    Json res = {{"type", t},
                {"versioning", "versioned"},
                {"readHistory", true},
                {"updateCreate", true},
                {"conditionalCreate", true},
                {"conditionalUpdate", true},
                {"interaction", Json::array()},
                {"searchParam", Json::array()}};
    for (const char* i : {"read", "vread", "update", "delete", "history-instance", "create", "search-type"}) {
      res["interaction"].push_back({{"code", i}});
    }
    static const std::map<lake::ParamType, const char*> names = {{lake::ParamType::kToken, "token"}, {lake::ParamType::kReference, "reference"},
                                                                 {lake::ParamType::kDate, "date"}, {lake::ParamType::kQuantity, "quantity"},
                                                                 {lake::ParamType::kString, "string"}};
    for (const auto& p : lake::ParamsFor(t)) res["searchParam"].push_back({{"name", p.name}, {"type", names.at(p.type)}});
    res["searchParam"].push_back({{"name", "_id"}, {"type", "token"}});
    res["searchParam"].push_back({{"name", "_lastUpdated"}, {"type", "date"}});
    if (t == "Patient") res["operation"] = Json::array({{{"name", "everything"}, {"definition", "http://hl7.org/fhir/OperationDefinition/Patient-everything"}}});
    rest["resource"].push_back(std::move(res));
  }
  return {{"resourceType", "CapabilityStatement"},
          {"status", "active"},
          {"date", clock::FormatIso8601(clock::NowMillis()).substr(0, 10)},
          {"kind", "instance"},
          {"fhirVersion", "4.0.1"},
          {"format", Json::array({"json"})},
          {"software", {{"name", "HAIP"}, {"version", Version()}}},
          {"implementation", {{"description", "HAIP clinical data lake"}}},
          {"rest", Json::array({rest})}};
}
}  // namespace

void AddFhirRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Role;
  using security::Scope;
  const Policy readers = Policy::Roles({Role::kAdmin, Role::kClinician, Role::kService}, Scope::kPatient);
  const Policy writers = readers;
  const std::string base = "/fhir";

  router.Add({"GET", "/fhir/metadata", Policy::Public(), [](RequestContext&) { return Fhir(200, CapabilityStatement()); },
              "FHIR CapabilityStatement"});

  router.Add({"GET", "/fhir/{type}", readers, [&app, base](RequestContext& ctx) {
                ctx.audit_action = "fhir.search";
                return Guard(ctx, [&] {
                  const std::string& type = ctx.Param("type");
                  auto access = Access(ctx);
                  auto params = QueryParams(ctx.request);
                  ctx.audit_detail["type"] = type;
                  Json bundle = app.platform().fhir().Search(type, params, base, access.filter);
                  AuditPatients(ctx, bundle);
                  return Fhir(200, bundle);
                });
              },
              "FHIR search"});

  router.Add({"POST", "/fhir/{type}", writers, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.create";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  Json body = ParseBody(ctx);
                  const std::string& type = ctx.Param("type");
                  if (body.value("resourceType", std::string()) != type) {
                    throw lake::FhirError(ErrorCode::kBadRequest, "invalid", "resourceType must be " + type, type + ".resourceType");
                  }
                  CheckPatient(app, ctx, access, lake::PatientIdOf(body));
                  std::string_view cond = ctx.request.Header("if-none-exist");
                  if (!cond.empty()) {
                    HttpRequest probe;
                    probe.target = "/?" + std::string(cond);
                    auto ids = app.platform().fhir().Match(type, QueryParams(probe));
                    if (ids.size() > 1) throw lake::FhirError(ErrorCode::kPreconditionFailed, "multiple-matches", "If-None-Exist matches several resources");
                    if (ids.size() == 1) return Fhir(200, app.platform().fhir().Read(type, ids[0]));
                  }
                  auto w = app.platform().fhir().Create(std::move(body));
                  ctx.audit_detail["id"] = type + "/" + w.resource["id"].get<std::string>();
                  return Written(w);
                });
              },
              "FHIR create (conditional with If-None-Exist)"});

  router.Add({"PUT", "/fhir/{type}", writers, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.update";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  const std::string& type = ctx.Param("type");
                  auto params = QueryParams(ctx.request);
                  if (params.empty()) throw lake::FhirError(ErrorCode::kBadRequest, "invalid", "conditional update needs search parameters");
                  Json body = ParseBody(ctx);
                  CheckPatient(app, ctx, access, lake::PatientIdOf(body));
                  auto ids = app.platform().fhir().Match(type, params);
                  if (ids.size() > 1) throw lake::FhirError(ErrorCode::kPreconditionFailed, "multiple-matches", "the condition matches several resources");
                  std::string id = ids.empty() ? body.value("id", lake::NewResourceId()) : ids[0];
                  body["id"] = id;
                  return Written(app.platform().fhir().Update(type, id, std::move(body)));
                });
              },
              "FHIR conditional update"});

  router.Add({"GET", "/fhir/{type}/{id}", readers, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.read";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  const std::string &type = ctx.Param("type"), &id = ctx.Param("id");
                  CheckPatient(app, ctx, access, app.platform().fhir().PatientOf(type, id));
                  Json r = app.platform().fhir().Read(type, id);
                  HttpResponse resp = Fhir(200, r);
                  resp.headers.emplace_back("ETag", "W/\"" + r["meta"]["versionId"].get<std::string>() + "\"");
                  return resp;
                });
              },
              "FHIR read"});

  router.Add({"PUT", "/fhir/{type}/{id}", writers, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.update";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  const std::string &type = ctx.Param("type"), &id = ctx.Param("id");
                  Json body = ParseBody(ctx);
                  CheckPatient(app, ctx, access, lake::PatientIdOf(body));
                  CheckPatient(app, ctx, access, app.platform().fhir().PatientOf(type, id));
                  std::string_view if_match = ctx.request.Header("if-match");
                  if (!if_match.empty()) {
                    Json cur = app.platform().fhir().Read(type, id);
                    if ("W/\"" + cur["meta"]["versionId"].get<std::string>() + "\"" != if_match) {
                      throw lake::FhirError(ErrorCode::kConflict, "conflict", "If-Match does not match the current version " + cur["meta"]["versionId"].get<std::string>());
                    }
                  }
                  return Written(app.platform().fhir().Update(type, id, std::move(body)));
                });
              },
              "FHIR update (or create with this id)"});

  router.Add({"DELETE", "/fhir/{type}/{id}", writers, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.delete";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  const std::string &type = ctx.Param("type"), &id = ctx.Param("id");
                  CheckPatient(app, ctx, access, app.platform().fhir().PatientOf(type, id));
                  app.platform().fhir().Delete(type, id);
                  return HttpResponse::NoContent();
                });
              },
              "FHIR delete"});

  router.Add({"GET", "/fhir/{type}/{id}/_history", readers, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.history";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  const std::string &type = ctx.Param("type"), &id = ctx.Param("id");
                  CheckPatient(app, ctx, access, app.platform().fhir().PatientOf(type, id));
                  return Fhir(200, app.platform().fhir().History(type, id));
                });
              },
              "FHIR history of one resource"});

  router.Add({"GET", "/fhir/{type}/{id}/_history/{vid}", readers, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.vread";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  const std::string &type = ctx.Param("type"), &id = ctx.Param("id");
                  CheckPatient(app, ctx, access, app.platform().fhir().PatientOf(type, id));
                  int64_t v = 0;
                  try {
                    v = std::stoll(ctx.Param("vid"));
                  } catch (const std::exception&) {
                    throw lake::FhirError(ErrorCode::kBadRequest, "invalid", "version id must be a number");
                  }
                  return Fhir(200, app.platform().fhir().VRead(type, id, v));
                });
              },
              "FHIR vread"});

  router.Add({"GET", "/fhir/Patient/{id}/$everything", readers, [&app, base](RequestContext& ctx) {
                ctx.audit_action = "fhir.everything";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  const std::string& id = ctx.Param("id");
                  CheckPatient(app, ctx, access, id);
                  int64_t count = std::clamp<int64_t>(std::stoll(ctx.request.QueryParam("_count").value_or("1000")), 1, 5000);
                  int64_t offset = std::max<int64_t>(0, std::stoll(ctx.request.QueryParam("_offset").value_or("0")));
                  return Fhir(200, app.platform().fhir().Everything(id, base, count, offset));
                });
              },
              "Everything about one patient"});

  router.Add({"POST", "/fhir", writers, [&app, base](RequestContext& ctx) {
                ctx.audit_action = "fhir.bundle";
                return Guard(ctx, [&] {
                  auto access = Access(ctx);
                  if (!access.all) throw Error(ErrorCode::kForbidden, "transactions and batches need unrestricted access (admin or service)");
                  Json bundle = ParseBody(ctx);
                  ctx.audit_detail["bundle_type"] = bundle.value("type", std::string());
                  Json resp = app.platform().fhir().ProcessBundle(bundle, base);
                  AuditPatients(ctx, resp);
                  return Fhir(200, resp);
                });
              },
              "FHIR transaction or batch Bundle"});

  router.Add({"POST", "/api/lake/ingest", Policy::Roles({Role::kAdmin, Role::kService}, Scope::kPatient), [&app](RequestContext& ctx) {
                ctx.audit_action = "lake.ingest";
                std::string body = ctx.request.body;
                if (ctx.request.Header("content-encoding") == "gzip") body = Gunzip(body);
                std::string name = ctx.request.QueryParam("name").value_or("upload");
                auto report = app.platform().fhir_ingest().IngestText(body, name, {});
                Json out = {{"written", report.written}, {"unchanged", report.unchanged}, {"rejected", report.rejected},
                            {"by_type", report.by_type}, {"errors", report.errors}, {"seconds", report.seconds}};
                ctx.audit_detail["written"] = report.written;
                ctx.audit_detail["rejected"] = report.rejected;
                ctx.audit_detail["name"] = name;
                return HttpResponse::FromJson(report.rejected ? 422 : 200, out);
              },
              "Ingest NDJSON or Bundle JSON (gzip with Content-Encoding: gzip)"});

  router.Add({"GET", "/api/lake/stats", Policy::AnyUser(Scope::kSystem), [&app](RequestContext&) {
                auto counts = app.platform().fhir().CountByType();
                int64_t total = 0;
                for (auto& [_, n] : counts) total += n;
                return HttpResponse::FromJson(200, Json{{"resources", total}, {"by_type", counts}});
              },
              "Resource counts per type (no patient data)"});
}

}  // namespace haip::api
