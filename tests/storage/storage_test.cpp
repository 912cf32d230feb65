// The contract of storage::Database, run against both backends: every test
// here must pass unchanged on SQLite and on a real PostgreSQL server.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "test_support.h"

namespace haip::storage::test {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// Runs fn and returns the code of the haip::Error it throws; fails the test
// when it throws nothing or something else.
template <typename Fn>
std::optional<ErrorCode> CodeOf(Fn&& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.code();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected haip::Error, got: " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE() << "expected haip::Error, nothing was thrown";
  return std::nullopt;
}

class StorageTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      std::string why;
      haip::testing::PostgresServer* server = SharedPostgres(&why);
      if (server == nullptr) GTEST_SKIP() << why;
      options_.backend = "postgresql";
      options_.postgres_url = server->ConnectionUrl();
    } else {
      dir_ = std::make_unique<TempDir>();
      options_.backend = "sqlite";
      options_.sqlite_path = dir_->path() + "/haip.db";
    }
    options_.pool_size = 4;
    db_ = Open(options_);
    if (GetParam() == Backend::kPostgres) {
      // Tests share one server; each starts from an empty schema.
      db_->ExecuteScript("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
    }
  }

  void TearDown() override {
    db_.reset();
    dir_.reset();
  }

  void CreatePatients() {
    db_->ExecuteScript(ExpandSql(
        "CREATE TABLE patients (id ${ID}, mrn TEXT NOT NULL UNIQUE, name TEXT NOT NULL, "
        "age ${BIGINT});"
        "CREATE TABLE visits (id ${ID}, patient_id ${BIGINT} NOT NULL REFERENCES patients (id), "
        "note TEXT)",
        db_->dialect()));
  }

  int64_t Count(std::string_view table) {
    return db_->Query("SELECT COUNT(*) FROM " + std::string(table)).rows.at(0).at(0).AsInt();
  }

  bool TableExists(std::string_view table) {
    try {
      db_->Query("SELECT COUNT(*) FROM " + std::string(table));
      return true;
    } catch (const Error&) {
      return false;
    }
  }

  DatabaseOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Database> db_;
};

TEST_P(StorageTest, ReportsBackendAndDialect) {
  if (GetParam() == Backend::kSqlite) {
    EXPECT_EQ(db_->BackendName(), "sqlite");
    EXPECT_EQ(db_->dialect(), Dialect::kSqlite);
  } else {
    EXPECT_EQ(db_->BackendName(), "postgresql");
    EXPECT_EQ(db_->dialect(), Dialect::kPostgres);
  }
}

TEST_P(StorageTest, ValuesOfEveryTypeRoundTrip) {
  db_->ExecuteScript(ExpandSql(
      "CREATE TABLE vals (id ${ID}, i ${BIGINT}, d ${REAL}, t TEXT, b ${BLOB})", db_->dialect()));
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  const std::vector<Row> rows = {
      {kInt64Max, 3.141592653589793, "患者：张三，诊断：高血压（Ⅱ期）🩺",
       Bytes{std::string("\0\x01\xff\0z", 5)}},
      {kInt64Min, -1.5e300, "", Bytes{}},
      {int64_t{0}, 2.2250738585072014e-308, "quotes ' \" and ? ; -- /* */ $$", Bytes{all_bytes}},
      {int64_t{-1}, 0.1, "Ünïcödé ñ 日本語 한국어", Bytes{std::string(1, '\0')}},
      {nullptr, nullptr, nullptr, nullptr},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(db_->Execute("INSERT INTO vals (i, d, t, b) VALUES (?, ?, ?, ?)", row), 1);
  }
  const Result result = db_->Query("SELECT i, d, t, b FROM vals ORDER BY id");
  EXPECT_EQ(result.columns, (std::vector<std::string>{"i", "d", "t", "b"}));
  ASSERT_EQ(result.size(), rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    EXPECT_EQ(result.rows[r], rows[r]) << "row " << r;
  }
  EXPECT_EQ(result.rows[0][0].AsInt(), kInt64Max);
  EXPECT_EQ(result.rows[1][0].AsInt(), kInt64Min);
  EXPECT_EQ(result.rows[0][3].AsBytes().data.size(), 5u);
  EXPECT_TRUE(result.rows[4][2].IsNull());
  EXPECT_EQ(result.rows[4][0].AsOptionalInt(), std::nullopt);

  // Values typed by the bound parameter alone, with no column to go by.
  const Row echoed = {int64_t{42}, 2.5, "文本", Bytes{std::string("a\0b", 3)}, nullptr};
  const Result direct = db_->Query("SELECT ?, ?, ?, ?, ?", echoed);
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_EQ(direct.rows[0], echoed);
}

