#include "security/policy.h"

namespace haip::security {

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kPublic: return "public";
    case Scope::kSelf: return "self";
    case Scope::kSystem: return "system";
    case Scope::kUsers: return "users";
    case Scope::kTokens: return "tokens";
    case Scope::kAudit: return "audit";
    case Scope::kPatient: return "patient";
  }
  return "unknown";
}

Policy Policy::Roles(std::initializer_list<Role> roles, Scope scope) {
  Policy p{true, 0, scope};
  for (Role r : roles) p.roles |= static_cast<uint32_t>(r);
  return p;
}

std::string Policy::Describe() const {
  if (!authenticated) return "public";
  std::string who;
  if (roles == 0) {
    who = "any user";
  } else {
    for (const auto& n : RoleNames(roles)) who += (who.empty() ? "" : "|") + n;
  }
  return who + " on " + std::string(ScopeName(scope));
}

Decision Authorize(const Policy& policy, const std::optional<Principal>& principal) {
  if (!policy.authenticated) return {true, 0, ""};
  if (!principal) return {false, 401, "authentication required"};
  if (policy.roles != 0 && (principal->roles & policy.roles) == 0) {
    std::string need;
    for (const auto& n : RoleNames(policy.roles)) need += (need.empty() ? "" : " or ") + n;
    return {false, 403, "requires role " + need};
  }
  return {true, 0, ""};
}

}  // namespace haip::security
