// The lake's tiered, content-addressed blob store: large objects (DICOM
// files, original HL7 messages, attachments) live here, keyed by the
// lowercase hex SHA-256 of their bytes. Identical content is stored once.
//
// Layout: one directory per tier, two levels of fan-out by key prefix:
//   <hot>/ab/cd/abcd...  <warm>/ab/cd/abcd...  <cold>/ab/cd/abcd...
//   <tier>/tmp/          in-flight writes (same filesystem as the tier)
// By default the tiers are <root>/hot, <root>/warm and <root>/cold; each can
// be placed elsewhere (a cold tier on cheaper disk) through BlobStoreOptions.
//
// Access tracking uses the blob file's own timestamps, so there is no index
// to keep consistent or lose in a crash:
//   mtime = when the blob entered its current tier (Put or migration),
//   atime = when it was last read or put (set explicitly with utimensat, so
//           it works on noatime/relatime mounts too).
// Verify() reads with O_NOATIME and restores atime, so checking is not access.
//
// Durability: writes go to <tier>/tmp, are fsynced, renamed into place and the
// directory is fsynced. Migration copies to the destination tier the same way
// before unlinking the source, so a blob is readable from at least one tier at
// every instant, and a crash mid-move leaves at most a duplicate that the
// next Migrate() or Verify() removes. Reads look in hot, warm, cold order and
// retry once if a concurrent move (in this or another process) got in the way.
//
// Every read checks the SHA-256 of the bytes against the key; a mismatch is
// Error(kInternal) naming the key and tier. All methods are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <istream>
#include <mutex>
#include <optional>
#include <ostream>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace haip {
class Metrics;
}

namespace haip::lake {

enum class BlobTier { kHot = 0, kWarm = 1, kCold = 2 };
inline constexpr std::array<BlobTier, 3> kBlobTiers = {BlobTier::kHot, BlobTier::kWarm, BlobTier::kCold};

// "hot", "warm", "cold".
std::string_view BlobTierName(BlobTier tier);
// Inverse of BlobTierName; Error(kBadRequest) otherwise.
BlobTier ParseBlobTier(std::string_view name);

struct BlobStoreOptions {
  // Empty: <root>/hot, <root>/warm, <root>/cold.
  std::filesystem::path hot_dir;
  std::filesystem::path warm_dir;
  std::filesystem::path cold_dir;
  // fsync files and directories on write and move. Off only in tests that
  // measure something else; a crash may then lose recent puts.
  bool fsync = true;
};

// What Migrate() does. A threshold of 0 disables that move.
struct BlobMigrationPolicy {
  // hot -> warm when neither read nor put for this long, and in hot at least this long.
  int64_t hot_to_warm_idle_seconds = 30 * 86400;
  // warm -> cold likewise.
  int64_t warm_to_cold_idle_seconds = 180 * 86400;
  // warm/cold -> hot when read (after it entered its tier) within this many seconds.
  int64_t promote_read_within_seconds = 86400;
  // The "now" the policy is evaluated at (milliseconds since the epoch); 0 = the clock.
  int64_t now_millis = 0;
};

struct BlobMigrationReport {
  uint64_t hot_to_warm = 0;
  uint64_t warm_to_cold = 0;
  uint64_t promoted = 0;             // warm/cold -> hot
  uint64_t duplicates_removed = 0;   // copies left by an interrupted move
  uint64_t bytes_moved = 0;
  std::vector<std::string> errors;   // "<key>: <message>" for blobs that could not be moved
};

struct BlobVerifyReport {
  uint64_t checked = 0;
  uint64_t bytes = 0;
  std::vector<std::string> corrupt;      // "<tier>/<key>"
  uint64_t duplicates_removed = 0;
  uint64_t stale_temp_files_removed = 0;
};

struct BlobTierStats {
  uint64_t count = 0;
  uint64_t bytes = 0;
};

struct BlobInfo {
  BlobTier tier = BlobTier::kHot;
  uint64_t size = 0;
  int64_t tier_since_millis = 0;  // mtime
  int64_t last_access_millis = 0; // atime
};

class BlobStore {
 public:
  // Creates the tier directories if missing and counts what is there.
  explicit BlobStore(std::filesystem::path root, BlobStoreOptions options = {});
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  // Stores bytes and returns the key. If the blob already exists (in any
  // tier) nothing is written; it counts as an access.
  std::string Put(std::string_view bytes, BlobTier tier = BlobTier::kHot);
  // Same, streaming: the content is hashed while written to a temporary file.
  std::string Put(std::istream& in, BlobTier tier = BlobTier::kHot);
  std::string PutFile(const std::filesystem::path& file, BlobTier tier = BlobTier::kHot);

  // The blob's bytes. Error(kBadRequest) for a malformed key, kNotFound if
  // absent, kInternal if the stored bytes do not match the key.
  std::string Get(std::string_view key);
  // Streams the blob to `out`. The checksum is checked at the end; on a
  // mismatch the bytes were already written and Error(kInternal) is thrown,
  // so the caller must discard what it received.
  void GetTo(std::string_view key, std::ostream& out);

  bool Exists(std::string_view key) const;
  // Where the blob is and its timestamps; nullopt if absent.
  std::optional<BlobInfo> Info(std::string_view key) const;
  // Removes the blob from every tier; false if it was not there.
  bool Delete(std::string_view key);

  // Re-hashes every blob; removes duplicates left by interrupted moves and
  // temporary files older than an hour; recounts the tier statistics.
  BlobVerifyReport Verify();
  BlobMigrationReport Migrate(const BlobMigrationPolicy& policy);

  BlobTierStats Stats(BlobTier tier) const;
  // Gauges haip_blob_count{tier} and haip_blob_bytes{tier}, read at scrape time.
  // The store must outlive `metrics`' use of them.
  void RegisterMetrics(Metrics& metrics);

  const std::filesystem::path& TierDir(BlobTier tier) const;

  // True for 64 lowercase hex characters.
  static bool IsValidKey(std::string_view key);

 private:
  struct Located {
    BlobTier tier;
    std::filesystem::path path;
  };
  std::filesystem::path PathFor(BlobTier tier, std::string_view key) const;
  std::optional<Located> Locate(std::string_view key) const;
  std::shared_mutex& LockFor(std::string_view key) const;
  // Moves a blob between tiers (caller holds the key's lock exclusively).
  void MoveLocked(std::string_view key, BlobTier from, BlobTier to, uint64_t size);
  // Writes `in` (hashing it) to a temp file in `tier`; returns the temp path and the key.
  std::pair<std::filesystem::path, std::string> WriteTemp(std::istream& in, BlobTier tier, uint64_t* size);
  std::string Commit(const std::filesystem::path& temp, std::string key, BlobTier tier, uint64_t size);
  void Recount();
  void AddStats(BlobTier tier, int64_t count, int64_t bytes);

  std::filesystem::path root_;
  BlobStoreOptions options_;
  std::array<std::filesystem::path, 3> dirs_;
  mutable std::array<std::shared_mutex, 64> key_locks_;
  mutable std::mutex stats_mu_;
  std::array<BlobTierStats, 3> stats_{};
  std::mutex migrate_mu_;  // one Migrate/Verify at a time
};

}  // namespace haip::lake
