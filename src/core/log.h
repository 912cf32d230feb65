// Logging (spdlog). Every line carries the request id of the request being
// served on this thread ("-" outside requests), set with RequestIdScope.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace haip::log {

// Configures the default logger: stderr, optionally a file too. Throws
// Error(kBadRequest) for an unknown level.
void Init(std::string_view level, const std::string& file = "");

// The request id of the current thread's request, or "-".
std::string_view CurrentRequestId();

class RequestIdScope {
 public:
  explicit RequestIdScope(std::string_view id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string previous_;
};

// A new random request id (16 hex characters).
std::string NewRequestId();

}  // namespace haip::log