TEST_P(StorageTest, OptionalAndBoolParameters) {
  CreatePatients();
  std::optional<int64_t> no_age;
  db_->Execute("INSERT INTO patients (mrn, name, age) VALUES (?, ?, ?)",
               {"M1", std::optional<std::string>("Ann"), no_age});
  db_->Execute("INSERT INTO patients (mrn, name, age) VALUES (?, ?, ?)", {"M2", "Bob", true});
  const Result result = db_->Query("SELECT name, age FROM patients ORDER BY mrn");
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(result.rows[0][0].AsOptionalText(), "Ann");
  EXPECT_EQ(result.rows[0][1].AsOptionalInt(), std::nullopt);
  EXPECT_EQ(result.rows[1][1].AsInt(), 1);
  // The portable optional filter: a NULL parameter has no type of its own on
  // PostgreSQL, so `? IS NULL` needs the CAST.
  const std::string filter =
      "SELECT name FROM patients WHERE (CAST(? AS BIGINT) IS NULL OR age = ?) ORDER BY name";
  EXPECT_EQ(db_->Query(filter, {no_age, no_age}).size(), 2u);
  const Result bob = db_->Query(filter, {int64_t{1}, int64_t{1}});
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob.rows[0][0].AsText(), "Bob");
}

TEST_P(StorageTest, QueryAndExecuteBindPlaceholders) {
  CreatePatients();
  EXPECT_EQ(
      db_->Execute("INSERT INTO patients (mrn, name, age) VALUES (?, ?, ?)", {"M1", "Ann", 34}), 1);
  EXPECT_EQ(
      db_->Execute("INSERT INTO patients (mrn, name, age) VALUES (?, ?, ?)", {"M2", "Bob", 51}), 1);
  EXPECT_EQ(
      db_->Execute("INSERT INTO patients (mrn, name, age) VALUES (?, ?, ?)", {"M3", "Cai", 47}), 1);

  EXPECT_EQ(db_->Execute("UPDATE patients SET age = age + ? WHERE age >= ?", {1, 40}), 2);
  // DDL reports no changed rows, not the count of the UPDATE before it.
  EXPECT_EQ(db_->Execute("CREATE TABLE scratch (a INTEGER)"), 0);

  const Result older =
      db_->Query("SELECT name, age FROM patients WHERE age > ? ORDER BY name", {int64_t{40}});
  ASSERT_EQ(older.size(), 2u);
  EXPECT_EQ(older.rows[0][0].AsText(), "Bob");
  EXPECT_EQ(older.rows[0][1].AsInt(), 52);
  EXPECT_EQ(older.rows[1][0].AsText(), "Cai");
  EXPECT_EQ(older.rows[1][1].AsInt(), 48);

  // `?` inside string literals is text, not a placeholder.
  const Result literal =
      db_->Query("SELECT 'what?' AS lit, ? AS p, 'it''s ?' AS lit2", {int64_t{7}});
  EXPECT_EQ(literal.columns, (std::vector<std::string>{"lit", "p", "lit2"}));
  ASSERT_EQ(literal.size(), 1u);
  EXPECT_EQ(literal.rows[0][0].AsText(), "what?");
  EXPECT_EQ(literal.rows[0][1].AsInt(), 7);
  EXPECT_EQ(literal.rows[0][2].AsText(), "it's ?");

  const Result none = db_->Query("SELECT id, name FROM patients WHERE mrn = ?", {"nobody"});
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.columns, (std::vector<std::string>{"id", "name"}));

  EXPECT_EQ(db_->Execute("DELETE FROM patients WHERE mrn = ?", {"nobody"}), 0);
  EXPECT_EQ(db_->Execute("DELETE FROM patients WHERE mrn = ?", {"M1"}), 1);
  EXPECT_EQ(Count("patients"), 2);

  // The same statement text again, as the hot path does.
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM patients WHERE age > ?", {i}).rows[0][0].AsInt(),
              i < 48 ? 2 : 1);
  }
  // Numbers compare and compute in SQL as numbers.
  EXPECT_EQ(db_->Query("SELECT ? + 1", {kInt64Max - 1}).rows[0][0].AsInt(), kInt64Max);
  EXPECT_DOUBLE_EQ(db_->Query("SELECT ? * 2", {1.25}).rows[0][0].AsDouble(), 2.5);
}

