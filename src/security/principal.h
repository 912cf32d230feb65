// Who is calling: the user behind a request, with the roles and department
// that policies are checked against. Agents and jobs carry the Principal of the
// person who started them, never a broader one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haip::security {

enum class Role : uint32_t {
  kAdmin = 1u << 0,       // runs the platform: users, tokens, configuration
  kClinician = 1u << 1,   // treats patients: identified data of their department / care relationships
  kResearcher = 1u << 2,  // cohorts and de-identified datasets
  kAnnotator = 1u << 3,   // labels data for training
  kAuditor = 1u << 4,     // reads the audit log
  kService = 1u << 5,     // another system (HIS, LIS, PACS interface engine)
};

using RoleSet = uint32_t;

std::string_view RoleName(Role role);
// Throws Error(kBadRequest) naming the bad role.
Role ParseRole(std::string_view name);
const std::vector<Role>& AllRoles();
// "admin,auditor" <-> bit set; parsing throws on unknown names.
RoleSet ParseRoles(std::string_view comma_separated);
std::string FormatRoles(RoleSet roles);
std::vector<std::string> RoleNames(RoleSet roles);

struct Principal {
  int64_t user_id = 0;
  std::string username;
  RoleSet roles = 0;
  std::optional<std::string> department;
  int64_t token_id = 0;
  bool via_session = false;  // authenticated by the console session cookie (CSRF applies)
  std::string purpose_of_use = "TREAT";  // HL7 PurposeOfUse code, e.g. TREAT, HRESCH, ETREAT (break-glass)

  bool Has(Role role) const { return (roles & static_cast<uint32_t>(role)) != 0; }
};

}  // namespace haip::security
