#include "testing/error_code.h"
#include "lake/blob/blob_store.h"
#include "lake/blob/maintenance.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/metrics.h"

namespace fs = std::filesystem;
using haip::Error;
using haip::ErrorCode;
using haip::lake::BlobMigrationPolicy;
using haip::lake::BlobStore;
using haip::lake::BlobTier;

namespace {

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("haip-blob-test-" + haip::crypto::HexEncode(haip::crypto::RandomBytes(6)));
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

using haip::testing::CodeOf;

constexpr int64_t kDay = 86400;

}  // namespace

TEST_F(BlobStoreTest, PutGetRoundTripWithShardedLayout) {
  BlobStore store(root_);
  const std::string data = "hello DICOM";
  std::string key = store.Put(data);
  EXPECT_EQ(key, haip::crypto::Sha256Hex(data));
  EXPECT_TRUE(fs::exists(root_ / "hot" / key.substr(0, 2) / key.substr(2, 2) / key));
  EXPECT_EQ(store.Get(key), data);
  EXPECT_TRUE(store.Exists(key));
  auto info = store.Info(key);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->tier, BlobTier::kHot);
  EXPECT_EQ(info->size, data.size());
}

TEST_F(BlobStoreTest, EmptyAndBinaryBlobs) {
  BlobStore store(root_);
  std::string empty_key = store.Put(std::string_view{});
  EXPECT_EQ(store.Get(empty_key), "");
  std::string binary(3 << 20, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 131 % 251);
  std::string key = store.Put(binary);
  EXPECT_EQ(store.Get(key), binary);
}

TEST_F(BlobStoreTest, StreamAndFilePutsMatchBytePut) {
  BlobStore store(root_);
  std::string data(100000, 'x');
  std::istringstream in(data);
  std::string k1 = store.Put(in);
  fs::path file = root_ / "input.bin";
  std::ofstream(file, std::ios::binary) << data;
  std::string k2 = store.PutFile(file, BlobTier::kCold);
  EXPECT_EQ(k1, k2);
  EXPECT_EQ(k1, haip::crypto::Sha256Hex(data));
  EXPECT_EQ(CodeOf([&] { store.PutFile(root_ / "missing.bin"); }), ErrorCode::kNotFound);
}

TEST_F(BlobStoreTest, DedupeStoresOnce) {
  BlobStore store(root_);
  std::string a = store.Put("same");
  std::string b = store.Put("same", BlobTier::kCold);  // already in hot: not written again
  EXPECT_EQ(a, b);
  EXPECT_EQ(store.Stats(BlobTier::kHot).count, 1u);
  EXPECT_EQ(store.Stats(BlobTier::kCold).count, 0u);
  EXPECT_TRUE(fs::is_empty(root_ / "hot" / "tmp"));
}

