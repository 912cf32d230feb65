// Errors in HAIP are exceptions of one type carrying a code that maps to an
// HTTP status and a CLI exit code, so every layer reports failures the same way.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace haip {

enum class ErrorCode {
  kBadRequest,        // 400: malformed input
  kUnauthorized,      // 401: no or invalid credentials
  kForbidden,         // 403: authenticated but not allowed
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kConflict,          // 409: state conflict (duplicate name, version mismatch)
  kGone,              // 410: existed, now deleted
  kPreconditionFailed,  // 412: a condition (If-Match, conditional create) does not hold
  kPayloadTooLarge,   // 413
  kUnprocessable,     // 422: well-formed but semantically invalid
  kLocked,            // 423: account locked
  kTooManyRequests,   // 429
  kInternal,          // 500
  kUnavailable,       // 503: shutting down, dependency down
  kTimeout,           // 504
};

// HTTP status for a code.
int HttpStatus(ErrorCode code);
// Stable snake_case name used in JSON error bodies ("bad_request", ...).
std::string_view ErrorCodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message)
      : std::runtime_error(std::move(message)), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace haip
