#include "core/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/clock.h"
#include "core/error.h"

namespace haip {

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> keys = {
      {"data_dir", "./haip-data", "Directory holding every file HAIP writes (database, blobs, logs)."},
      {"server.listen", "127.0.0.1:8080", "HOST:PORT the HTTP server listens on."},
      {"server.threads", "0", "HTTP worker threads; 0 means one per CPU core."},
      {"server.max_body_bytes", "16777216", "Largest accepted request body in bytes (larger: 413)."},
      {"server.max_header_bytes", "16384", "Largest accepted request header block in bytes (larger: 431)."},
      {"server.read_timeout", "30s", "Time allowed to receive one request, headers and body."},
      {"server.idle_timeout", "60s", "How long an idle keep-alive connection is kept open."},
      {"server.shutdown_timeout", "20s", "On SIGTERM/SIGINT, how long in-flight requests may take to finish."},
      {"server.web_root", "", "Directory of the built console (web/dist); empty: found next to the binary."},
      {"tls.cert_file", "", "PEM certificate chain; with tls.key_file set, the server speaks HTTPS only."},
      {"tls.key_file", "", "PEM private key for tls.cert_file."},
      {"storage.backend", "sqlite", "Database backend: sqlite (embedded, default) or postgresql."},
      {"storage.sqlite_path", "", "SQLite database file; empty means <data_dir>/haip.db."},
      {"storage.postgres_url", "", "libpq connection string or URI when storage.backend is postgresql."},
      {"storage.pool_size", "8", "Database connections kept in the pool."},
      {"storage.sqlite_cache_mib", "64", "Page cache per SQLite connection in MiB, used as pages are read (at most pool_size times this)."},
      {"security.admin_password", "", "Password of the first-start admin; empty: one is generated and printed once."},
      {"security.session_ttl", "12h", "Lifetime of a console session."},
      {"security.token_ttl", "90d", "Default lifetime of an API token."},
      {"security.lockout_threshold", "5", "Failed logins in a row that lock an account."},
      {"security.lockout_duration", "15m", "How long a locked account stays locked."},
      {"security.password_min_length", "12", "Shortest password accepted for a user."},
      {"security.argon2_memory_kib", "19456", "argon2id memory cost in KiB for password hashes."},
      {"security.argon2_iterations", "2", "argon2id time cost (passes) for password hashes."},
      {"security.token_cache_ttl", "5s", "How long a verified token is trusted without a database read (revocation takes effect within this time on other servers; at once on this one)."},
      {"mllp.port", "0", "TCP port of the HL7 v2 MLLP listener; 0 turns it off (haip serve --mllp-port)."},
      {"mllp.host", "127.0.0.1", "Address the MLLP listener binds to."},
      {"mllp.max_message_bytes", "16777216", "Largest HL7 v2 message accepted over MLLP (larger: AR)."},
      {"orthanc.url", "", "Orthanc PACS to follow (http://host:8042); empty: off. New studies become ImagingStudy resources."},
      {"orthanc.username", "", "Orthanc user for HTTP basic auth; empty: none."},
      {"orthanc.password", "", "Password for orthanc.username."},
      {"orthanc.poll_interval", "10s", "How often Orthanc's /changes feed is read."},
      {"blob.hot_dir", "", "Hot tier directory of the blob store; empty means <data_dir>/blobs/hot."},
      {"blob.warm_dir", "", "Warm tier directory; empty means <data_dir>/blobs/warm."},
      {"blob.cold_dir", "", "Cold tier directory; empty means <data_dir>/blobs/cold."},
      {"blob.hot_to_warm_idle", "30d", "Move a blob from hot to warm when neither read nor written for this long (0: never)."},
      {"blob.warm_to_cold_idle", "180d", "Move a blob from warm to cold when idle for this long (0: never)."},
      {"blob.promote_read_within", "1d", "Move a warm or cold blob back to hot when read within this long after its last move (0: never)."},
      {"blob.migrate_interval", "1h", "How often haip serve moves blobs between tiers (0: never)."},
      {"blob.verify_interval", "7d", "How often haip serve re-checks every blob's checksum (0: never)."},
      {"audit.batch_size", "512", "Most audit records committed in one transaction."},
      {"log.level", "info", "Log level: trace, debug, info, warn, error."},
      {"log.file", "", "Also write logs to this file; empty: stderr only."},
  };
  return keys;
}

