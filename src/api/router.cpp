#include "api/router.h"

#include "core/error.h"

namespace haip::api {

const security::Principal& RequestContext::Caller() const {
  if (!principal) throw Error(ErrorCode::kUnauthorized, "authentication required");
  return *principal;
}

const Json& RequestContext::Body() {
  if (!body_) {
    if (request.body.empty()) throw Error(ErrorCode::kBadRequest, "request body must be a JSON object");
    Json parsed = Json::parse(request.body, nullptr, false);
    if (parsed.is_discarded()) throw Error(ErrorCode::kBadRequest, "request body is not valid JSON");
    if (!parsed.is_object()) throw Error(ErrorCode::kBadRequest, "request body must be a JSON object");
    body_ = std::move(parsed);
  }
  return *body_;
}

const std::string& RequestContext::Param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) throw Error(ErrorCode::kInternal, "route has no parameter " + name);
  return it->second;
}

namespace {
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

bool MatchPattern(std::string_view pattern, std::string_view path, std::map<std::string, std::string>& params) {
  auto ps = Segments(pattern);
  auto xs = Segments(path);
  if (ps.size() != xs.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].size() > 2 && ps[i].front() == '{' && ps[i].back() == '}') {
      found[std::string(ps[i].substr(1, ps[i].size() - 2))] = std::string(xs[i]);
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}
}  // namespace

void Router::Add(Route route) {
  for (const auto& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      throw Error(ErrorCode::kInternal, "duplicate route " + route.method + " " + route.pattern);
    }
  }
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  // The most specific pattern wins: the one with the most literal segments
  // ("/fhir/$export-status/{job}" over "/fhir/{type}/{id}"); ties go to the
  // route registered first.
  RouteMatch m;
  int best = -1;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchPattern(r.pattern, path, params)) continue;
    if (r.method != method && !(method == "HEAD" && r.method == "GET")) {
      m.allowed_methods.push_back(r.method);
      continue;
    }
    int literals = 0;
    for (auto seg : Segments(r.pattern)) literals += seg.empty() || seg.front() != '{';
    if (literals > best) {
      best = literals;
      m.route = &r;
      m.params = std::move(params);
    }
  }
  if (m.route) m.allowed_methods.clear();
  return m;
}

}  // namespace haip::api
