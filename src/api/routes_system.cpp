// Health, metrics, the OpenAPI document and platform status.
#include "api/app.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/version.h"

namespace haip::api {

void AddSystemRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Scope;

  router.Add({"GET", "/healthz", Policy::Public(), [&app](RequestContext&) {
                // Healthy means the database answers.
                try {
                  app.platform().db().Query("SELECT 1");
                } catch (const Error& e) {
                  return HttpResponse::FromJson(503, Json{{"status", "unavailable"}, {"reason", e.what()}});
                }
                return HttpResponse::FromJson(200, Json{{"status", "ok"}});
              },
              "Liveness and database health"});

  router.Add({"GET", "/metrics", Policy::Public(), [&app](RequestContext&) {
                HttpResponse r;
                r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                r.body = app.platform().metrics().RenderPrometheus();
                return r;
              },
              "Prometheus metrics"});

  router.Add({"GET", "/api/openapi.json", Policy::Public(), [](RequestContext&) {
                HttpResponse r;
                r.body = std::string(App::OpenApiDocument());
                return r;
              },
              "This API's OpenAPI 3 document"});

  router.Add({"GET", "/api/system/info", Policy::AnyUser(Scope::kSystem), [&app](RequestContext&) {
                Platform& p = app.platform();
                int64_t now = clock::NowMillis();
                return HttpResponse::FromJson(
                    200, Json{{"version", Version()},
                              {"commit", GitCommit()},
                              {"backend", p.db().BackendName()},
                              {"started_at", clock::FormatIso8601(p.started_at_ms())},
                              {"uptime_s", (now - p.started_at_ms()) / 1000},
                              {"data_dir", p.config().DataDir()},
                              {"user_count", p.users().Count()},
                              {"audit_records", p.audit().Count()}});
              },
              "Platform version, backend and counts"});
}

}  // namespace haip::api
