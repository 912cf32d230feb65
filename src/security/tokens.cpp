#include "security/tokens.h"

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"

namespace haip::security {

namespace {
constexpr const char* kTokenColumns =
    "t.id, t.user_id, u.username, t.name, t.kind, t.created_at, t.expires_at, t.revoked_at, "
    "t.last_used_at";
// last_used_at is bookkeeping for the console; writing it at most once a minute
// per token keeps it off the hot path.
constexpr int64_t kLastUsedWriteIntervalMs = 60'000;

TokenInfo RowToToken(const storage::Row& r) {
  TokenInfo t;
  t.id = r[0].AsInt();
  t.user_id = r[1].AsInt();
  t.username = r[2].AsText();
  t.name = r[3].AsText();
  t.kind = r[4].AsText() == "session" ? TokenKind::kSession : TokenKind::kApi;
  t.created_at = r[5].AsInt();
  t.expires_at = r[6].AsOptionalInt();
  t.revoked_at = r[7].AsOptionalInt();
  t.last_used_at = r[8].AsOptionalInt();
  return t;
}
}  // namespace

std::string_view TokenKindName(TokenKind kind) { return kind == TokenKind::kSession ? "session" : "api"; }

TokenStore::TokenStore(storage::Database& db, int64_t cache_ttl_seconds)
    : db_(db), cache_ttl_ms_(cache_ttl_seconds * 1000) {}

IssuedToken TokenStore::Issue(const User& user, std::string name, TokenKind kind, int64_t ttl_seconds) {
  if (user.disabled) throw Error(ErrorCode::kUnprocessable, "user '" + user.username + "' is disabled");
  if (name.size() > 200) throw Error(ErrorCode::kUnprocessable, "token name is too long");
  IssuedToken out;
  out.secret = "haip_" + crypto::RandomToken(32);
  int64_t now = clock::NowMillis();
  std::optional<int64_t> expires;
  if (ttl_seconds > 0) expires = now + ttl_seconds * 1000;
  auto res = db_.Query(
      "INSERT INTO api_tokens (user_id, name, kind, token_hash, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      {user.id, name, TokenKindName(kind), crypto::Sha256Hex(out.secret), now, expires});
  out.info.id = res.rows.at(0)[0].AsInt();
  out.info.user_id = user.id;
  out.info.username = user.username;
  out.info.name = std::move(name);
  out.info.kind = kind;
  out.info.created_at = now;
  out.info.expires_at = expires;
  return out;
}

Principal TokenStore::Verify(std::string_view secret) {
  static const char* kBad = "invalid, expired or revoked token";
  if (secret.rfind("haip_", 0) != 0 || secret.size() > 128) throw Error(ErrorCode::kUnauthorized, kBad);
  std::string hash = crypto::Sha256Hex(secret);
  int64_t now = clock::NowMillis();
  bool write_last_used = false;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && now - it->second.verified_at < cache_ttl_ms_) {
      if (it->second.expires_at && *it->second.expires_at <= now) {
        cache_.erase(it);
        throw Error(ErrorCode::kUnauthorized, kBad);
      }
      Principal p = it->second.principal;
      if (now - it->second.last_used_written >= kLastUsedWriteIntervalMs) {
        it->second.last_used_written = now;
        write_last_used = true;
      }
      if (!write_last_used) return p;
    }
  }
  auto res = db_.Query(
      "SELECT t.id, t.user_id, u.username, u.roles, u.department, u.disabled, t.kind, t.expires_at, "
      "t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
      {hash});
  if (res.empty()) throw Error(ErrorCode::kUnauthorized, kBad);
  const auto& r = res.rows[0];
  auto expires = r[7].AsOptionalInt();
  if (!r[8].IsNull() || r[5].AsInt() != 0 || (expires && *expires <= now)) {
    std::lock_guard lock(mu_);
    cache_.erase(hash);
    throw Error(ErrorCode::kUnauthorized, kBad);
  }
  Principal p;
  p.token_id = r[0].AsInt();
  p.user_id = r[1].AsInt();
  p.username = r[2].AsText();
  p.roles = ParseRoles(r[3].AsText());
  p.department = r[4].AsOptionalText();
  db_.Execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", {now, p.token_id});
  std::lock_guard lock(mu_);
  if (cache_.size() > 100'000) cache_.clear();  // bound memory under token churn
  cache_[hash] = Cached{p, expires, now, now};
  return p;
}

TokenInfo TokenStore::Revoke(int64_t id) {
  int64_t now = clock::NowMillis();
  db_.Execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", {now, id});
  auto info = Get(id);
  if (!info) throw Error(ErrorCode::kNotFound, "no token with id " + std::to_string(id));
  InvalidateCache();
  return *info;
}

std::optional<TokenInfo> TokenStore::Get(int64_t id) const {
  auto res = db_.Query(std::string("SELECT ") + kTokenColumns +
                           " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?",
                       {id});
  if (res.empty()) return std::nullopt;
  return RowToToken(res.rows[0]);
}

std::vector<TokenInfo> TokenStore::List(int64_t user_id, std::optional<TokenKind> kind) const {
  std::string sql = std::string("SELECT ") + kTokenColumns +
                    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE 1 = 1";
  storage::Params params;
  if (user_id) {
    sql += " AND t.user_id = ?";
    params.emplace_back(user_id);
  }
  if (kind) {
    sql += " AND t.kind = ?";
    params.emplace_back(TokenKindName(*kind));
  }
  sql += " ORDER BY t.id DESC";
  auto res = db_.Query(sql, params);
  std::vector<TokenInfo> out;
  for (const auto& r : res.rows) out.push_back(RowToToken(r));
  return out;
}

void TokenStore::InvalidateCache() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

}  // namespace haip::security
