#include "security/users.h"

#include "core/clock.h"
#include "core/error.h"

namespace haip::security {

namespace {
constexpr const char* kUserColumns =
    "id, username, display_name, roles, department, disabled, locked_until, created_at, last_login_at";

User RowToUser(const storage::Row& r) {
  User u;
  u.id = r[0].AsInt();
  u.username = r[1].AsText();
  u.display_name = r[2].AsText();
  u.roles = ParseRoles(r[3].AsText());
  u.department = r[4].AsOptionalText();
  u.disabled = r[5].AsInt() != 0;
  u.locked_until = r[6].AsOptionalInt();
  u.created_at = r[7].AsInt();
  u.last_login_at = r[8].AsOptionalInt();
  return u;
}
}  // namespace

void CheckUsername(std::string_view username) {
  if (username.empty() || username.size() > 64) {
    throw Error(ErrorCode::kUnprocessable, "username must be 1 to 64 characters");
  }
  for (char c : username) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      throw Error(ErrorCode::kUnprocessable,
                  "username may contain only letters, digits, '.', '_' and '-'");
    }
  }
}

UserStore::UserStore(storage::Database& db, UserSettings settings)
    : db_(db), settings_(settings) {}

const std::string& UserStore::DummyHash() {
  std::call_once(dummy_once_, [this] { dummy_hash_ = HashPassword("not-a-real-password", settings_.password_params); });
  return dummy_hash_;
}

User UserStore::Create(const NewUser& user) {
  CheckPasswordPolicy(user.password, settings_.password_min_length);
  return Insert(user);
}

User UserStore::CreateUnchecked(const NewUser& user) { return Insert(user); }

User UserStore::Insert(const NewUser& user) {
  CheckUsername(user.username);
  if (user.roles == 0) throw Error(ErrorCode::kUnprocessable, "a user needs at least one role");
  if (user.password.empty()) throw Error(ErrorCode::kUnprocessable, "password must not be empty");
  std::string hash = HashPassword(user.password, settings_.password_params);
  int64_t now = clock::NowMillis();
  try {
    auto res = db_.Query(
        std::string("INSERT INTO users (username, display_name, password_hash, roles, department, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ") +
            kUserColumns,
        {user.username, user.display_name, hash, FormatRoles(user.roles), user.department, now, now});
    return RowToUser(res.rows.at(0));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kConflict) {
      throw Error(ErrorCode::kConflict, "user '" + user.username + "' already exists");
    }
    throw;
  }
}

std::optional<User> UserStore::Find(std::string_view username) const {
  auto res = db_.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE username = ?",
                       {username});
  if (res.empty()) return std::nullopt;
  return RowToUser(res.rows[0]);
}

std::optional<User> UserStore::FindById(int64_t id) const {
  auto res = db_.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?", {id});
  if (res.empty()) return std::nullopt;
  return RowToUser(res.rows[0]);
}

std::vector<User> UserStore::List() const {
  auto res = db_.Query(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY username");
  std::vector<User> users;
  users.reserve(res.size());
  for (const auto& r : res.rows) users.push_back(RowToUser(r));
  return users;
}

User UserStore::Update(std::string_view username, const UserChange& change) {
  std::string sql = "UPDATE users SET updated_at = ?";
  storage::Params params{clock::NowMillis()};
  if (change.display_name) {
    sql += ", display_name = ?";
    params.emplace_back(*change.display_name);
  }
  if (change.roles) {
    if (*change.roles == 0) throw Error(ErrorCode::kUnprocessable, "a user needs at least one role");
    sql += ", roles = ?";
    params.emplace_back(FormatRoles(*change.roles));
  }
  if (change.department) {
    sql += ", department = ?";
    params.emplace_back(*change.department);
  }
  if (change.disabled) {
    sql += ", disabled = ?";
    params.emplace_back(*change.disabled);
  }
  if (change.password) {
    CheckPasswordPolicy(*change.password, settings_.password_min_length);
    sql += ", password_hash = ?, failed_logins = 0, locked_until = NULL";
    params.emplace_back(HashPassword(*change.password, settings_.password_params));
  }
  sql += " WHERE username = ?";
  params.emplace_back(username);
  if (db_.Execute(sql, params) == 0) {
    throw Error(ErrorCode::kNotFound, "no user '" + std::string(username) + "'");
  }
  return *Find(username);
}

bool UserStore::AnyAdmin() const {
  for (const auto& u : List()) {
    if ((u.roles & static_cast<uint32_t>(Role::kAdmin)) && !u.disabled) return true;
  }
  return false;
}

int64_t UserStore::Count() const { return db_.Query("SELECT COUNT(*) FROM users").rows[0][0].AsInt(); }

User UserStore::Authenticate(std::string_view username, std::string_view password) {
  static const char* kBad = "invalid username or password";
  auto res = db_.Query(
      std::string("SELECT ") + kUserColumns + ", password_hash, failed_logins FROM users WHERE username = ?",
      {username});
  if (res.empty()) {
    VerifyPassword(password, DummyHash());
    throw Error(ErrorCode::kUnauthorized, kBad);
  }
  User user = RowToUser(res.rows[0]);
  const std::string& hash = res.rows[0][9].AsText();
  int64_t now = clock::NowMillis();
  if (user.locked_until && *user.locked_until > now) {
    throw Error(ErrorCode::kLocked, "account is locked after repeated failed logins until " +
                                        clock::FormatIso8601(*user.locked_until));
  }
  bool ok = VerifyPassword(password, hash);
  if (!ok) {
    // Count the failure and lock atomically, so parallel guesses cannot
    // exceed the threshold.
    db_.Transaction([&](storage::Session& tx) {
      auto cur = tx.Query("SELECT failed_logins FROM users WHERE id = ?", {user.id});
      int64_t failures = cur.rows.at(0)[0].AsInt() + 1;
      if (failures >= settings_.lockout_threshold) {
        tx.Execute("UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?",
                   {now + settings_.lockout_seconds * 1000, user.id});
      } else {
        tx.Execute("UPDATE users SET failed_logins = ? WHERE id = ?", {failures, user.id});
      }
    });
    throw Error(ErrorCode::kUnauthorized, kBad);
  }
  if (user.disabled) throw Error(ErrorCode::kUnauthorized, kBad);
  db_.Execute("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?",
              {now, user.id});
  user.last_login_at = now;
  user.locked_until.reset();
  return user;
}

}  // namespace haip::security
