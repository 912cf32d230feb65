#include "platform/platform.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/log.h"
#include "core/version.h"
#include "security/password.h"
#include "security/schema.h"
#include "storage/migrations.h"

namespace haip {

namespace fs = std::filesystem;

namespace {
std::string LoadOrCreateSecret(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw Error(ErrorCode::kUnavailable, "cannot create " + path.parent_path().string() + ": " + ec.message());
  chmod(path.parent_path().c_str(), 0700);
  if (fs::exists(path)) {
    std::ifstream in(path, std::ios::binary);
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (key.size() >= 32) return key;
    throw Error(ErrorCode::kInternal, path.string() + " is damaged (shorter than 32 bytes)");
  }
  std::string key = crypto::HexEncode(crypto::RandomBytes(32));
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << key;
    if (!out) throw Error(ErrorCode::kUnavailable, "cannot write " + tmp.string());
  }
  chmod(tmp.c_str(), 0600);
  fs::rename(tmp, path);
  return key;
}
}  // namespace

Platform::Platform(const Config& config) : config_(config), started_at_ms_(clock::NowMillis()) {}

Platform::~Platform() {
  exports_.reset();  // stops the export worker before the database closes
  audit_.reset();    // commits queued audit records while the database is still open
}

cohort::CohortService& Platform::cohorts() {
  std::call_once(cohorts_once_, [this] { cohorts_ = std::make_unique<cohort::CohortService>(*db_, *fhir_); });
  return *cohorts_;
}

lake::ExportJobs& Platform::exports() {
  std::call_once(exports_once_, [this] {
    exports_ = std::make_unique<lake::ExportJobs>(*db_, config_.DataPath("exports"), DeidKeyPath());
  });
  return *exports_;
}

std::string Platform::DeidKeyPath() const { return config_.DataPath("secrets/deid.key"); }

std::unique_ptr<Platform> Platform::Open(const Config& config) {
  std::unique_ptr<Platform> p(new Platform(config));
  fs::path data_dir = config.DataDir();
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) throw Error(ErrorCode::kUnavailable, "cannot create data directory " + data_dir.string() + ": " + ec.message());

  storage::DatabaseOptions opts;
  opts.backend = config.GetString("storage.backend");
  opts.sqlite_path = config.GetString("storage.sqlite_path");
  if (opts.sqlite_path.empty()) opts.sqlite_path = (data_dir / "haip.db").string();
  opts.postgres_url = config.GetString("storage.postgres_url");
  opts.pool_size = static_cast<int>(config.GetInt("storage.pool_size"));
  opts.sqlite_cache_mib = static_cast<int>(config.GetInt("storage.sqlite_cache_mib"));
  p->db_ = storage::Open(opts);
  storage::Migrate(*p->db_, "security", security::SecurityMigrations(p->db_->dialect()));
  storage::Migrate(*p->db_, "lake.fhir", lake::FhirStore::Migrations(p->db_->dialect()));
  storage::Migrate(*p->db_, "lake.ingest", lake::FhirIngest::Migrations());
  storage::Migrate(*p->db_, "lake.export", lake::ExportJobs::Migrations());
  storage::Migrate(*p->db_, "cohort", cohort::CohortService::Migrations());
  storage::Migrate(*p->db_, "lake.feeds", lake::OrthancFollower::Migrations());

  security::UserSettings us;
  us.password_params.memory_kib = static_cast<uint32_t>(config.GetInt("security.argon2_memory_kib"));
  us.password_params.iterations = static_cast<uint32_t>(config.GetInt("security.argon2_iterations"));
  us.password_min_length = static_cast<size_t>(config.GetInt("security.password_min_length"));
  us.lockout_threshold = static_cast<int>(config.GetInt("security.lockout_threshold"));
  us.lockout_seconds = config.GetDurationSeconds("security.lockout_duration");
  p->users_ = std::make_unique<security::UserStore>(*p->db_, us);
  p->tokens_ = std::make_unique<security::TokenStore>(*p->db_, config.GetDurationSeconds("security.token_cache_ttl"));
  p->audit_ = std::make_unique<security::AuditLog>(
      *p->db_, static_cast<size_t>(config.GetInt("audit.batch_size")), &p->metrics_);
  p->fhir_ = std::make_unique<lake::FhirStore>(*p->db_);
  p->fhir_ingest_ = std::make_unique<lake::FhirIngest>(*p->fhir_, *p->db_);
  lake::BlobStoreOptions blob_options;
  blob_options.hot_dir = config.GetString("blob.hot_dir");
  blob_options.warm_dir = config.GetString("blob.warm_dir");
  blob_options.cold_dir = config.GetString("blob.cold_dir");
  p->blobs_ = std::make_unique<lake::BlobStore>(data_dir / "blobs", blob_options);
  p->blobs_->RegisterMetrics(p->metrics_);
  p->hl7_ = std::make_unique<lake::Hl7Ingestor>(*p->fhir_, *p->blobs_);
  p->secret_key_ = LoadOrCreateSecret(data_dir / "secrets" / "server.key");
  p->metrics_.SetBuildInfo(std::string(Version()), std::string(GitCommit()));
  return p;
}

std::optional<std::string> Platform::BootstrapAdmin() {
  if (users_->AnyAdmin()) return std::nullopt;
  std::string configured = config_.GetString("security.admin_password");
  std::string password = configured.empty() ? security::GeneratePassword() : configured;
  security::NewUser admin{"admin", password, "Administrator",
                          static_cast<security::RoleSet>(security::Role::kAdmin), std::nullopt};
  if (users_->Find("admin")) {
    // An "admin" account exists but lost its role or was disabled: restore it
    // rather than leave the platform without an administrator.
    security::UserChange change;
    change.roles = static_cast<security::RoleSet>(security::Role::kAdmin);
    change.disabled = false;
    users_->Update("admin", change);
    spdlog::warn("no enabled administrator: re-enabled user 'admin' with role admin");
    audit_->AppendSync(CliAuditRecord("user.bootstrap", R"({"username":"admin","restored":true})"));
    return std::nullopt;
  }
  users_->CreateUnchecked(admin);
  audit_->AppendSync(CliAuditRecord("user.bootstrap", R"({"username":"admin"})"));
  if (!configured.empty()) {
    spdlog::info("created administrator 'admin' with the configured password");
    return std::nullopt;
  }
  return password;
}

security::AuditRecord CliAuditRecord(std::string action, std::string detail_json) {
  security::AuditRecord r;
  std::string login = "unknown";
  if (struct passwd* pw = getpwuid(geteuid())) login = pw->pw_name;
  r.request_id = log::NewRequestId();
  r.username = "cli:" + login;
  r.action = std::move(action);
  r.method = "CLI";
  r.path = "";
  r.status = 0;
  r.outcome = "success";
  r.detail = std::move(detail_json);
  return r;
}

lake::BlobMaintenanceOptions Platform::BlobMaintenanceFromConfig() const {
  lake::BlobMaintenanceOptions o;
  o.policy.hot_to_warm_idle_seconds = config_.GetDurationSeconds("blob.hot_to_warm_idle");
  o.policy.warm_to_cold_idle_seconds = config_.GetDurationSeconds("blob.warm_to_cold_idle");
  o.policy.promote_read_within_seconds = config_.GetDurationSeconds("blob.promote_read_within");
  o.migrate_interval_seconds = config_.GetDurationSeconds("blob.migrate_interval");
  o.verify_interval_seconds = config_.GetDurationSeconds("blob.verify_interval");
  return o;
}

}  // namespace haip