TEST_P(StorageTest, ParameterCountMismatchIsInternal) {
  CreatePatients();
  EXPECT_EQ(CodeOf([&] { db_->Query("SELECT name FROM patients WHERE mrn = ?"); }),
            ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([&] {
              db_->Execute("DELETE FROM patients WHERE mrn = ?", {"a", "b"});
            }),
            ErrorCode::kInternal);
}

TEST_P(StorageTest, InsertReturningId) {
  CreatePatients();
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    const Result r =
        db_->Query("INSERT INTO patients (mrn, name, age) VALUES (?, ?, ?) RETURNING id",
                   {"R" + std::to_string(i), "Name", i});
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r.columns, std::vector<std::string>{"id"});
    ids.push_back(r.rows[0][0].AsInt());
  }
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_GT(ids[i], ids[i - 1]);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(db_->Query("SELECT id FROM patients WHERE mrn = ?", {"R" + std::to_string(i)})
                  .rows[0][0]
                  .AsInt(),
              ids[i]);
  }
  // RETURNING through Execute still counts the row.
  EXPECT_EQ(
      db_->Execute("INSERT INTO patients (mrn, name) VALUES (?, ?) RETURNING id", {"R9", "Name"}),
      1);
}

TEST_P(StorageTest, TransactionCommits) {
  CreatePatients();
  db_->Transaction([&](Session& s) {
    EXPECT_EQ(s.dialect(), db_->dialect());
    s.Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"T1", "Ann"});
    const int64_t id =
        s.Query("INSERT INTO patients (mrn, name) VALUES (?, ?) RETURNING id", {"T2", "Bob"})
            .rows[0][0]
            .AsInt();
    s.Execute("INSERT INTO visits (patient_id, note) VALUES (?, ?)", {id, "checkup"});
    // The transaction sees its own writes.
    EXPECT_EQ(s.Query("SELECT COUNT(*) FROM patients").rows[0][0].AsInt(), 2);
  });
  EXPECT_EQ(Count("patients"), 2);
  EXPECT_EQ(Count("visits"), 1);
}

