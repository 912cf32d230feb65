#include "testing/error_code.h"
#include <gtest/gtest.h>

#include <thread>

#include "backend_fixture.h"
#include "core/error.h"
#include "security/tokens.h"
#include "security/users.h"

namespace haip::security {
namespace {

using haip::testing::CodeOf;

class UsersTokensTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    UserSettings s;
    s.password_params = {256, 1, 1};
    s.lockout_threshold = 3;
    s.lockout_seconds = 60;
    users_ = std::make_unique<UserStore>(*db_, s);
    tokens_ = std::make_unique<TokenStore>(*db_, 5);
  }
  User MakeUser(const std::string& name, Role role, std::optional<std::string> dept = std::nullopt) {
    return users_->Create({name, "a-good-password-1", name + " display", static_cast<RoleSet>(role), dept});
  }
  std::unique_ptr<UserStore> users_;
  std::unique_ptr<TokenStore> tokens_;
};

TEST_P(UsersTokensTest, CreatesUsersWithRolesAndDepartment) {
  User u = MakeUser("dr.zhang", Role::kClinician, "心内科");
  EXPECT_GT(u.id, 0);
  auto found = users_->Find("dr.zhang");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->department, "心内科");
  EXPECT_EQ(found->roles, static_cast<RoleSet>(Role::kClinician));
  EXPECT_EQ(CodeOf([&] { MakeUser("dr.zhang", Role::kClinician); }), ErrorCode::kConflict);
  EXPECT_EQ(CodeOf([&] { users_->Create({"bad name", "a-good-password-1", "", 1, {}}); }), ErrorCode::kUnprocessable);
  EXPECT_EQ(CodeOf([&] { users_->Create({"weak", "short", "", 1, {}}); }), ErrorCode::kUnprocessable);
  EXPECT_EQ(CodeOf([&] { users_->Create({"norole", "a-good-password-1", "", 0, {}}); }), ErrorCode::kUnprocessable);
  EXPECT_EQ(users_->List().size(), 1u);
}

TEST_P(UsersTokensTest, AuthenticatesAndLocksAfterRepeatedFailures) {
  MakeUser("nurse", Role::kClinician);
  EXPECT_EQ(users_->Authenticate("nurse", "a-good-password-1").username, "nurse");
  EXPECT_EQ(CodeOf([&] { users_->Authenticate("nurse", "wrong"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(CodeOf([&] { users_->Authenticate("nobody", "wrong"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(CodeOf([&] { users_->Authenticate("nurse", "wrong"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(CodeOf([&] { users_->Authenticate("nurse", "wrong"); }), ErrorCode::kUnauthorized);
  // Third failure locked the account: even the right password is refused now.
  EXPECT_EQ(CodeOf([&] { users_->Authenticate("nurse", "a-good-password-1"); }), ErrorCode::kLocked);
  EXPECT_TRUE(users_->Find("nurse")->locked_until.has_value());
  // An administrator's password reset unlocks.
  UserChange c;
  c.password = "another-good-password";
  users_->Update("nurse", c);
  EXPECT_EQ(users_->Authenticate("nurse", "another-good-password").username, "nurse");
}

TEST_P(UsersTokensTest, ParallelWrongPasswordsCannotExceedTheThreshold) {
  MakeUser("target", Role::kClinician);
  std::vector<std::thread> threads;
  std::atomic<int> locked{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 3; ++k) {
        try {
          users_->Authenticate("target", "wrong-guess");
        } catch (const Error& e) {
          if (e.code() == ErrorCode::kLocked) locked++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(locked.load(), 0);
  EXPECT_EQ(CodeOf([&] { users_->Authenticate("target", "a-good-password-1"); }), ErrorCode::kLocked);
}

TEST_P(UsersTokensTest, DisabledUsersCannotSignIn) {
  MakeUser("leaver", Role::kResearcher);
  UserChange c;
  c.disabled = true;
  users_->Update("leaver", c);
  EXPECT_EQ(CodeOf([&] { users_->Authenticate("leaver", "a-good-password-1"); }), ErrorCode::kUnauthorized);
}

TEST_P(UsersTokensTest, TokensAreStoredHashedAndVerify) {
  User u = MakeUser("svc", Role::kService, "信息中心");
  IssuedToken t = tokens_->Issue(u, "his-interface", TokenKind::kApi, 3600);
  EXPECT_EQ(t.secret.rfind("haip_", 0), 0u);
  auto stored = db_->Query("SELECT token_hash FROM api_tokens WHERE id = ?", {t.info.id});
  EXPECT_NE(stored.rows[0][0].AsText(), t.secret);
  EXPECT_EQ(stored.rows[0][0].AsText().size(), 64u);
  Principal p = tokens_->Verify(t.secret);
  EXPECT_EQ(p.username, "svc");
  EXPECT_EQ(p.department, "信息中心");
  EXPECT_TRUE(p.Has(Role::kService));
  EXPECT_EQ(CodeOf([&] { tokens_->Verify("haip_not-a-token"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(CodeOf([&] { tokens_->Verify("Bearer xyz"); }), ErrorCode::kUnauthorized);
}

TEST_P(UsersTokensTest, RevokedExpiredAndDisabledTokensFail) {
  User u = MakeUser("tok", Role::kClinician);
  IssuedToken t = tokens_->Issue(u, "a", TokenKind::kApi, 3600);
  tokens_->Verify(t.secret);  // cached now
  tokens_->Revoke(t.info.id);
  EXPECT_EQ(CodeOf([&] { tokens_->Verify(t.secret); }), ErrorCode::kUnauthorized);
  EXPECT_TRUE(tokens_->Get(t.info.id)->revoked_at.has_value());

  IssuedToken expired = tokens_->Issue(u, "b", TokenKind::kApi, 1);
  db_->Execute("UPDATE api_tokens SET expires_at = 1 WHERE id = ?", {expired.info.id});
  EXPECT_EQ(CodeOf([&] { tokens_->Verify(expired.secret); }), ErrorCode::kUnauthorized);

  IssuedToken live = tokens_->Issue(u, "c", TokenKind::kApi, 0);
  tokens_->Verify(live.secret);
  UserChange c;
  c.disabled = true;
  users_->Update("tok", c);
  tokens_->InvalidateCache();
  EXPECT_EQ(CodeOf([&] { tokens_->Verify(live.secret); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(CodeOf([&] { tokens_->Revoke(987654); }), ErrorCode::kNotFound);
  EXPECT_EQ(tokens_->List(u.id, TokenKind::kApi).size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, UsersTokensTest, ::testing::Values("sqlite", "postgresql"), BackendName);

}  // namespace
}  // namespace haip::security
