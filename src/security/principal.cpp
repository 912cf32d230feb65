#include "security/principal.h"

#include "core/error.h"

namespace haip::security {

const std::vector<Role>& AllRoles() {
  static const std::vector<Role> roles = {Role::kAdmin,     Role::kClinician, Role::kResearcher,
                                          Role::kAnnotator, Role::kAuditor,   Role::kService};
  return roles;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kClinician: return "clinician";
    case Role::kResearcher: return "researcher";
    case Role::kAnnotator: return "annotator";
    case Role::kAuditor: return "auditor";
    case Role::kService: return "service";
  }
  return "unknown";
}

Role ParseRole(std::string_view name) {
  for (Role r : AllRoles()) {
    if (RoleName(r) == name) return r;
  }
  throw Error(ErrorCode::kBadRequest,
              "unknown role '" + std::string(name) +
                  "' (admin, clinician, researcher, annotator, auditor, service)");
}

RoleSet ParseRoles(std::string_view text) {
  RoleSet set = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) set |= static_cast<uint32_t>(ParseRole(part));
    start = end + 1;
  }
  return set;
}

std::vector<std::string> RoleNames(RoleSet roles) {
  std::vector<std::string> names;
  for (Role r : AllRoles()) {
    if (roles & static_cast<uint32_t>(r)) names.emplace_back(RoleName(r));
  }
  return names;
}

std::string FormatRoles(RoleSet roles) {
  std::string out;
  for (const auto& n : RoleNames(roles)) {
    if (!out.empty()) out += ',';
    out += n;
  }
  return out;
}

}  // namespace haip::security