TEST_P(StorageTest, TransactionRollsBackWhenFnThrows) {
  CreatePatients();
  db_->Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"KEEP", "Ann"});

  try {
    db_->Transaction([&](Session& s) {
      s.Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"HALF1", "Bob"});
      s.Execute("UPDATE patients SET name = ? WHERE mrn = ?", {"Changed", "KEEP"});
      s.ExecuteScript("CREATE TABLE half_made (a INTEGER); INSERT INTO half_made VALUES (1)");
      throw std::runtime_error("boom");
    });
    ADD_FAILURE() << "Transaction swallowed the exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");  // rethrown as is, not wrapped
  }
  EXPECT_EQ(Count("patients"), 1);
  EXPECT_EQ(db_->Query("SELECT name FROM patients").rows[0][0].AsText(), "Ann");
  EXPECT_FALSE(TableExists("half_made"));

  // A haip::Error keeps its code through the rollback.
  EXPECT_EQ(CodeOf([&] {
              db_->Transaction([&](Session& s) {
                s.Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"HALF2", "Cai"});
                throw Error(ErrorCode::kUnprocessable, "invalid visit");
              });
            }),
            ErrorCode::kUnprocessable);

  // A failing statement rolls back the statements before it.
  EXPECT_EQ(CodeOf([&] {
              db_->Transaction([&](Session& s) {
                s.Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"HALF3", "Dan"});
                s.Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"KEEP", "Dup"});
              });
            }),
            ErrorCode::kConflict);
  EXPECT_EQ(Count("patients"), 1);

  // The connections are usable afterwards.
  db_->Transaction([&](Session& s) {
    s.Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"AFTER", "Eve"});
  });
  EXPECT_EQ(Count("patients"), 2);
}

TEST_P(StorageTest, NestedTransactionIsRejected) {
  CreatePatients();
  db_->Transaction([&](Session& s) {
    EXPECT_EQ(CodeOf([&] { db_->Transaction([](Session&) {}); }), ErrorCode::kInternal);
    s.Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)", {"N1", "Ann"});
  });
  EXPECT_EQ(Count("patients"), 1);
}

TEST_P(StorageTest, LeftOpenTransactionIsRolledBackBeforeReuse) {
  DatabaseOptions single = options_;
  single.pool_size = 1;
  std::unique_ptr<Database> db = Open(single);
  db->ExecuteScript("CREATE TABLE t (v INTEGER)");
  db->ExecuteScript("BEGIN; INSERT INTO t VALUES (1)");
  // The next borrow finds the connection inside a transaction and ends it.
  EXPECT_EQ(db->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 0);
  db->Transaction([](Session& s) { s.Execute("INSERT INTO t VALUES (2)"); });
  EXPECT_EQ(db->Query("SELECT COUNT(*) FROM t").rows[0][0].AsInt(), 1);
}

