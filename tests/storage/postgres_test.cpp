// PostgreSQL-only behaviour: column type conversions, placeholder rewriting
// against the real parser, reconnecting, and the writer lock.
#include "testing/error_code.h"
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
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

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    haip::testing::PostgresServer* server = SharedPostgres(&why);
    if (server == nullptr) GTEST_SKIP() << why;
    options_.backend = "postgresql";
    options_.postgres_url = server->ConnectionUrl();
    options_.pool_size = 3;
    db_ = Open(options_);
    db_->ExecuteScript("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
  }

  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
};

TEST_F(PostgresTest, ConvertsColumnsByType) {
  const Result r = db_->Query(
      "SELECT 1::int2 AS a, 2::int4, 3::int8, 1.5::float4, 2.5::float8, 3.25::numeric, true, "
      "false, '\\x00ff'::bytea, 'NaN'::float8, 'Infinity'::float8, '-Infinity'::numeric, "
      "'vc'::varchar, NULL::int8, '2026-01-02'::date, 12345678901234567890::numeric");
  ASSERT_EQ(r.size(), 1u);
  const Row& row = r.rows[0];
  EXPECT_EQ(r.columns[0], "a");
  EXPECT_EQ(row[0], Value(int64_t{1}));
  EXPECT_EQ(row[1], Value(int64_t{2}));
  EXPECT_EQ(row[2], Value(int64_t{3}));
  EXPECT_EQ(row[3], Value(1.5));
  EXPECT_EQ(row[4], Value(2.5));
  EXPECT_EQ(row[5], Value(3.25));
  EXPECT_EQ(row[6], Value(int64_t{1}));
  EXPECT_EQ(row[7], Value(int64_t{0}));
  EXPECT_EQ(row[8], Value(Bytes{std::string("\0\xff", 2)}));
  EXPECT_TRUE(std::isnan(row[9].AsDouble()));
  EXPECT_EQ(row[10].AsDouble(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(row[11].AsDouble(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(row[12], Value("vc"));
  EXPECT_TRUE(row[13].IsNull());
  EXPECT_EQ(row[14], Value("2026-01-02"));
  EXPECT_DOUBLE_EQ(row[15].AsDouble(), 12345678901234567890.0);

  // SUM over bigint is numeric: it reads as double and converts to integer.
  db_->ExecuteScript("CREATE TABLE n (v BIGINT); INSERT INTO n VALUES (40), (2)");
  EXPECT_EQ(db_->Query("SELECT SUM(v) FROM n").rows[0][0].AsInt(), 42);

  // Non-finite doubles go in and come back.
  const Result special = db_->Query("SELECT ?, ?, ?", {std::numeric_limits<double>::infinity(),
                                                       -std::numeric_limits<double>::infinity(),
                                                       std::numeric_limits<double>::quiet_NaN()});
  EXPECT_EQ(special.rows[0][0].AsDouble(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(special.rows[0][1].AsDouble(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(special.rows[0][2].AsDouble()));
}

TEST_F(PostgresTest, PlaceholdersInsideDollarAndEscapeStringsStayText) {
  const Result r = db_->Query("SELECT $$a?b$$, E'c\\'?d', \"?\".x, ? FROM (SELECT 1 AS x) AS \"?\"",
                              {int64_t{5}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.rows[0], (Row{"a?b", "c'?d", int64_t{1}, int64_t{5}}));
}

TEST_F(PostgresTest, TextWithNulIsRejected) {
  EXPECT_EQ(CodeOf([&] { db_->Query("SELECT ?", {std::string("a\0b", 3)}); }),
            ErrorCode::kBadRequest);
}

TEST_F(PostgresTest, ScriptOutsideTransactionIsAtomic) {
  db_->ExecuteScript("CREATE TABLE t (v INTEGER)");
  EXPECT_THROW(db_->ExecuteScript("INSERT INTO t VALUES (1); INSERT INTO missing VALUES (2)"),
               Error);
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 0);
}

TEST_F(PostgresTest, ReconnectsConnectionsTheServerDropped) {
  db_->ExecuteScript("CREATE TABLE t (v INTEGER)");
  // Warm every pooled connection.
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      db_->Transaction([](Session& s) {
        s.Execute("INSERT INTO t VALUES (1)");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      });
    });
  }
  for (std::thread& t : threads) t.join();

  DatabaseOptions admin_options = options_;
  admin_options.pool_size = 1;
  std::unique_ptr<Database> admin = Open(admin_options);
  const int64_t killed = admin
                             ->Query(
                                 "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                                 "AND backend_type = 'client backend'")
                             .rows[0][0]
                             .AsInt();
  EXPECT_GE(killed, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  // Every borrow notices its connection is gone and reconnects first.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 3);
  }
  db_->Transaction([](Session& s) { s.Execute("INSERT INTO t VALUES (2)"); });
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 4);
}

TEST_F(PostgresTest, UnreachableServerIsUnavailable) {
  DatabaseOptions options = options_;
  // Port 1 on loopback: nothing listens, so the connection is refused at once.
  options.postgres_url = "postgresql://postgres@127.0.0.1:1/postgres";
  EXPECT_EQ(CodeOf([&] { Open(options); }), ErrorCode::kUnavailable);
}

TEST_F(PostgresTest, SwallowedStatementErrorAbortsTheTransaction) {
  db_->ExecuteScript("CREATE TABLE t (v INTEGER PRIMARY KEY)");
  db_->Execute("INSERT INTO t VALUES (1)");
  EXPECT_EQ(CodeOf([&] {
              db_->Transaction([](Session& s) {
                s.Execute("INSERT INTO t VALUES (2)");
                try {
                  s.Execute("INSERT INTO t VALUES (1)");
                } catch (const Error&) {
                  // Not portable: PostgreSQL has already aborted the transaction.
                }
              });
            }),
            ErrorCode::kInternal);
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 1);
  // The connection went back clean.
  for (int i = 0; i < 3; ++i) db_->Execute("INSERT INTO t VALUES (?)", {10 + i});
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 4);
}

TEST_F(PostgresTest, WritersAreSerialisedAcrossDatabases) {
  DatabaseOptions impatient = options_;
  impatient.busy_timeout_ms = 200;
  std::unique_ptr<Database> other = Open(impatient);
  db_->Transaction([&](Session&) {
    // Another pool (another HAIP process) waits for the writer lock and
    // gives up after its busy timeout.
    EXPECT_EQ(CodeOf([&] { other->Transaction([](Session&) {}); }), ErrorCode::kUnavailable);
  });
  other->Transaction([](Session&) {});
}

}  // namespace
}  // namespace haip::storage::test
