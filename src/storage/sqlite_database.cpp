// SQLite backend: a pool of connections to one file in WAL mode, so readers
// run beside the single writer, with a per-connection prepared statement cache
// for the many small queries of the API hot path.
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "storage/backends.h"
#include "storage/connection_pool.h"
#include "storage/database.h"
#include "storage/sql_text.h"
#include "storage/transaction_guard.h"

namespace haip::storage {
namespace {

constexpr char kMemoryPath[] = ":memory:";
// Enough for every distinct statement text of HAIP's modules; beyond it the
// least recently used statement is finalized.
constexpr size_t kStatementCacheSize = 256;

ErrorCode MapSqliteError(int extended_code) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return ErrorCode::kConflict;
    default:
      break;
  }
  const int primary = extended_code & 0xff;
  // BUSY once the busy timeout has run out; LOCKED for in-process conflicts.
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

// One sqlite3 handle, used by one thread at a time (the pool guarantees it),
// hence opened without SQLite's own mutexes.
class SqliteConnection {
 public:
  SqliteConnection(const std::string& path, int busy_timeout_ms, int cache_mib, bool set_wal) {
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      throw Error(ErrorCode::kUnavailable, "sqlite: cannot open \"" + path + "\": " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    try {
      // WAL is a property of the file, so only the first connection sets it;
      // the others would just queue behind it for the same answer.
      if (set_wal) Query("PRAGMA journal_mode=WAL", {});
      Execute("PRAGMA synchronous=NORMAL", {});
      Execute("PRAGMA foreign_keys=ON", {});
      // Statement journals (multi-row INSERTs inside a transaction) and temp
      // b-trees stay in memory: on disk they cost more writes than the data.
      Execute("PRAGMA temp_store=MEMORY", {});
      // Page cache per connection, in KiB (negative cache_size); SQLite
      // allocates it as pages are used. Bulk ingest touches several large
      // b-trees at random places and spills to the WAL with the 2 MiB default.
      Execute("PRAGMA cache_size=" + std::to_string(-int64_t{cache_mib} * 1024), {});
    } catch (const Error& e) {
      Close();
      throw Error(ErrorCode::kUnavailable, "sqlite: cannot set up \"" + path + "\": " + e.what());
    }
  }

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection() { Close(); }

  Result Query(std::string_view sql, const Params& params) {
    sqlite3_stmt* stmt = Prepare(sql, params);
    ResetOnExit reset{stmt};
    // Columns are read after the first step: a cached statement whose table
    // changed shape is re-prepared by that step.
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) Fail(sql);
    Result result;
    const int columns = sqlite3_column_count(stmt);
    result.columns.reserve(columns);
    for (int i = 0; i < columns; ++i) result.columns.emplace_back(sqlite3_column_name(stmt, i));
    for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
      Row& row = result.rows.emplace_back();
      row.reserve(columns);
      for (int i = 0; i < columns; ++i) row.push_back(ReadColumn(stmt, i));
    }
    if (rc != SQLITE_DONE) Fail(sql);
    return result;
  }