TEST_P(StorageTest, ConcurrentReadModifyWriteTransactionsAreExact) {
  db_->ExecuteScript(ExpandSql(
      "CREATE TABLE counters (name TEXT PRIMARY KEY, value ${BIGINT} NOT NULL);"
      "CREATE TABLE events (id ${ID}, thread ${BIGINT} NOT NULL, seen ${BIGINT} NOT NULL);"
      "INSERT INTO counters (name, value) VALUES ('visits', 0)",
      db_->dialect()));
  constexpr int kWriters = 8;
  constexpr int kIncrements = 40;
  std::atomic<bool> writers_done{false};
  std::atomic<int> failures{0};
  std::mutex error_mu;
  std::string first_error;
  auto record = [&](const std::exception& e) {
    ++failures;
    std::lock_guard lock(error_mu);
    if (first_error.empty()) first_error = e.what();
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        try {
          db_->Transaction([&](Session& s) {
            const int64_t value =
                s.Query("SELECT value FROM counters WHERE name = ?", {"visits"}).rows[0][0].AsInt();
            s.Execute("UPDATE counters SET value = ? WHERE name = ?", {value + 1, "visits"});
            s.Execute("INSERT INTO events (thread, seen) VALUES (?, ?)", {t, value});
          });
        } catch (const std::exception& e) {
          record(e);
        }
      }
    });
  }
  // Readers beside the writers: more threads than pooled connections, and a
  // counter that never goes backwards.
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!writers_done) {
        try {
          const int64_t now = db_->Query("SELECT value FROM counters WHERE name = ?", {"visits"})
                                  .rows[0][0]
                                  .AsInt();
          if (now < last) ++failures;
          last = now;
        } catch (const std::exception& e) {
          record(e);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  writers_done = true;
  for (std::thread& t : readers) t.join();

  EXPECT_EQ(failures, 0) << first_error;
  EXPECT_EQ(db_->Query("SELECT value FROM counters WHERE name = ?", {"visits"}).rows[0][0].AsInt(),
            kWriters * kIncrements);
  EXPECT_EQ(Count("events"), kWriters * kIncrements);
  // Each transaction saw a different value: no two read the same state.
  EXPECT_EQ(db_->Query("SELECT COUNT(DISTINCT seen) FROM events").rows[0][0].AsInt(),
            kWriters * kIncrements);
}

TEST_P(StorageTest, ConstraintViolationsAreConflicts) {
  CreatePatients();
  const int64_t id = db_->Query("INSERT INTO patients (mrn, name) VALUES (?, ?) RETURNING id",
                                {"MRN-SECRET-1", "Ann"})
                         .rows[0][0]
                         .AsInt();
  std::string message;
  EXPECT_EQ(CodeOf(
                [&] {
                  db_->Execute("INSERT INTO patients (mrn, name) VALUES (?, ?)",
                               {"MRN-SECRET-1", "Other"});
                },
                &message),
            ErrorCode::kConflict);
  // Messages name the constraint, never the offending (patient) values.
  EXPECT_EQ(message.find("MRN-SECRET-1"), std::string::npos) << message;

  EXPECT_EQ(CodeOf([&] {
              db_->Execute("INSERT INTO patients (id, mrn, name) VALUES (?, ?, ?)",
                           {id, "M2", "Same id"});
            }),
            ErrorCode::kConflict);
  EXPECT_EQ(
      CodeOf([&] {
        db_->Execute("INSERT INTO visits (patient_id, note) VALUES (?, ?)", {id + 1000, "orphan"});
      }),
      ErrorCode::kConflict);
  db_->Execute("INSERT INTO visits (patient_id, note) VALUES (?, ?)", {id, "ok"});
  EXPECT_EQ(CodeOf([&] { db_->Execute("DELETE FROM patients WHERE id = ?", {id}); }),
            ErrorCode::kConflict);
  EXPECT_EQ(Count("patients"), 1);
}

TEST_P(StorageTest, OtherErrorsAreInternalWithSqlExcerpt) {
  std::string message;
  EXPECT_EQ(CodeOf([&] { db_->Query("SELEC 1"); }, &message), ErrorCode::kInternal);
  EXPECT_NE(message.find("SELEC 1"), std::string::npos) << message;

  const std::string long_sql =
      "SELECT * FROM no_such_table WHERE " + std::string(200, 'x') + " = 1";
  EXPECT_EQ(CodeOf([&] { db_->Query(long_sql); }, &message), ErrorCode::kInternal);
  EXPECT_NE(message.find(long_sql.substr(0, 100) + "..."), std::string::npos) << message;
  EXPECT_EQ(message.find(long_sql.substr(0, 101)), std::string::npos) << message;
}

TEST_P(StorageTest, ExecuteScriptRunsSeveralStatements) {
  db_->ExecuteScript(
      "CREATE TABLE notes (n INTEGER, body TEXT);\n"
      "INSERT INTO notes VALUES (1, 'one;two');\n"
      "INSERT INTO notes VALUES (2, '-- not a comment');  -- a comment; with a semicolon\n"
      "/* block; comment */ INSERT INTO notes VALUES (3, 'it''s');\n");
  const Result result = db_->Query("SELECT n, body FROM notes ORDER BY n");
  ASSERT_EQ(result.size(), 3u);
  EXPECT_EQ(result.rows[0][1].AsText(), "one;two");
  EXPECT_EQ(result.rows[1][1].AsText(), "-- not a comment");
  EXPECT_EQ(result.rows[2][1].AsText(), "it's");

  EXPECT_EQ(CodeOf([&] { db_->ExecuteScript("INSERT INTO notes VALUES (4, 'x'); BOGUS;"); }),
            ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([&] { db_->ExecuteScript("INSERT INTO missing VALUES (1)"); }),
            ErrorCode::kInternal);
  db_->ExecuteScript("-- nothing but a comment\n");
}

TEST_P(StorageTest, MigrationsApplyOnceInOrder) {
  EXPECT_EQ(CurrentVersion(*db_, "notes"), 0);
  std::vector<Migration> migrations = {
      {1, "create notes",
       "CREATE TABLE notes (id ${ID}, body TEXT NOT NULL, big ${BIGINT}, score ${REAL}, "
       "raw ${BLOB});\n"
       "CREATE INDEX notes_body ON notes (body);"},
      {2, "seed",
       "INSERT INTO notes (body, big, score) VALUES ('semi;colon ''quoted''', "
       "9223372036854775807, 0.5); -- trailing comment"},
  };
  EXPECT_EQ(Migrate(*db_, "notes", migrations), 2);
  EXPECT_EQ(CurrentVersion(*db_, "notes"), 2);
  EXPECT_EQ(Migrate(*db_, "notes", migrations), 0);
  EXPECT_EQ(CurrentVersion(*db_, "notes"), 2);

  const Result recorded = db_->Query(
      "SELECT version, name, applied_at FROM schema_migrations WHERE module = ? ORDER BY version",
      {"notes"});
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded.rows[0][0].AsInt(), 1);
  EXPECT_EQ(recorded.rows[0][1].AsText(), "create notes");
  EXPECT_EQ(recorded.rows[1][1].AsText(), "seed");
  const std::string applied_at = recorded.rows[1][2].AsText();
  EXPECT_EQ(applied_at.size(), 24u) << applied_at;
  EXPECT_EQ(applied_at.back(), 'Z') << applied_at;

  // The macros gave working columns: identity ids, 64-bit integers, doubles, bytes.
  const Result seed = db_->Query("SELECT id, body, big, score, raw FROM notes");
  ASSERT_EQ(seed.size(), 1u);
  EXPECT_EQ(seed.rows[0][1].AsText(), "semi;colon 'quoted'");
  EXPECT_EQ(seed.rows[0][2].AsInt(), kInt64Max);
  EXPECT_EQ(seed.rows[0][3].AsDouble(), 0.5);
  const Bytes raw{std::string("\0\x10\x80\xff", 4)};
  const int64_t id = db_->Query(
                            "INSERT INTO notes (body, big, score, raw) VALUES (?, ?, ?, ?) "
                            "RETURNING id",
                            {"second", kInt64Min, -2.75, raw})
                         .rows[0][0]
                         .AsInt();
  EXPECT_GT(id, seed.rows[0][0].AsInt());
  const Row second = db_->Query("SELECT big, score, raw FROM notes WHERE id = ?", {id}).rows.at(0);
  EXPECT_EQ(second, (Row{kInt64Min, -2.75, raw}));

  migrations.push_back({3, "add column", "ALTER TABLE notes ADD COLUMN author TEXT"});
  EXPECT_EQ(Migrate(*db_, "notes", migrations), 1);
  EXPECT_EQ(CurrentVersion(*db_, "notes"), 3);

  // Modules are versioned independently.
  EXPECT_EQ(Migrate(*db_, "audit", {{1, "audit log", "CREATE TABLE audit_log (id ${ID}, e TEXT)"}}),
            1);
  EXPECT_EQ(CurrentVersion(*db_, "audit"), 1);
  EXPECT_EQ(CurrentVersion(*db_, "notes"), 3);
  EXPECT_EQ(CurrentVersion(*db_, "nobody"), 0);

  // Applied in version order whatever the order of the list.
  const std::vector<Migration> reversed = {
      {2, "fill", "INSERT INTO ordered_t (v) VALUES (2)"},
      {1, "create", "CREATE TABLE ordered_t (v ${BIGINT})"},
  };
  EXPECT_EQ(Migrate(*db_, "ordered", reversed), 2);
  EXPECT_EQ(Count("ordered_t"), 1);
}