TEST_F(BlobStoreTest, MissingAndMalformedKeys) {
  BlobStore store(root_);
  std::string absent(64, 'a');
  EXPECT_FALSE(store.Exists(absent));
  EXPECT_EQ(CodeOf([&] { store.Get(absent); }), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { store.Get("../../etc/passwd"); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([&] { store.Get(std::string(64, 'A')); }), ErrorCode::kBadRequest);
  EXPECT_FALSE(store.Delete(absent));
}

TEST_F(BlobStoreTest, DeleteRemovesFromEveryTier) {
  BlobStore store(root_);
  std::string key = store.Put("to delete");
  EXPECT_TRUE(store.Delete(key));
  EXPECT_FALSE(store.Exists(key));
  EXPECT_EQ(store.Stats(BlobTier::kHot).count, 0u);
  EXPECT_EQ(store.Stats(BlobTier::kHot).bytes, 0u);
}

TEST_F(BlobStoreTest, CorruptionDetectedOnReadAndVerify) {
  BlobStore store(root_);
  std::string good = store.Put("good blob");
  std::string key = store.Put("original content");
  fs::path path = root_ / "hot" / key.substr(0, 2) / key.substr(2, 2) / key;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "tampered content";
  try {
    store.Get(key);
    FAIL() << "corruption not detected";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
  auto report = store.Verify();
  EXPECT_EQ(report.checked, 2u);
  ASSERT_EQ(report.corrupt.size(), 1u);
  EXPECT_EQ(report.corrupt[0], "hot/" + key);
  EXPECT_EQ(store.Get(good), "good blob");
  // A corrupt blob is never copied to another tier.
  auto migration = store.Migrate({.hot_to_warm_idle_seconds = 1, .now_millis = haip::clock::NowMillis() + 10000});
  EXPECT_EQ(migration.errors.size(), 1u);
  EXPECT_EQ(store.Info(key)->tier, BlobTier::kHot);
  EXPECT_EQ(store.Info(good)->tier, BlobTier::kWarm);
}

TEST_F(BlobStoreTest, MigrationDemotesIdleBlobsAndReadsStayTransparent) {
  BlobStore store(root_);
  std::string key = store.Put("ageing blob");
  const int64_t now = haip::clock::NowMillis();
  BlobMigrationPolicy policy{.hot_to_warm_idle_seconds = 30 * kDay,
                             .warm_to_cold_idle_seconds = 180 * kDay,
                             .promote_read_within_seconds = 0};

  policy.now_millis = now + 10 * kDay * 1000;  // not idle long enough
  EXPECT_EQ(store.Migrate(policy).hot_to_warm, 0u);
  EXPECT_EQ(store.Info(key)->tier, BlobTier::kHot);

  policy.now_millis = now + 31 * kDay * 1000;
  auto r = store.Migrate(policy);
  EXPECT_EQ(r.hot_to_warm, 1u);
  EXPECT_EQ(store.Info(key)->tier, BlobTier::kWarm);
  EXPECT_FALSE(fs::exists(root_ / "hot" / key.substr(0, 2) / key.substr(2, 2) / key));
  EXPECT_EQ(store.Get(key), "ageing blob");
  EXPECT_EQ(store.Stats(BlobTier::kHot).count, 0u);
  EXPECT_EQ(store.Stats(BlobTier::kWarm).count, 1u);

  // Time in the warm tier counts from the move.
  policy.now_millis = now + 181 * kDay * 1000;
  EXPECT_EQ(store.Migrate(policy).warm_to_cold, 1u);
  EXPECT_EQ(store.Info(key)->tier, BlobTier::kCold);
  EXPECT_EQ(store.Get(key), "ageing blob");
  EXPECT_TRUE(store.Exists(key));
  EXPECT_EQ(store.Stats(BlobTier::kCold).bytes, std::string("ageing blob").size());
}

TEST_F(BlobStoreTest, ReadColdBlobIsPromotedToHot) {
  BlobStore store(root_);
  std::string key = store.Put("archived", BlobTier::kCold);
  BlobMigrationPolicy policy{.promote_read_within_seconds = kDay};
  // Put straight into cold is not a read: stays.
  EXPECT_EQ(store.Migrate(policy).promoted, 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(store.Get(key), "archived");
  auto r = store.Migrate(policy);
  EXPECT_EQ(r.promoted, 1u);
  EXPECT_EQ(store.Info(key)->tier, BlobTier::kHot);
}

TEST_F(BlobStoreTest, VerifyDoesNotCountAsAccess) {
  BlobStore store(root_);
  std::string key = store.Put("cold data", BlobTier::kCold);
  auto before = store.Info(key)->last_access_millis;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  store.Verify();
  EXPECT_EQ(store.Info(key)->last_access_millis, before);
  EXPECT_EQ(store.Migrate({.promote_read_within_seconds = kDay}).promoted, 0u);
}

TEST_F(BlobStoreTest, InterruptedMoveLeavesDuplicateThatIsCleanedUp) {
  std::string key;
  {
    BlobStore store(root_);
    key = store.Put("moved twice");
  }
  // Simulate a crash after the copy into warm was renamed into place but
  // before the hot copy was unlinked.
  fs::path hot = root_ / "hot" / key.substr(0, 2) / key.substr(2, 2) / key;
  fs::path warm = root_ / "warm" / key.substr(0, 2) / key.substr(2, 2) / key;
  fs::create_directories(warm.parent_path());
  fs::copy_file(hot, warm);
  std::ofstream(root_ / "warm" / "tmp" / "move-leftover", std::ios::binary) << "partial";

  BlobStore store(root_);
  EXPECT_EQ(store.Get(key), "moved twice");
  auto r = store.Migrate({.hot_to_warm_idle_seconds = 0, .warm_to_cold_idle_seconds = 0,
                          .promote_read_within_seconds = 0});
  EXPECT_EQ(r.duplicates_removed, 1u);
  EXPECT_TRUE(fs::exists(hot));
  EXPECT_FALSE(fs::exists(warm));
  EXPECT_EQ(store.Stats(BlobTier::kWarm).count, 0u);
  // Recent temp files are left alone (a writer may still be busy with them).
  EXPECT_EQ(store.Verify().stale_temp_files_removed, 0u);
}

TEST_F(BlobStoreTest, StatsSurviveReopen) {
  {
    BlobStore store(root_);
    store.Put("one");
    store.Put("two", BlobTier::kWarm);
    store.Put("three", BlobTier::kCold);
  }
  BlobStore store(root_);
  EXPECT_EQ(store.Stats(BlobTier::kHot).count, 1u);
  EXPECT_EQ(store.Stats(BlobTier::kWarm).count, 1u);
  EXPECT_EQ(store.Stats(BlobTier::kCold).bytes, 5u);
  haip::Metrics metrics;
  store.RegisterMetrics(metrics);
  std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("haip_blob_hot_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("haip_blob_cold_bytes 5"), std::string::npos) << text;
}

TEST_F(BlobStoreTest, TiersCanLiveInOtherDirectories) {
  fs::path cold = root_ / "elsewhere" / "cold";
  BlobStore store(root_, {.cold_dir = cold});
  std::string key = store.Put("far away", BlobTier::kCold);
  EXPECT_TRUE(fs::exists(cold / key.substr(0, 2) / key.substr(2, 2) / key));
  EXPECT_EQ(store.Get(key), "far away");
}

TEST_F(BlobStoreTest, ConcurrentPutsGetsAndMigrations) {
  BlobStore store(root_, {.fsync = false});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  // Migrations back and forth while the writers and readers run.
  std::thread mover([&] {
    int i = 0;
    while (!stop) {
      BlobMigrationPolicy p;
      p.hot_to_warm_idle_seconds = 1;
      p.warm_to_cold_idle_seconds = 1;
      p.promote_read_within_seconds = (i++ % 2) ? 3600 : 0;
      p.now_millis = haip::clock::NowMillis() + 5000;
      if (!store.Migrate(p).errors.empty()) failures++;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Half the content is shared between threads: concurrent dedupe.
        std::string data = "blob-" + std::to_string(i % 2 == 0 ? i : t * 1000 + i);
        std::string key = store.Put(data);
        try {
          if (store.Get(key) != data) failures++;
        } catch (const Error&) {
          failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  stop = true;
  mover.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t expected = kPerThread / 2 + kThreads * kPerThread / 2;
  uint64_t total = 0;
  for (BlobTier t : haip::lake::kBlobTiers) total += store.Stats(t).count;
  EXPECT_EQ(total, expected);
  auto report = store.Verify();
  EXPECT_EQ(report.checked, expected);
  EXPECT_TRUE(report.corrupt.empty());
}

TEST(BlobTierNames, RoundTrip) {
  for (BlobTier t : haip::lake::kBlobTiers) EXPECT_EQ(haip::lake::ParseBlobTier(haip::lake::BlobTierName(t)), t);
  EXPECT_THROW(haip::lake::ParseBlobTier("lukewarm"), Error);
}

// The server's background upkeep: a round moves idle blobs by the policy,
// and the thread starts and stops promptly.
TEST_F(BlobStoreTest, MaintenanceMovesIdleBlobsAndStops) {
  BlobStore store(root_);
  std::string key = store.Put("idle blob");
  haip::lake::BlobMaintenanceOptions options;
  options.policy.hot_to_warm_idle_seconds = 1;
  options.policy.now_millis = haip::clock::NowMillis() + 10000;
  options.migrate_interval_seconds = 3600;
  options.verify_interval_seconds = 3600;
  haip::lake::BlobMaintenance upkeep(store, options);
  upkeep.Start();
  auto report = upkeep.MigrateOnce();
  EXPECT_EQ(report.hot_to_warm, 1u);
  EXPECT_EQ(store.Info(key)->tier, BlobTier::kWarm);
  EXPECT_EQ(upkeep.VerifyOnce().checked, 1u);
  upkeep.Stop();  // returns without waiting for the hour
  EXPECT_EQ(store.Get(key), "idle blob");
}