std::string EnvName(std::string_view key) {
  std::string env = "HAIP_";
  for (char c : key) env += (c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

namespace {
// Short environment names for the keys users set most often.
const std::map<std::string, std::string, std::less<>>& EnvAliases() {
  static const std::map<std::string, std::string, std::less<>> aliases = {
      {"HAIP_LISTEN", "server.listen"},
      {"HAIP_WEB_ROOT", "server.web_root"},
      {"HAIP_ADMIN_PASSWORD", "security.admin_password"},
      {"HAIP_LOG_LEVEL", "log.level"},
  };
  return aliases;
}

bool IsKnown(std::string_view key) {
  const auto& keys = ConfigKeys();
  return std::any_of(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.name == key; });
}

void Flatten(const toml::table& table, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out, std::string_view source) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      Flatten(*sub, key, out, source);
    } else if (const auto* s = node.as_string()) {
      out.emplace_back(key, s->get());
    } else if (const auto* i = node.as_integer()) {
      out.emplace_back(key, std::to_string(i->get()));
    } else if (const auto* b = node.as_boolean()) {
      out.emplace_back(key, b->get() ? "true" : "false");
    } else if (const auto* f = node.as_floating_point()) {
      out.emplace_back(key, std::to_string(f->get()));
    } else {
      throw Error(ErrorCode::kBadRequest,
                  std::string(source) + ": unsupported value type for key '" + key + "'");
    }
  }
}
}  // namespace

Config::Config() {
  for (const auto& k : ConfigKeys()) values_[std::string(k.name)] = {std::string(k.default_value), "default"};
}

void Config::Assign(std::string_view key, std::string value, std::string_view source) {
  if (!IsKnown(key)) {
    throw Error(ErrorCode::kBadRequest,
                "unknown configuration key '" + std::string(key) + "' (from " + std::string(source) +
                    "); see docs/configuration.md");
  }
  values_[std::string(key)] = {std::move(value), std::string(source)};
}

void Config::LoadTomlString(std::string_view text, std::string_view source_name) {
  toml::table table;
  try {
    table = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorCode::kBadRequest, std::string(source_name) + ":" +
                                            std::to_string(e.source().begin.line) + ": " +
                                            std::string(e.description()));
  }
  std::vector<std::pair<std::string, std::string>> flat;
  Flatten(table, "", flat, source_name);
  for (auto& [k, v] : flat) Assign(k, std::move(v), "file");
}

void Config::LoadTomlFile(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorCode::kBadRequest, path + ":" + std::to_string(e.source().begin.line) + ": " +
                                            std::string(e.description()));
  }
  std::vector<std::pair<std::string, std::string>> flat;
  Flatten(table, "", flat, path);
  for (auto& [k, v] : flat) Assign(k, std::move(v), "file");
}

void Config::LoadEnvironment(char** envp) {
  std::map<std::string, std::string, std::less<>> by_env;
  for (const auto& k : ConfigKeys()) by_env[EnvName(k.name)] = std::string(k.name);
  for (const auto& [env, key] : EnvAliases()) by_env[env] = key;
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    auto it = by_env.find(entry.substr(0, eq));
    if (it != by_env.end()) Assign(it->second, std::string(entry.substr(eq + 1)), "env");
  }
}

void Config::Set(std::string_view key, std::string value) { Assign(key, std::move(value), "flag"); }

const Config::Entry& Config::Find(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw Error(ErrorCode::kInternal, "undeclared configuration key: " + std::string(key));
  return it->second;
}

std::string Config::GetString(std::string_view key) const { return Find(key).value; }

int64_t Config::GetInt(std::string_view key) const {
  const auto& v = Find(key).value;
  try {
    size_t used = 0;
    int64_t n = std::stoll(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  throw Error(ErrorCode::kBadRequest,
              "configuration key '" + std::string(key) + "' must be an integer, got '" + v + "'");
}

bool Config::GetBool(std::string_view key) const {
  std::string v = Find(key).value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
  throw Error(ErrorCode::kBadRequest,
              "configuration key '" + std::string(key) + "' must be true or false, got '" + v + "'");
}

int64_t Config::GetDurationSeconds(std::string_view key) const {
  try {
    return clock::ParseDurationSeconds(Find(key).value);
  } catch (const Error& e) {
    throw Error(ErrorCode::kBadRequest, "configuration key '" + std::string(key) + "': " + e.what());
  }
}

std::string Config::Source(std::string_view key) const { return Find(key).source; }

std::string Config::DataPath(std::string_view relative) const {
  return (std::filesystem::path(DataDir()) / relative).string();
}

}  // namespace haip
