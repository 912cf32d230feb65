// Requests against an App without the network, for the API tests.
#pragma once

#include <string>

#include "api/app.h"
#include "testing/temp_platform.h"

namespace haip::api {

inline HttpRequest Req(std::string method, std::string target, std::string body = "",
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  ParseTarget(r.target, r.path, r.query);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

inline std::pair<std::string, std::string> Bearer(const std::string& token) {
  return {"authorization", "Bearer " + token};
}

inline Json BodyOf(const HttpResponse& r) { return Json::parse(r.body); }

}  // namespace haip::api
