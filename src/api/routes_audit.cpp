// The audit log viewer and chain verification (admin, auditor).
#include "api/app.h"
#include "core/clock.h"
#include "core/error.h"

namespace haip::api {

namespace {
Json RecordToJson(const security::AuditRecord& r) {
  Json detail = Json::parse(r.detail, nullptr, false);
  if (detail.is_discarded()) detail = r.detail;
  return Json{{"id", r.id},
              {"ts", clock::FormatIso8601(r.ts)},
              {"request_id", r.request_id},
              {"user_id", r.user_id ? Json(*r.user_id) : Json(nullptr)},
              {"username", r.username},
              {"roles", r.roles},
              {"action", r.action},
              {"method", r.method},
              {"path", r.path},
              {"status", r.status},
              {"outcome", r.outcome},
              {"patient", r.patient},
              {"detail", detail},
              {"prev_hash", r.prev_hash},
              {"hash", r.hash}};
}

std::optional<int64_t> TimeParam(const HttpRequest& req, const std::string& name) {
  auto v = req.QueryParam(name);
  if (!v || v->empty()) return std::nullopt;
  return clock::ParseIso8601(*v);
}
}  // namespace

void AddAuditRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Role;
  using security::Scope;
  const Policy readers = Policy::Roles({Role::kAdmin, Role::kAuditor}, Scope::kAudit);

  router.Add({"GET", "/api/audit", readers, [&app](RequestContext& ctx) {
                ctx.audit_action = "audit.read";
                const HttpRequest& req = ctx.request;
                security::AuditFilter f;
                f.username = req.QueryParam("username").value_or("");
                f.action = req.QueryParam("action").value_or("");
                f.outcome = req.QueryParam("outcome").value_or("");
                f.patient = req.QueryParam("patient").value_or("");
                f.text = req.QueryParam("q").value_or("");
                f.since = TimeParam(req, "since");
                f.until = TimeParam(req, "until");
                try {
                  if (auto b = req.QueryParam("before_id"); b && !b->empty()) f.before_id = std::stoll(*b);
                  f.limit = std::clamp<size_t>(std::stoul(req.QueryParam("limit").value_or("50")), 1, 1000);
                } catch (const std::exception&) {
                  throw Error(ErrorCode::kBadRequest, "before_id and limit must be numbers");
                }
                auto records = app.platform().audit().Query(f);
                Json out = Json::array();
                for (const auto& r : records) out.push_back(RecordToJson(r));
                Json next = records.size() == f.limit ? Json(records.back().id) : Json(nullptr);
                return HttpResponse::FromJson(200, Json{{"records", out}, {"next_before_id", next}});
              },
              "Search the audit log, newest first"});

  router.Add({"GET", "/api/audit/verify", readers, [&app](RequestContext& ctx) {
                ctx.audit_action = "audit.verify";
                auto v = app.platform().audit().Verify();
                ctx.audit_detail["ok"] = v.ok;
                return HttpResponse::FromJson(
                    200, Json{{"ok", v.ok},
                              {"records", v.records},
                              {"first_bad_id", v.first_bad_id ? Json(*v.first_bad_id) : Json(nullptr)},
                              {"reason", v.ok ? Json(nullptr) : Json(v.reason)},
                              {"head_hash", v.ok ? Json(v.head_hash) : Json(nullptr)}});
              },
              "Verify the audit hash chain"});
}

}  // namespace haip::api
