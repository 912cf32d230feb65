#include "api/app.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/log.h"

namespace haip::api {

namespace fs = std::filesystem;

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view request_id) {
  return HttpResponse::FromJson(status, Json{{"code", code}, {"message", message}, {"request_id", request_id}});
}

std::optional<std::string> IsoOrNull(const std::optional<int64_t>& millis) {
  if (!millis) return std::nullopt;
  return clock::FormatIso8601(*millis);
}

namespace {
std::string FindWebRoot(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path() / ".." / "web" / "dist");
    candidates.push_back(exe.parent_path() / ".." / "share" / "haip" / "web");
  }
  candidates.push_back(fs::current_path(ec) / "web" / "dist");
  for (const auto& c : candidates) {
    if (fs::exists(c / "index.html", ec)) return fs::weakly_canonical(c, ec).string();
  }
  return "";
}

std::string_view ContentType(const fs::path& p) {
  static const std::map<std::string, std::string_view> types = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".jpg", "image/jpeg"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
      {".woff", "font/woff"}, {".txt", "text/plain; charset=utf-8"}, {".map", "application/json"},
      {".webmanifest", "application/manifest+json"}};
  auto it = types.find(p.extension().string());
  return it == types.end() ? std::string_view("application/octet-stream") : it->second;
}

bool IsUnsafeMethod(std::string_view m) { return !(m == "GET" || m == "HEAD" || m == "OPTIONS"); }

void AddSecurityHeaders(HttpResponse& r, bool api) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (api) {
    r.headers.emplace_back("Cache-Control", "no-store");
  } else {
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "frame-ancestors 'none'");
  }
}
}  // namespace

App::App(Platform& platform) : platform_(platform) {
  web_root_ = FindWebRoot(platform.config().GetString("server.web_root"));
  AddSystemRoutes(*this, router_);
  AddAuthRoutes(*this, router_);
  AddUserRoutes(*this, router_);
  AddTokenRoutes(*this, router_);
  AddAuditRoutes(*this, router_);
  AddFhirRoutes(*this, router_);
  AddExportRoutes(*this, router_);
  AddCohortRoutes(*this, router_);
}

std::string App::CsrfToken(std::string_view session_token) const {
  return crypto::HmacSha256Hex(platform_.secret_key(), std::string("csrf:").append(session_token));
}

std::optional<security::Principal> App::Authenticate(const HttpRequest& req, std::string& failure,
                                                   bool& csrf_failed) {
  std::string_view auth = req.Header("authorization");
  std::optional<std::string> secret;
  bool from_cookie = false;
  if (!auth.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.substr(0, kBearer.size()) != kBearer) {
      failure = "Authorization header must be 'Bearer <token>'";
      return std::nullopt;
    }
    secret = std::string(auth.substr(kBearer.size()));
  } else if (auto cookie = req.Cookie(kSessionCookie)) {
    secret = *cookie;
    from_cookie = true;
  }
  if (!secret) return std::nullopt;
  try {
    security::Principal p = platform_.tokens().Verify(*secret);
    // Browsers send cookies on their own, so a cookie-authenticated change
    // must also prove it came from the console (the CSRF token it was given).
    // A bearer token is never sent implicitly and needs no such proof.
    p.via_session = from_cookie;
    if (p.via_session && IsUnsafeMethod(req.method)) {
      std::string_view presented = req.Header("x-csrf-token");
      if (presented.empty() || !crypto::ConstantTimeEquals(presented, CsrfToken(*secret))) {
        failure = "missing or invalid X-CSRF-Token header";
        csrf_failed = true;
        return std::nullopt;
      }
    }
    return p;
  } catch (const Error& e) {
    failure = e.what();
    return std::nullopt;
  }
}

