// Users of the platform: accounts with roles, a department, argon2id password
// hashes and lockout after repeated failed logins.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "security/password.h"
#include "security/principal.h"
#include "storage/database.h"

namespace haip::security {

struct User {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  RoleSet roles = 0;
  std::optional<std::string> department;
  bool disabled = false;
  std::optional<int64_t> locked_until;  // ms since epoch
  int64_t created_at = 0;
  std::optional<int64_t> last_login_at;
};

struct NewUser {
  std::string username;
  std::string password;
  std::string display_name;
  RoleSet roles = 0;
  std::optional<std::string> department;
};

struct UserChange {
  std::optional<std::string> display_name;
  std::optional<RoleSet> roles;
  std::optional<std::optional<std::string>> department;  // set to nullopt clears it
  std::optional<bool> disabled;
  std::optional<std::string> password;
};

struct UserSettings {
  PasswordParams password_params;
  size_t password_min_length = 12;
  int lockout_threshold = 5;
  int64_t lockout_seconds = 15 * 60;
};

class UserStore {
 public:
  UserStore(storage::Database& db, UserSettings settings);

  // Throws kUnprocessable for a bad username/password/no role, kConflict when
  // the username is taken.
  User Create(const NewUser& user);
  // Like Create, without the password strength rules (bootstrap from an
  // operator-provided password).
  User CreateUnchecked(const NewUser& user);
  std::optional<User> Find(std::string_view username) const;
  std::optional<User> FindById(int64_t id) const;
  std::vector<User> List() const;
  // Throws kNotFound for an unknown user. Unlocks on password change.
  User Update(std::string_view username, const UserChange& change);
  bool AnyAdmin() const;
  int64_t Count() const;

  // Checks a password. Throws kUnauthorized for unknown users, wrong passwords
  // and disabled accounts (one message for all, so usernames cannot be probed),
  // kLocked while locked; counts failures and locks at the threshold.
  User Authenticate(std::string_view username, std::string_view password);

  const UserSettings& settings() const { return settings_; }

 private:
  User Insert(const NewUser& user);

  storage::Database& db_;
  UserSettings settings_;
  // Verified against for unknown users, to equalise timing; made on first
  // use so commands that never authenticate do not pay for it.
  const std::string& DummyHash();
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

// Usernames: 1-64 characters of letters, digits, '.', '_', '-'.
void CheckUsername(std::string_view username);

}  // namespace haip::security
