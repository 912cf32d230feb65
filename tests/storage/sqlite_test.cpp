// SQLite-only behaviour: in-memory databases, connection settings, the busy
// timeout, the statement cache and the pool under load.
#include "testing/error_code.h"
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "storage/database.h"
#include "test_support.h"

namespace haip::storage::test {
namespace {

using haip::testing::CodeOf;

class SqliteTest : public ::testing::Test {
 protected:
  std::unique_ptr<Database> OpenFile(int pool_size = 4, int busy_timeout_ms = 10000) {
    DatabaseOptions options;
    options.sqlite_path = dir_.path() + "/haip.db";
    options.pool_size = pool_size;
    options.busy_timeout_ms = busy_timeout_ms;
    return Open(options);
  }

  TempDir dir_;
};

TEST_F(SqliteTest, MemoryDatabaseIsOneDatabaseForAllCalls) {
  DatabaseOptions options;
  options.sqlite_path = ":memory:";
  options.pool_size = 8;
  std::unique_ptr<Database> db = Open(options);
  db->ExecuteScript("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)");
  db->Transaction([](Session& s) { s.Execute("INSERT INTO t VALUES (?)", {2}); });

  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        for (int j = 0; j < 25; ++j) {
          db->Transaction([](Session& s) {
            const int64_t n = s.Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt();
            s.Execute("INSERT INTO t VALUES (?)", {n + 1});
          });
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(db->Query("SELECT COUNT(*), COUNT(DISTINCT v) FROM t").rows[0],
            (Row{int64_t{102}, int64_t{102}}));

  // Another in-memory database is another, empty one.
  std::unique_ptr<Database> other = Open(options);
  EXPECT_THROW(other->Query("SELECT * FROM t"), Error);
}

TEST_F(SqliteTest, ConnectionsUseWalNormalSyncAndForeignKeys) {
  std::unique_ptr<Database> db = OpenFile(/*pool_size=*/3);
  // Hold several connections at once so the checks hit more than one.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        if (db->Query("PRAGMA journal_mode").rows[0][0].AsText() != "wal") ++wrong;
        if (db->Query("PRAGMA synchronous").rows[0][0].AsInt() != 1) ++wrong;
        if (db->Query("PRAGMA foreign_keys").rows[0][0].AsInt() != 1) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
}

TEST_F(SqliteTest, WriterBlockedPastBusyTimeoutIsUnavailable) {
  std::unique_ptr<Database> first = OpenFile();
  first->ExecuteScript("CREATE TABLE t (v INTEGER)");
  // A second Database on the same file stands in for another process.
  std::unique_ptr<Database> second = OpenFile(/*pool_size=*/2, /*busy_timeout_ms=*/100);
  first->Transaction([&](Session& s) {
    s.Execute("INSERT INTO t VALUES (1)");
    EXPECT_EQ(CodeOf([&] { second->Execute("INSERT INTO t VALUES (2)"); }),
              ErrorCode::kUnavailable);
    EXPECT_EQ(CodeOf([&] { second->Transaction([](Session&) {}); }), ErrorCode::kUnavailable);
    // Readers are not blocked by the writer in WAL mode.
    EXPECT_EQ(second->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 0);
  });
  EXPECT_EQ(second->Execute("INSERT INTO t VALUES (2)"), 1);
  EXPECT_EQ(first->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 2);
}

TEST_F(SqliteTest, StatementCacheSurvivesEvictionAndSchemaChanges) {
  std::unique_ptr<Database> db = OpenFile(/*pool_size=*/1);
  db->ExecuteScript("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (5)");
  // More distinct statements than the cache holds, then the first ones again.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 300; ++i) {
      EXPECT_EQ(db->Query("SELECT v + " + std::to_string(i) + " FROM t").rows[0][0].AsInt(), 5 + i);
    }
  }
  // A cached statement is re-prepared after the table changes shape.
  const std::string select_all = "SELECT * FROM t";
  EXPECT_EQ(db->Query(select_all).columns.size(), 1u);
  db->Execute("ALTER TABLE t ADD COLUMN w TEXT");
  EXPECT_EQ(db->Query(select_all).columns.size(), 2u);
}

TEST_F(SqliteTest, QueryTakesExactlyOneStatement) {
  std::unique_ptr<Database> db = OpenFile();
  EXPECT_EQ(CodeOf([&] { db->Execute("CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER)"); }),
            ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([&] { db->Query("   "); }), ErrorCode::kInternal);
  EXPECT_EQ(db->Execute("CREATE TABLE a (x INTEGER);  "), 0);
}

TEST_F(SqliteTest, CallersWaitForAConnectionWhenThePoolIsExhausted) {
  std::unique_ptr<Database> db = OpenFile(/*pool_size=*/1);
  db->ExecuteScript("CREATE TABLE t (v INTEGER)");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      try {
        for (int j = 0; j < 50; ++j) {
          db->Execute("INSERT INTO t VALUES (?)", {i * 100 + j});
          db->Query("SELECT COUNT(*) FROM t");
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(db->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 300);
}

TEST_F(SqliteTest, UnopenablePathIsUnavailable) {
  DatabaseOptions options;
  options.sqlite_path = dir_.path() + "/missing/dir/haip.db";
  EXPECT_EQ(CodeOf([&] { Open(options); }), ErrorCode::kUnavailable);
  // A file that is not a database.
  const std::string junk = dir_.path() + "/junk.db";
  FILE* f = std::fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 64; ++i) std::fputs("this is not an SQLite database\n", f);
  std::fclose(f);
  options.sqlite_path = junk;
  EXPECT_EQ(CodeOf([&] { Open(options); }), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace haip::storage::test
