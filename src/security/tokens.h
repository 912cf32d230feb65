// API tokens and console sessions. A token is 32 random bytes shown to its
// owner once; only its SHA-256 is stored. Verification results are cached
// briefly so an authenticated request costs no database read.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "security/principal.h"
#include "security/users.h"
#include "storage/database.h"

namespace haip::security {

enum class TokenKind { kApi, kSession };

struct TokenInfo {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string username;
  std::string name;
  TokenKind kind = TokenKind::kApi;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> revoked_at;
  std::optional<int64_t> last_used_at;
};

struct IssuedToken {
  TokenInfo info;
  std::string secret;  // "haip_..." — returned once, never stored
};

std::string_view TokenKindName(TokenKind kind);

class TokenStore {
 public:
  TokenStore(storage::Database& db, int64_t cache_ttl_seconds);

  // ttl_seconds <= 0: no expiry. Throws kNotFound for an unknown user,
  // kUnprocessable for a disabled one.
  IssuedToken Issue(const User& user, std::string name, TokenKind kind, int64_t ttl_seconds);

  // The Principal for a presented secret; throws kUnauthorized when the token
  // is unknown, expired or revoked, or its user is disabled.
  Principal Verify(std::string_view secret);

  // Throws kNotFound for an unknown id.
  TokenInfo Revoke(int64_t id);
  std::optional<TokenInfo> Get(int64_t id) const;
  // kind filter; user_id 0: all users. Revoked and expired tokens included.
  std::vector<TokenInfo> List(int64_t user_id, std::optional<TokenKind> kind) const;
  // Forgets cached verifications (after a user is changed or disabled).
  void InvalidateCache();

 private:
  struct Cached {
    Principal principal;
    std::optional<int64_t> expires_at;
    int64_t verified_at;
    int64_t last_used_written;
  };

  storage::Database& db_;
  int64_t cache_ttl_ms_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // key: token hash
};

}  // namespace haip::security
