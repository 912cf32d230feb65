// The HTTP application: authenticates the caller, enforces the route's
// policy and CSRF rules, runs the handler, writes the audit record and only
// then releases the response. Independent of the network layer.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "api/http.h"
#include "api/router.h"
#include "lake/fhir/access.h"
#include "platform/platform.h"

namespace haip::api {

inline constexpr std::string_view kSessionCookie = "haip_session";

class App {
 public:
  // Registers every route of the platform.
  explicit App(Platform& platform);

  // Serves one request; `respond` is called exactly once, possibly on another
  // thread (after the audit record is committed).
  void Handle(HttpRequest request, std::function<void(HttpResponse)> respond);
  // Handle, waiting for the response (tests, benchmarks).
  HttpResponse HandleSync(HttpRequest request);

  // Adds a route (modules register theirs here). Throws on duplicates.
  void AddRoute(Route route) { router_.Add(std::move(route)); }
  const Router& router() const { return router_; }
  Platform& platform() { return platform_; }
  // The OpenAPI document served at /api/openapi.json.
  static std::string_view OpenApiDocument();
  // The CSRF token that belongs to a console session token.
  std::string CsrfToken(std::string_view session_token) const;

  // Set when shutting down: new requests get 503, /healthz reports it.
  void SetDraining() { draining_ = true; }

 private:
  HttpResponse ServeStatic(const HttpRequest& request) const;
  // nullopt when no or bad credentials were presented (`failure` says
  // which); `csrf_failed` when a cookie session lacked its CSRF token.
  std::optional<security::Principal> Authenticate(const HttpRequest& request, std::string& failure,
                                                  bool& csrf_failed);

  Platform& platform_;
  Router router_;
  std::string web_root_;
  std::atomic<bool> draining_{false};
};

// A JSON error body {code, message, request_id}.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view request_id);

// Route registration, one function per area (routes_*.cpp).
void AddSystemRoutes(App& app, Router& router);
void AddAuthRoutes(App& app, Router& router);
void AddUserRoutes(App& app, Router& router);
void AddTokenRoutes(App& app, Router& router);
void AddAuditRoutes(App& app, Router& router);
void AddFhirRoutes(App& app, Router& router);
void AddExportRoutes(App& app, Router& router);
void AddCohortRoutes(App& app, Router& router);

// What identified patient data the caller may see, honouring a break-glass
// reason in the X-HAIP-Break-Glass header (flagged in the request's audit).
lake::PatientAccess CallerPatientAccess(RequestContext& ctx);

// JSON views shared by the route files.
Json UserToJson(const security::User& user);
Json TokenToJson(const security::TokenInfo& token);
std::optional<std::string> IsoOrNull(const std::optional<int64_t>& millis);

}  // namespace haip::api