HttpResponse App::ServeStatic(const HttpRequest& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    return ErrorResponse(405, "method_not_allowed", "the console accepts only GET", log::CurrentRequestId());
  }
  if (web_root_.empty()) {
    return ErrorResponse(404, "not_found",
                         "the console is not built: run `make web` (or set server.web_root)",
                         log::CurrentRequestId());
  }
  fs::path root(web_root_);
  std::string rel = req.path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  fs::path candidate = (root / rel).lexically_normal();
  // Never serve outside the web root, whatever the path says.
  auto [root_end, _] = std::mismatch(root.begin(), root.end(), candidate.begin(), candidate.end());
  std::error_code ec;
  bool inside = root_end == root.end();
  if (!inside || rel.empty() || !fs::is_regular_file(candidate, ec)) {
    // Client-side routes (no file extension) get the console's index page.
    if (inside && (rel.empty() || fs::path(rel).extension().empty())) {
      candidate = root / "index.html";
    } else {
      return ErrorResponse(404, "not_found", "no such file", log::CurrentRequestId());
    }
  }
  std::ifstream in(candidate, std::ios::binary);
  if (!in) return ErrorResponse(404, "not_found", "no such file", log::CurrentRequestId());
  HttpResponse r;
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  r.content_type = ContentType(candidate);
  // Vite fingerprints files under assets/, so they never change.
  bool immutable = rel.rfind("assets/", 0) == 0;
  r.headers.emplace_back("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

void App::Handle(HttpRequest req, std::function<void(HttpResponse)> respond) {
  auto started = std::chrono::steady_clock::now();
  std::string request_id = log::NewRequestId();
  log::RequestIdScope scope(request_id);

  bool api = req.path.rfind("/api/", 0) == 0 || req.path == "/api" || req.path == "/healthz" ||
             req.path == "/metrics" || req.path == "/fhir" || req.path.rfind("/fhir/", 0) == 0;
  RouteMatch match;
  if (api) match = router_.Match(req.method, req.path);
  std::string route_name = match.route ? match.route->pattern : (api ? "unmatched" : "static");

  bool fhir = req.path == "/fhir" || req.path.rfind("/fhir/", 0) == 0;
  auto finish = [this, respond = std::move(respond), started, request_id, route_name,
                 method = req.method, api, fhir](HttpResponse r) {
    // FHIR clients expect errors as OperationOutcome, also the ones raised
    // before a FHIR handler runs (401, 403, 404, 405).
    if (fhir && r.status >= 400 && r.content_type == "application/json") {
      Json err = Json::parse(r.body, nullptr, false);
      if (err.is_object() && err.contains("code") && err.contains("request_id")) {
        static const std::map<int, const char*> issue = {{400, "invalid"}, {401, "login"}, {403, "forbidden"},
                                                         {404, "not-found"}, {405, "not-supported"}, {413, "too-costly"}};
        auto it = issue.find(r.status);
        Json outcome = {{"resourceType", "OperationOutcome"},
                        {"id", request_id},
                        {"issue", Json::array({{{"severity", "error"},
                                                {"code", it == issue.end() ? "exception" : it->second},
                                                {"diagnostics", err["message"]}}})}};
        r.body = outcome.dump();
        r.content_type = "application/fhir+json; charset=utf-8";
      }
    }
    r.headers.emplace_back("X-Request-Id", request_id);
    AddSecurityHeaders(r, api);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    platform_.metrics().ObserveRequest(method, route_name, r.status, secs);
    // The access log: at debug level, since at full load it would be most of
    // the server's output; the audit log is the durable record.
    if (spdlog::should_log(spdlog::level::debug)) {
      log::RequestIdScope scope(request_id);
      spdlog::debug("{} {} -> {} ({:.2f} ms)", method, route_name, r.status, secs * 1000);
    }
    respond(std::move(r));
  };

  if (!api) {
    finish(ServeStatic(req));
    return;
  }
  if (!match.route) {
    if (!match.allowed_methods.empty()) {
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      HttpResponse r = ErrorResponse(405, "method_not_allowed", req.method + " is not allowed here (allowed: " + allow + ")", request_id);
      r.headers.emplace_back("Allow", allow);
      finish(std::move(r));
    } else {
      finish(ErrorResponse(404, "not_found", "no route for " + req.path, request_id));
    }
    return;
  }

  const Route& route = *match.route;
  RequestContext ctx(req, request_id);
  ctx.params = std::move(match.params);
  HttpResponse response;
  std::string outcome = "success";
  std::string auth_failure;
  bool csrf_failed = false;
  ctx.principal = Authenticate(req, auth_failure, csrf_failed);

  if (!route.policy) {
    // Refuse rather than guess: a route must say who may call it.
    spdlog::error("route {} {} has no declared policy; refusing", route.method, route.pattern);
    response = ErrorResponse(500, "internal", "route has no declared access policy", request_id);
    outcome = "denied";
  } else {
    security::Decision d = security::Authorize(*route.policy, ctx.principal);
    // The caller is known but the change did not come from the console.
    if (!d.allowed && csrf_failed) d.status = 403;
    if (!d.allowed) {
      std::string msg = d.reason;
      if (!auth_failure.empty() && (d.status == 401 || csrf_failed)) msg = auth_failure;
      response = ErrorResponse(d.status, d.status == 401 ? "unauthorized" : "forbidden", msg, request_id);
      if (d.status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"haip\"");
      outcome = "denied";
      ctx.audit_detail["reason"] = msg;
    } else {
      try {
        response = route.handler(ctx);
        if (response.status >= 400) outcome = response.status == 401 || response.status == 403 ? "denied" : "error";
      } catch (const Error& e) {
        int status = HttpStatus(e.code());
        response = ErrorResponse(status, ErrorCodeName(e.code()), e.what(), request_id);
        if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"haip\"");
        outcome = (status == 401 || status == 403 || status == 423) ? "denied" : "error";
        ctx.audit_detail["error"] = e.what();
        if (status >= 500) spdlog::error("{} {}: {}", req.method, req.path, e.what());
      } catch (const std::exception& e) {
        spdlog::error("{} {}: unexpected error: {}", req.method, req.path, e.what());
        response = ErrorResponse(500, "internal", "internal error; see the server log", request_id);
        outcome = "error";
      }
    }
  }

  // Audited: every request by a signed-in caller, every denial, and public
  // routes that ask for it (login attempts).
  bool audited = ctx.principal.has_value() || outcome == "denied" || ctx.audit;
  if (!audited) {
    finish(std::move(response));
    return;
  }
  security::AuditRecord rec;
  rec.request_id = request_id;
  if (ctx.principal) {
    rec.user_id = ctx.principal->user_id;
    rec.username = ctx.principal->username;
    rec.roles = security::FormatRoles(ctx.principal->roles);
  } else if (ctx.audit_detail.contains("username")) {
    rec.username = ctx.audit_detail["username"].get<std::string>();
  }
  rec.action = ctx.audit_action.empty() ? "http.request" : ctx.audit_action;
  rec.method = req.method;
  rec.path = req.target.size() > 2048 ? req.target.substr(0, 2048) : req.target;
  rec.status = response.status;
  rec.outcome = outcome;
  rec.patient = ctx.audit_patient;
  if (!req.remote_address.empty()) ctx.audit_detail["remote"] = req.remote_address;
  rec.detail = ctx.audit_detail.dump(-1, ' ', false, Json::error_handler_t::replace);
  // The response leaves only once its audit record is durable; if the audit
  // log cannot be written the caller gets 503 instead of unaudited data.
  auto shared = std::make_shared<HttpResponse>(std::move(response));
  auto shared_finish = std::make_shared<decltype(finish)>(std::move(finish));
  platform_.audit().Append(std::move(rec), [shared, shared_finish, request_id](bool ok) {
    if (ok) {
      (*shared_finish)(std::move(*shared));
    } else {
      (*shared_finish)(ErrorResponse(503, "unavailable", "the audit log is unavailable; request not completed", request_id));
    }
  });
}

HttpResponse App::HandleSync(HttpRequest request) {
  std::promise<HttpResponse> done;
  auto future = done.get_future();
  Handle(std::move(request), [&done](HttpResponse r) { done.set_value(std::move(r)); });
  return future.get();
}

}  // namespace haip::api
