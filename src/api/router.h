// Routes: method + path pattern ("/api/users/{username}") + the policy that
// guards it + the handler. The router refuses to run a route whose policy was
// never declared, and a test checks that no registered route lacks one.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "core/json.h"
#include "security/policy.h"
#include "security/principal.h"

namespace haip::api {

// What a handler sees: the request, the caller and what it may add to the
// request's audit record.
struct RequestContext {
  RequestContext(const HttpRequest& req, std::string id) : request(req), request_id(std::move(id)) {}

  const HttpRequest& request;
  std::string request_id;
  std::optional<security::Principal> principal;
  std::map<std::string, std::string> params;  // path parameters

  // The audit record of this request: handlers name the action and add facts.
  std::string audit_action;  // default "http.request"
  Json audit_detail = Json::object();
  std::string audit_patient;
  bool audit = false;  // audit even though no one is signed in (login attempts)

  // The caller; throws Error(kUnauthorized) when there is none.
  const security::Principal& Caller() const;
  // The body parsed as a JSON object; throws Error(kBadRequest) otherwise.
  const Json& Body();
  const std::string& Param(const std::string& name) const;

 private:
  std::optional<Json> body_;
};

using Handler = std::function<HttpResponse(RequestContext&)>;

struct Route {
  std::string method;
  std::string pattern;
  std::optional<security::Policy> policy;  // required; nullopt is refused
  Handler handler;
  std::string summary;  // one line, for logs and docs
};

struct RouteMatch {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed_methods;  // filled when the path matched but not the method
};

class Router {
 public:
  // Throws Error(kInternal) for a duplicate method + pattern.
  void Add(Route route);
  RouteMatch Match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace haip::api
