// Route policies: every API route declares who may call it and what it
// touches, and the check runs before the handler. A route with no declared
// policy is refused (see api/router.h).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "security/principal.h"

namespace haip::security {

// What a route reads or changes, named in the audit log and the OpenAPI
// document (x-haip-policy).
enum class Scope {
  kPublic,   // no data: health, metrics, login, the console's files
  kSelf,     // the caller's own account and tokens
  kSystem,   // platform status
  kUsers,    // user administration
  kTokens,   // token administration
  kAudit,    // the audit log
  kPatient,  // identified patient data: further checked per patient by the module
};

std::string_view ScopeName(Scope scope);

struct Policy {
  bool authenticated = true;
  RoleSet roles = 0;  // roles allowed; 0 with authenticated: any signed-in user
  Scope scope = Scope::kSystem;

  static Policy Public(Scope scope = Scope::kPublic) { return {false, 0, scope}; }
  static Policy AnyUser(Scope scope) { return {true, 0, scope}; }
  static Policy Roles(std::initializer_list<Role> roles, Scope scope);

  // "public", "any user", or "admin|auditor", plus the scope.
  std::string Describe() const;
};

struct Decision {
  bool allowed = false;
  int status = 0;  // 401 or 403 when denied
  std::string reason;
};

Decision Authorize(const Policy& policy, const std::optional<Principal>& principal);

}  // namespace haip::security
