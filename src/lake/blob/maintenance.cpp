#include "lake/blob/maintenance.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace haip::lake {

BlobMaintenance::BlobMaintenance(BlobStore& store, BlobMaintenanceOptions options)
    : store_(store), options_(options) {}

BlobMaintenance::~BlobMaintenance() { Stop(); }

void BlobMaintenance::Start() {
  if (thread_.joinable()) return;
  if (options_.migrate_interval_seconds <= 0 && options_.verify_interval_seconds <= 0) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void BlobMaintenance::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

BlobMigrationReport BlobMaintenance::MigrateOnce() {
  BlobMigrationReport r = store_.Migrate(options_.policy);
  if (r.hot_to_warm + r.warm_to_cold + r.promoted + r.duplicates_removed > 0 || !r.errors.empty()) {
    spdlog::info("blob store: {} hot->warm, {} warm->cold, {} promoted to hot, {} bytes moved, {} errors",
                 r.hot_to_warm, r.warm_to_cold, r.promoted, r.bytes_moved, r.errors.size());
  }
  for (const auto& e : r.errors) spdlog::warn("blob store: could not move {}", e);
  return r;
}

BlobVerifyReport BlobMaintenance::VerifyOnce() {
  BlobVerifyReport r = store_.Verify();
  spdlog::info("blob store verified: {} blobs, {} bytes, {} corrupt", r.checked, r.bytes, r.corrupt.size());
  for (const auto& c : r.corrupt) spdlog::error("blob store: checksum mismatch in {}", c);
  return r;
}

void BlobMaintenance::Loop() {
  using Clock = std::chrono::steady_clock;
  auto next_migrate = Clock::now() + std::chrono::seconds(options_.migrate_interval_seconds);
  auto next_verify = Clock::now() + std::chrono::seconds(options_.verify_interval_seconds);
  std::unique_lock lock(mu_);
  while (!stop_) {
    auto wake = Clock::time_point::max();
    if (options_.migrate_interval_seconds > 0) wake = std::min(wake, next_migrate);
    if (options_.verify_interval_seconds > 0) wake = std::min(wake, next_verify);
    if (wake == Clock::time_point::max()) return;
    cv_.wait_until(lock, wake, [this] { return stop_; });
    if (stop_) return;
    lock.unlock();
    try {
      if (options_.migrate_interval_seconds > 0 && Clock::now() >= next_migrate) {
        MigrateOnce();
        next_migrate = Clock::now() + std::chrono::seconds(options_.migrate_interval_seconds);
      }
      if (options_.verify_interval_seconds > 0 && Clock::now() >= next_verify) {
        VerifyOnce();
        next_verify = Clock::now() + std::chrono::seconds(options_.verify_interval_seconds);
      }
    } catch (const std::exception& e) {
      spdlog::error("blob store maintenance: {}", e.what());
    }
    lock.lock();
  }
}

}  // namespace haip::lake