TEST_P(StorageTest, MigrationNewerInDatabaseIsConflict) {
  const std::vector<Migration> v2 = {
      {1, "one", "CREATE TABLE m (a INTEGER)"},
      {2, "two", "ALTER TABLE m ADD COLUMN b TEXT"},
  };
  ASSERT_EQ(Migrate(*db_, "mod", v2), 2);
  const std::vector<Migration> v1(v2.begin(), v2.begin() + 1);
  std::string message;
  EXPECT_EQ(CodeOf([&] { Migrate(*db_, "mod", v1); }, &message), ErrorCode::kConflict);
  EXPECT_NE(message.find("mod"), std::string::npos) << message;
  EXPECT_EQ(CodeOf([&] { Migrate(*db_, "mod", {}); }), ErrorCode::kConflict);
  EXPECT_EQ(CurrentVersion(*db_, "mod"), 2);
}

TEST_P(StorageTest, FailingMigrationLeavesNoPartialState) {
  std::vector<Migration> migrations = {
      {1, "base", "CREATE TABLE base_t (a INTEGER)"},
      {2, "broken",
       "CREATE TABLE half_t (a INTEGER);\n"
       "INSERT INTO base_t VALUES (1);\n"
       "INSERT INTO no_such_table VALUES (1);"},
  };
  std::string message;
  EXPECT_EQ(CodeOf([&] { Migrate(*db_, "mod", migrations); }, &message), ErrorCode::kInternal);
  EXPECT_NE(message.find("mod 2 (broken)"), std::string::npos) << message;
  EXPECT_EQ(CurrentVersion(*db_, "mod"), 1);
  EXPECT_FALSE(TableExists("half_t"));
  EXPECT_EQ(Count("base_t"), 0);

  migrations[1].sql = "CREATE TABLE half_t (a INTEGER); INSERT INTO base_t VALUES (1)";
  EXPECT_EQ(Migrate(*db_, "mod", migrations), 1);
  EXPECT_EQ(CurrentVersion(*db_, "mod"), 2);
  EXPECT_TRUE(TableExists("half_t"));
  EXPECT_EQ(Count("base_t"), 1);
}