  int64_t Execute(std::string_view sql, const Params& params) {
    sqlite3_stmt* stmt = Prepare(sql, params);
    ResetOnExit reset{stmt};
    const int64_t total_before = sqlite3_total_changes64(db_);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) Fail(sql);
    // sqlite3_changes64() keeps the count of the last INSERT/UPDATE/DELETE,
    // so a DDL statement or a SELECT would report a stale number.
    return sqlite3_total_changes64(db_) == total_before ? 0 : sqlite3_changes64(db_);
  }

  void ExecuteScript(std::string_view sql) {
    const std::string script(sql);
    if (sqlite3_exec(db_, script.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) Fail(sql);
  }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  struct ResetOnExit {
    sqlite3_stmt* stmt;
    ~ResetOnExit() {
      sqlite3_reset(stmt);
      // Bindings point into the caller's Params, which are about to go away.
      sqlite3_clear_bindings(stmt);
    }
  };

  struct CachedStatement {
    std::string sql;
    sqlite3_stmt* stmt;
  };

  [[noreturn]] void Fail(std::string_view sql) const {
    throw Error(MapSqliteError(sqlite3_extended_errcode(db_)),
                std::string("sqlite: ") + sqlite3_errmsg(db_) + " [" + SqlExcerpt(sql) + "]");
  }

  // Returns a cached (or newly prepared) statement with params bound.
  sqlite3_stmt* Prepare(std::string_view sql, const Params& params) {
    sqlite3_stmt* stmt = Lookup(sql);
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (expected != static_cast<int>(params.size())) {
      throw Error(ErrorCode::kInternal, "sqlite: statement has " + std::to_string(expected) +
                                            " placeholders but " + std::to_string(params.size()) +
                                            " parameters were given [" + SqlExcerpt(sql) + "]");
    }
    for (int i = 0; i < expected; ++i) {
      if (Bind(stmt, i + 1, params[i]) != SQLITE_OK) {
        sqlite3_clear_bindings(stmt);
        Fail(sql);
      }
    }
    return stmt;
  }

  // SQLITE_STATIC is safe: the statement is reset before Query/Execute return.
  static int Bind(sqlite3_stmt* stmt, int index, const Value& value) {
    const Value::Variant& v = value.variant();
    switch (v.index()) {
      case 1:
        return sqlite3_bind_int64(stmt, index, std::get<int64_t>(v));
      case 2:
        return sqlite3_bind_double(stmt, index, std::get<double>(v));
      case 3: {
        const std::string& text = std::get<std::string>(v);
        return sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC,
                                   SQLITE_UTF8);
      }
      case 4: {
        // data() is never null, so an empty blob stays a blob rather than NULL.
        const std::string& data = std::get<Bytes>(v).data;
        return sqlite3_bind_blob64(stmt, index, data.data(), data.size(), SQLITE_STATIC);
      }
      default:
        return sqlite3_bind_null(stmt, index);
    }
  }

  static Value ReadColumn(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        return Value(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
      case SQLITE_FLOAT:
        return Value(sqlite3_column_double(stmt, i));
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return Value(std::string(text, sqlite3_column_bytes(stmt, i)));
      }
      case SQLITE_BLOB: {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, i));
        const int size = sqlite3_column_bytes(stmt, i);
        return Value(Bytes{data != nullptr ? std::string(data, size) : std::string()});
      }
      default:
        return Value();
    }
  }

  sqlite3_stmt* Lookup(std::string_view sql) {
    if (auto it = index_.find(sql); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->stmt;
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, &tail) != SQLITE_OK) {
      Fail(sql);
    }
    if (stmt == nullptr) {
      throw Error(ErrorCode::kInternal, "sqlite: empty statement [" + SqlExcerpt(sql) + "]");
    }
    // Query/Execute take one statement; the rest would be silently ignored.
    std::string_view rest = sql.substr(tail - sql.data());
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      throw Error(ErrorCode::kInternal,
                  "sqlite: more than one statement; use ExecuteScript [" + SqlExcerpt(sql) + "]");
    }
    lru_.push_front(CachedStatement{std::string(sql), stmt});
    index_.emplace(lru_.front().sql, lru_.begin());
    if (lru_.size() > kStatementCacheSize) {
      index_.erase(lru_.back().sql);
      sqlite3_finalize(lru_.back().stmt);
      lru_.pop_back();
    }
    return stmt;
  }

  void Close() {
    for (CachedStatement& cached : lru_) sqlite3_finalize(cached.stmt);
    index_.clear();
    lru_.clear();
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  sqlite3* db_ = nullptr;
  // Most recently used first; index_ keys view the sql strings in lru_ nodes.
  std::list<CachedStatement> lru_;
  std::unordered_map<std::string_view, std::list<CachedStatement>::iterator> index_;
};

class SqliteSession final : public Session {
 public:
  explicit SqliteSession(SqliteConnection& conn) : conn_(conn) {}
  Result Query(std::string_view sql, const Params& params) override {
    return conn_.Query(sql, params);
  }
  int64_t Execute(std::string_view sql, const Params& params) override {
    return conn_.Execute(sql, params);
  }
  void ExecuteScript(std::string_view sql) override { conn_.ExecuteScript(sql); }
  Dialect dialect() const override { return Dialect::kSqlite; }

