// Research cohorts: run criteria (count, attrition and, for those allowed to
// see identified data, the patient list), save and version definitions,
// search codes, and show the equivalent SQL.
#include "api/app.h"
#include "cohort/criteria.h"
#include "cohort/service.h"
#include "cohort/sql.h"
#include "lake/fhir/access.h"

namespace haip::api {
namespace {

Json SavedJson(const cohort::SavedCohort& c, bool with_criteria) {
  Json j = {{"id", c.id}, {"version", c.version}, {"title", c.title}, {"createdBy", c.created_by},
            {"createdAt", c.created_at}};
  if (with_criteria) j["criteria"] = c.criteria;
  return j;
}

// Runs criteria for the caller. Patient ids only for callers who may see
// identified data (administrators, service accounts, clinicians: their
// department's patients, or all with a break-glass reason); researchers get
// counts and attrition.
HttpResponse RunFor(App& app, RequestContext& ctx, const Json& criteria_json, bool want_patients) {
  ctx.audit_action = "cohort.run";
  const auto& caller = ctx.Caller();
  cohort::Criteria criteria = cohort::ParseCriteria(criteria_json);
  bool with_patients = want_patients && !caller.Has(security::Role::kResearcher) &&
                       (caller.Has(security::Role::kAdmin) || caller.Has(security::Role::kClinician) ||
                        caller.Has(security::Role::kService));
  auto result = app.platform().cohorts().Run(criteria, with_patients);
  Json body = cohort::ResultToJson(result, false);
  if (with_patients) {
    auto access = CallerPatientAccess(ctx);
    Json ids = Json::array();
    int64_t hidden = 0;
    for (const auto& p : result.patients) {
      if (access.all || lake::CanSeePatient(app.platform().db(), access, p)) ids.push_back(p);
      else ++hidden;
    }
    body["patients"] = ids;
    body["patientsHidden"] = hidden;
    ctx.audit_detail["patients_listed"] = ids.size();
  } else if (want_patients) {
    body["patientsWithheld"] = "researchers see counts and attrition; identified lists need a clinical or admin role";
  }
  ctx.audit_detail["title"] = criteria.title;
  ctx.audit_detail["count"] = result.count;
  return HttpResponse::FromJson(200, body);
}

bool Flag(const RequestContext& ctx, const char* name) {
  auto it = ctx.request.query.find(name);
  return it != ctx.request.query.end() && (it->second == "true" || it->second == "1");
}

}  // namespace

void AddCohortRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Role;
  using security::Scope;
  const Policy users = Policy::Roles({Role::kAdmin, Role::kClinician, Role::kResearcher}, Scope::kPatient);

  router.Add({"POST", "/api/cohorts/run", users,
              [&app](RequestContext& ctx) { return RunFor(app, ctx, ctx.Body(), Flag(ctx, "patients")); },
              "Run cohort criteria (body: criteria JSON; ?patients=true for the list)"});
  router.Add({"POST", "/api/cohorts/sql", users,
              [](RequestContext& ctx) {
                ctx.audit_action = "cohort.sql";
                cohort::Criteria c = cohort::ParseCriteria(ctx.Body());
                auto it = ctx.request.query.find("dialect");
                auto dialect = it != ctx.request.query.end() && it->second == "sqlite" ? storage::Dialect::kSqlite
                                                                                      : storage::Dialect::kPostgres;
                return HttpResponse::FromJson(
                    200, {{"attrition", cohort::AttritionSql(c, dialect)}, {"patients", cohort::PatientsSql(c, dialect)}});
              },
              "The OHDSI-style SQL for criteria over the flat tables"});
  router.Add({"GET", "/api/cohorts/codes", users,
              [&app](RequestContext& ctx) {
                ctx.audit_action = "cohort.codes";
                auto it = ctx.request.query.find("q");
                std::string q = it == ctx.request.query.end() ? "" : it->second;
                app.platform().cohorts().CatchUp();
                Json out = Json::array();
                for (const auto& h : app.platform().cohorts().index().SearchConcepts(q, 50)) {
                  out.push_back({{"domain", cohort::DomainName(h.domain)}, {"system", h.system}, {"code", h.code},
                                 {"display", h.display}, {"patients", h.patients}});
                }
                return HttpResponse::FromJson(200, {{"codes", out}});
              },
              "Codes in the lake matching ?q= (code or display), with patient counts"});
  router.Add({"GET", "/api/cohorts", users,
              [&app](RequestContext& ctx) {
                ctx.audit_action = "cohort.list";
                Json out = Json::array();
                for (const auto& c : app.platform().cohorts().List()) out.push_back(SavedJson(c, false));
                return HttpResponse::FromJson(200, {{"cohorts", out}});
              },
              "Saved cohorts (latest versions)"});
  router.Add({"POST", "/api/cohorts", users,
              [&app](RequestContext& ctx) {
                ctx.audit_action = "cohort.save";
                auto saved = app.platform().cohorts().Save(ctx.Body(), ctx.Caller().username, std::nullopt);
                ctx.audit_detail["cohort"] = saved.id;
                return HttpResponse::FromJson(201, SavedJson(saved, true));
              },
              "Save criteria as a new cohort"});
  router.Add({"GET", "/api/cohorts/{id}", users,
              [&app](RequestContext& ctx) {
                ctx.audit_action = "cohort.get";
                auto it = ctx.request.query.find("version");
                std::optional<int64_t> version;
                if (it != ctx.request.query.end()) {
                  try {
                    version = std::stoll(it->second);
                  } catch (const std::exception&) {
                    throw Error(ErrorCode::kBadRequest, "version must be an integer");
                  }
                }
                auto c = app.platform().cohorts().Get(ctx.Param("id"), version);
                Json j = SavedJson(c, true);
                j["versions"] = Json::array();
                for (const auto& v : app.platform().cohorts().Versions(c.id)) j["versions"].push_back(SavedJson(v, false));
                return HttpResponse::FromJson(200, j);
              },
              "A saved cohort (latest or ?version=N) with its version list"});
  router.Add({"PUT", "/api/cohorts/{id}", users,
              [&app](RequestContext& ctx) {
                ctx.audit_action = "cohort.save";
                auto saved = app.platform().cohorts().Save(ctx.Body(), ctx.Caller().username, ctx.Param("id"));
                ctx.audit_detail["cohort"] = saved.id;
                ctx.audit_detail["version"] = saved.version;
                return HttpResponse::FromJson(200, SavedJson(saved, true));
              },
              "Save a new version of a cohort"});
  router.Add({"POST", "/api/cohorts/{id}/run", users,
              [&app](RequestContext& ctx) {
                auto it = ctx.request.query.find("version");
                std::optional<int64_t> version;
                if (it != ctx.request.query.end()) version = std::atoll(it->second.c_str());
                auto c = app.platform().cohorts().Get(ctx.Param("id"), version);
                ctx.audit_detail["cohort"] = c.id;
                ctx.audit_detail["version"] = c.version;
                return RunFor(app, ctx, c.criteria, Flag(ctx, "patients"));
              },
              "Run a saved cohort (latest or ?version=N)"});
}

}  // namespace haip::api