TEST_P(StorageTest, InvalidMigrationListsAreRejected) {
  EXPECT_EQ(CodeOf([&] {
              Migrate(
                  *db_, "mod",
                  {{1, "a", "CREATE TABLE a (x INTEGER)"}, {1, "b", "CREATE TABLE b (x INTEGER)"}});
            }),
            ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([&] { Migrate(*db_, "mod", {{0, "zero", "SELECT 1"}}); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([&] {
              Migrate(*db_, "mod", {{1, "typo", "CREATE TABLE t (x ${BIGINTEGER})"}});
            }),
            ErrorCode::kInternal);
  EXPECT_EQ(CurrentVersion(*db_, "mod"), 0);
}

TEST_P(StorageTest, ConcurrentMigrateAppliesEachVersionOnce) {
  const std::vector<Migration> migrations = {
      {1, "create", "CREATE TABLE once_t (id ${ID}, v ${BIGINT})"},
      {2, "seed", "INSERT INTO once_t (v) VALUES (1)"},
      {3, "seed more", "INSERT INTO once_t (v) VALUES (2)"},
  };
  std::atomic<int> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      try {
        // A separate Database per thread, like separate HAIP processes.
        std::unique_ptr<Database> db = Open(options_);
        applied += Migrate(*db, "race", migrations);
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(applied, 3);
  EXPECT_EQ(Count("once_t"), 2);
  EXPECT_EQ(CurrentVersion(*db_, "race"), 3);
}

TEST_P(StorageTest, OpenRejectsBadOptions) {
  DatabaseOptions options = options_;
  options.backend = "oracle";
  EXPECT_EQ(CodeOf([&] { Open(options); }), ErrorCode::kBadRequest);
  options = options_;
  options.pool_size = 0;
  EXPECT_EQ(CodeOf([&] { Open(options); }), ErrorCode::kBadRequest);
  options = options_;
  options.sqlite_path.clear();
  options.postgres_url.clear();
  EXPECT_EQ(CodeOf([&] { Open(options); }), ErrorCode::kBadRequest);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace haip::storage::test
