// FHIR Bulk Data $export (system, Patient, Group), asynchronous, with an
// optional de-identified profile (_deid=true); researchers get only that.
#include <filesystem>
#include <fstream>

#include "api/app.h"
#include "core/clock.h"
#include "lake/export/export.h"
#include "lake/fhir/access.h"
#include "lake/fhir/search_params.h"

namespace haip::api {

namespace {

HttpResponse Outcome(int status, const std::string& code, const std::string& diag, const std::string& request_id) {
  Json o = lake::MakeOperationOutcome(code, diag);
  o["id"] = request_id;
  HttpResponse r = HttpResponse::FromJson(status, o);
  r.content_type = "application/fhir+json; charset=utf-8";
  return r;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t c = s.find(',', start);
    std::string part = s.substr(start, c == std::string::npos ? std::string::npos : c - start);
    if (!part.empty()) out.push_back(part);
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

HttpResponse KickOff(App& app, RequestContext& ctx, const std::string& level, const std::string& group_id) {
  ctx.audit_action = "fhir.export";
  const auto& caller = ctx.Caller();
  const HttpRequest& req = ctx.request;
  if (req.Header("prefer").find("respond-async") == std::string_view::npos) {
    return Outcome(400, "invalid", "$export is asynchronous: send 'Prefer: respond-async'", ctx.request_id);
  }
  lake::ExportRequest er;
  er.deid = req.QueryParam("_deid").value_or("false") == "true";
  er.purpose = req.QueryParam("_purpose").value_or(std::string(req.Header("x-haip-purpose")));
  if (er.purpose.empty()) er.purpose = "unspecified";
  if (auto fmt = req.QueryParam("_outputFormat"); fmt && *fmt != "application/fhir+ndjson" && *fmt != "application/ndjson" && *fmt != "ndjson") {
    return Outcome(400, "not-supported", "only application/fhir+ndjson output is supported", ctx.request_id);
  }
  if (auto types = req.QueryParam("_type")) {
    for (const auto& t : SplitCommas(*types)) {
      if (!lake::IsValidTypeName(t)) return Outcome(400, "invalid", "_type: '" + t + "' is not a resource type", ctx.request_id);
      er.types.push_back(t);
    }
  }
  if (auto since = req.QueryParam("_since"); since && !since->empty()) er.since = clock::ParseIso8601(*since);
  ctx.audit_detail["level"] = level;
  ctx.audit_detail["deid"] = er.deid;
  ctx.audit_detail["purpose"] = er.purpose;
  // Researchers see de-identified data only; others within their access.
  if (caller.Has(security::Role::kResearcher) && !caller.Has(security::Role::kAdmin) && !caller.Has(security::Role::kClinician)) {
    if (!er.deid) {
      return Outcome(403, "forbidden", "researchers may export de-identified data only: add _deid=true", ctx.request_id);
    }
  } else {
    auto access = lake::AccessFor(caller, std::string(req.Header("x-haip-break-glass")));
    er.filter = access.filter;
  }
  if (level != "system") er.patient_compartment = true;
  if (level == "group") {
    Json group = app.platform().fhir().Read("Group", group_id);
    std::vector<std::string> members;
    for (const auto& m : group.value("member", Json::array())) {
      std::string ref = m.value("entity", Json::object()).value("reference", std::string());
      if (ref.rfind("Patient/", 0) == 0) members.push_back(ref.substr(8));
    }
    er.patients = members;
    ctx.audit_detail["group"] = group_id;
    ctx.audit_detail["patient_count"] = members.size();
  }
  Json request_json = {{"url", req.target}, {"level", level}};
  std::string job = app.platform().exports().Submit(caller.username, er, request_json);
  ctx.audit_detail["job"] = job;
  HttpResponse r = HttpResponse::NoContent();
  r.status = 202;
  r.headers.emplace_back("Content-Location", "/fhir/$export-status/" + job);
  return r;
}

const lake::ExportJob& OwnJob(App& app, RequestContext& ctx, std::optional<lake::ExportJob>& job) {
  job = app.platform().exports().Get(ctx.Param("job"));
  // Someone else's job reads as missing, so job ids cannot be probed.
  if (!job || (job->owner != ctx.Caller().username && !ctx.Caller().Has(security::Role::kAdmin))) {
    throw Error(ErrorCode::kNotFound, "no export job " + ctx.Param("job"));
  }
  return *job;
}
}  // namespace

void AddExportRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Role;
  using security::Scope;
  const Policy exporters = Policy::Roles({Role::kAdmin, Role::kClinician, Role::kResearcher, Role::kService}, Scope::kPatient);

  router.Add({"GET", "/fhir/$export", exporters, [&app](RequestContext& ctx) { return KickOff(app, ctx, "system", ""); },
              "Bulk Data system export (async; _type, _since, _deid=true, _purpose)"});
  router.Add({"GET", "/fhir/Patient/$export", exporters, [&app](RequestContext& ctx) { return KickOff(app, ctx, "patient", ""); },
              "Bulk Data export of all patients' compartments"});
  router.Add({"GET", "/fhir/Group/{id}/$export", exporters,
              [&app](RequestContext& ctx) { return KickOff(app, ctx, "group", ctx.Param("id")); },
              "Bulk Data export of a Group's patients"});

  router.Add({"GET", "/fhir/$export-status/{job}", exporters, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.export_status";
                std::optional<lake::ExportJob> holder;
                const auto& job = OwnJob(app, ctx, holder);
                if (job.status == "queued" || job.status == "running") {
                  HttpResponse r = HttpResponse::NoContent();
                  r.status = 202;
                  r.headers.emplace_back("X-Progress", job.status + ": " + std::to_string(job.progress) + " resources");
                  r.headers.emplace_back("Retry-After", "2");
                  return r;
                }
                if (job.status == "done") return HttpResponse::FromJson(200, job.manifest);
                return Outcome(job.status == "cancelled" ? 404 : 500, "exception",
                               "export " + job.status + (job.error.empty() ? "" : ": " + job.error), ctx.request_id);
              },
              "Bulk Data export status / manifest"});

  router.Add({"DELETE", "/fhir/$export-status/{job}", exporters, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.export_cancel";
                std::optional<lake::ExportJob> holder;
                OwnJob(app, ctx, holder);
                app.platform().exports().Cancel(ctx.Param("job"));
                HttpResponse r = HttpResponse::NoContent();
                r.status = 202;
                return r;
              },
              "Cancel an export and delete its files"});

  router.Add({"GET", "/fhir/$export-file/{job}/{file}", exporters, [&app](RequestContext& ctx) {
                ctx.audit_action = "fhir.export_download";
                std::optional<lake::ExportJob> holder;
                const auto& job = OwnJob(app, ctx, holder);
                auto path = app.platform().exports().FilePath(job.id, ctx.Param("file"));
                if (!path) throw Error(ErrorCode::kNotFound, "no file " + ctx.Param("file") + " in export " + job.id);
                std::ifstream in(*path, std::ios::binary);
                HttpResponse r;
                r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
                r.content_type = "application/fhir+ndjson";
                ctx.audit_detail["job"] = job.id;
                ctx.audit_detail["file"] = ctx.Param("file");
                ctx.audit_detail["deid"] = job.manifest.contains("extension");
                return r;
              },
              "Download one NDJSON file of a finished export"});
}

}  // namespace haip::api
