// Plain HTTP request and response values. The Beast server converts to and
// from them, so handlers and tests never see the network library.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace haip::api {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/api/users?limit=5"
  std::string path;    // "/api/users", percent-decoded
  std::map<std::string, std::string> query;  // decoded; last value wins
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote_address;

  std::string_view Header(std::string_view lower_name) const;
  std::optional<std::string> Cookie(std::string_view name) const;
  std::optional<std::string> QueryParam(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse FromJson(int status, const Json& body);
  static HttpResponse NoContent();
};

// Splits "/a/b?x=1&y=%E4%B8%AD" into a decoded path and query map. Throws
// Error(kBadRequest) for malformed percent-encoding.
void ParseTarget(std::string_view target, std::string& path, std::map<std::string, std::string>& query);
std::string PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace haip::api
