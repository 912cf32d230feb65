#include "security/policy.h"

#include "core/error.h"

#include <gtest/gtest.h>

namespace haip::security {
namespace {

Principal As(RoleSet roles) {
  Principal p;
  p.user_id = 7;
  p.username = "u";
  p.roles = roles;
  return p;
}

TEST(Policy, PublicAllowsEveryone) {
  EXPECT_TRUE(Authorize(Policy::Public(), std::nullopt).allowed);
}

TEST(Policy, AuthenticatedRoutesNeedAPrincipal) {
  auto d = Authorize(Policy::AnyUser(Scope::kSelf), std::nullopt);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 401);
  EXPECT_TRUE(Authorize(Policy::AnyUser(Scope::kSelf), As(static_cast<RoleSet>(Role::kService))).allowed);
}

TEST(Policy, RolesAreCheckedAsAnyOf) {
  Policy p = Policy::Roles({Role::kAdmin, Role::kAuditor}, Scope::kAudit);
  EXPECT_TRUE(Authorize(p, As(static_cast<RoleSet>(Role::kAuditor))).allowed);
  auto d = Authorize(p, As(static_cast<RoleSet>(Role::kClinician) | static_cast<RoleSet>(Role::kResearcher)));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 403);
  EXPECT_NE(d.reason.find("admin or auditor"), std::string::npos) << d.reason;
  EXPECT_EQ(p.Describe(), "admin|auditor on audit");
}

TEST(Roles, ParseAndFormat) {
  RoleSet r = ParseRoles("clinician, auditor");
  EXPECT_EQ(FormatRoles(r), "clinician,auditor");
  EXPECT_THROW(ParseRoles("clinician,surgeon"), Error);
  EXPECT_EQ(ParseRoles(""), 0u);
}

}  // namespace
}  // namespace haip::security
