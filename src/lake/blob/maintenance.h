// Background upkeep of the tiered blob store in a running server: Migrate()
// (movement by age and access) every `migrate_interval`, Verify() (checksums,
// leftovers of interrupted moves) every `verify_interval`. Results go to the
// log; corrupt blobs are logged as errors.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "lake/blob/blob_store.h"

namespace haip::lake {

struct BlobMaintenanceOptions {
  BlobMigrationPolicy policy;
  int64_t migrate_interval_seconds = 3600;  // 0 = never
  int64_t verify_interval_seconds = 7 * 86400;
};

class BlobMaintenance {
 public:
  BlobMaintenance(BlobStore& store, BlobMaintenanceOptions options);
  ~BlobMaintenance();  // stops the thread
  BlobMaintenance(const BlobMaintenance&) = delete;
  BlobMaintenance& operator=(const BlobMaintenance&) = delete;

  void Start();
  void Stop();
  // One round now (the thread's work, callable from tests and the CLI).
  BlobMigrationReport MigrateOnce();
  BlobVerifyReport VerifyOnce();

 private:
  void Loop();
  BlobStore& store_;
  BlobMaintenanceOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace haip::lake
