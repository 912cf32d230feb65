// The assembled platform: one data directory, its database, and the modules
// opened on it. `haip serve` and the CLI commands both start from here, so a
// command run beside a live server sees the same users, tokens and audit log.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "cohort/service.h"
#include "lake/blob/blob_store.h"
#include "lake/blob/maintenance.h"
#include "lake/export/export.h"
#include "lake/sources/sources.h"
#include "lake/fhir/ingest.h"
#include "lake/fhir/store.h"
#include "security/audit.h"
#include "security/tokens.h"
#include "security/users.h"
#include "storage/database.h"

namespace haip {

class Platform {
 public:
  // Creates the data directory if needed, opens the database and applies
  // migrations. Throws Error on a bad configuration or an unreachable database.
  static std::unique_ptr<Platform> Open(const Config& config);
  ~Platform();

  // On first start (no enabled admin): creates user `admin` with
  // security.admin_password, or a generated password that is returned so the
  // caller can print it once. nullopt when nothing was created or the
  // password came from the configuration.
  std::optional<std::string> BootstrapAdmin();

  // A key kept in <data_dir>/secrets/server.key (0600), made on first start;
  // used for CSRF tokens and other server-side MACs.
  const std::string& secret_key() const { return secret_key_; }

  const Config& config() const { return config_; }
  storage::Database& db() { return *db_; }
  security::UserStore& users() { return *users_; }
  security::TokenStore& tokens() { return *tokens_; }
  security::AuditLog& audit() { return *audit_; }
  Metrics& metrics() { return metrics_; }
  lake::FhirStore& fhir() { return *fhir_; }
  lake::FhirIngest& fhir_ingest() { return *fhir_ingest_; }
  lake::BlobStore& blobs() { return *blobs_; }
  // The blob.* tiering and checking settings.
  lake::BlobMaintenanceOptions BlobMaintenanceFromConfig() const;
  lake::Hl7Ingestor& hl7() { return *hl7_; }
  // The export job runner: started on first use (by the server), so CLI
  // commands never pick up queued jobs.
  // The cohort engine (its index is built from the lake on first use).
  cohort::CohortService& cohorts();
  lake::ExportJobs& exports();
  // <data_dir>/secrets/deid.key: the de-identification key, made on first use.
  std::string DeidKeyPath() const;
  int64_t started_at_ms() const { return started_at_ms_; }

 private:
  explicit Platform(const Config& config);

  Config config_;
  Metrics metrics_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<security::UserStore> users_;
  std::unique_ptr<security::TokenStore> tokens_;
  std::unique_ptr<security::AuditLog> audit_;
  std::unique_ptr<lake::FhirStore> fhir_;
  std::unique_ptr<lake::FhirIngest> fhir_ingest_;
  std::unique_ptr<lake::BlobStore> blobs_;
  std::unique_ptr<lake::Hl7Ingestor> hl7_;
  std::once_flag cohorts_once_;
  std::unique_ptr<cohort::CohortService> cohorts_;
  std::once_flag exports_once_;
  std::unique_ptr<lake::ExportJobs> exports_;
  std::string secret_key_;
  int64_t started_at_ms_;
};

// An audit record for work done through the CLI: user "cli:<login name>".
security::AuditRecord CliAuditRecord(std::string action, std::string detail_json);

}  // namespace haip
