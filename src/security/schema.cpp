#include "security/schema.h"

namespace haip::security {

std::vector<storage::Migration> SecurityMigrations(storage::Dialect dialect) {
  std::vector<storage::Migration> m;
  m.push_back({1, "users and tokens", R"SQL(
CREATE TABLE users (
  id ${ID},
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  department TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until ${BIGINT},
  created_at ${BIGINT} NOT NULL,
  updated_at ${BIGINT} NOT NULL,
  last_login_at ${BIGINT}
);
CREATE TABLE api_tokens (
  id ${ID},
  user_id ${BIGINT} NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at ${BIGINT} NOT NULL,
  expires_at ${BIGINT},
  revoked_at ${BIGINT},
  last_used_at ${BIGINT}
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
)SQL"});
  // The audit log: ids are assigned by the writer, contiguous from 1, and part
  // of each record's hash, so a deleted or inserted record shows as a break.
  m.push_back({2, "audit log", R"SQL(
CREATE TABLE audit_log (
  id ${BIGINT} PRIMARY KEY,
  ts ${BIGINT} NOT NULL,
  request_id TEXT NOT NULL,
  user_id ${BIGINT},
  username TEXT NOT NULL,
  roles TEXT NOT NULL,
  action TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  patient TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_ts ON audit_log(ts);
CREATE INDEX audit_log_user ON audit_log(username, id);
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE INDEX audit_log_patient ON audit_log(patient, id);
)SQL"});
  // Append-only at the database too: HAIP never updates or deletes audit rows,
  // so a trigger refuses both. Someone with direct database access can drop
  // the trigger; the hash chain is what detects that.
  if (dialect == storage::Dialect::kSqlite) {
    m.push_back({3, "audit log append-only", R"SQL(
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)SQL"});
  } else {
    m.push_back({3, "audit log append-only", R"SQL(
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
'BEGIN RAISE EXCEPTION ''audit_log is append-only''; END';
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
)SQL"});
  }
  return m;
}

}  // namespace haip::security