 private:
  SqliteConnection& conn_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const DatabaseOptions& options)
      : path_(options.sqlite_path),
        memory_(path_ == kMemoryPath),
        busy_timeout_(options.busy_timeout_ms),
        cache_mib_(options.sqlite_cache_mib),
        // Every connection to ":memory:" is a separate database, so all calls
        // must share one.
        pool_(memory_ ? 1 : options.pool_size, busy_timeout_, [this] {
          return std::make_unique<SqliteConnection>(path_, static_cast<int>(busy_timeout_.count()),
                                                    cache_mib_, !opened_);
        }) {
    // Opens the first connection now so a bad path fails in Open().
    pool_.Borrow();
    opened_ = true;
  }

  Result Query(std::string_view sql, const Params& params) override {
    return Borrow()->Query(sql, params);
  }

  int64_t Execute(std::string_view sql, const Params& params) override {
    return Borrow()->Execute(sql, params);
  }

  void ExecuteScript(std::string_view sql) override { Borrow()->ExecuteScript(sql); }

  void Transaction(const std::function<void(Session&)>& fn) override {
    TransactionGuard guard(this);
    // In-process writers queue here instead of polling SQLite's write lock
    // through the busy handler; BEGIN IMMEDIATE still guards against other
    // processes and autocommit writes.
    WriterTurn turn(*this);
    auto conn = Borrow();
    conn->Execute("BEGIN IMMEDIATE", {});
    try {
      SqliteSession session(*conn);
      fn(session);
      conn->Execute("COMMIT", {});
    } catch (...) {
      if (conn->InTransaction()) {
        try {
          conn->Execute("ROLLBACK", {});
        } catch (const Error&) {
          // A connection stuck in a transaction must not be lent again; an
          // in-memory database has no other connection to fall back to.
          if (!memory_) conn.Discard();
        }
      }
      throw;
    }
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string BackendName() const override { return "sqlite"; }

 private:
  // Holds the in-process writer slot for one transaction. A flag under a
  // condition variable rather than std::timed_mutex, whose timed lock
  // ThreadSanitizer cannot follow.
  class WriterTurn {
   public:
    explicit WriterTurn(SqliteDatabase& db) : db_(db) {
      std::unique_lock lock(db_.writer_mu_);
      if (!db_.writer_free_.wait_for(lock, db_.busy_timeout_, [&] { return !db_.writer_busy_; })) {
        throw Error(ErrorCode::kUnavailable,
                    "sqlite: another transaction held the write lock for " +
                        std::to_string(db_.busy_timeout_.count()) + " ms");
      }
      db_.writer_busy_ = true;
    }
    WriterTurn(const WriterTurn&) = delete;
    WriterTurn& operator=(const WriterTurn&) = delete;
    ~WriterTurn() {
      {
        std::lock_guard lock(db_.writer_mu_);
        db_.writer_busy_ = false;
      }
      db_.writer_free_.notify_one();
    }

   private:
    SqliteDatabase& db_;
  };

  // A caller that ran BEGIN through ExecuteScript left its transaction (and
  // possibly the write lock) on the connection; the next borrower must not
  // inherit it.
  ConnectionPool<SqliteConnection>::Lease Borrow() {
    auto conn = pool_.Borrow();
    if (conn->InTransaction()) conn->Execute("ROLLBACK", {});
    return conn;
  }

  const std::string path_;
  const bool memory_;
  const std::chrono::milliseconds busy_timeout_;
  const int cache_mib_;
  // Set after the constructor's first connection, before any other thread
  // can see this object.
  bool opened_ = false;
  std::mutex writer_mu_;
  std::condition_variable writer_free_;
  bool writer_busy_ = false;
  ConnectionPool<SqliteConnection> pool_;
};

}  // namespace

std::unique_ptr<Database> OpenSqlite(const DatabaseOptions& options) {
  return std::make_unique<SqliteDatabase>(options);
}

}  // namespace haip::storage
