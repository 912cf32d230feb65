// The embedded and the server database behind one small interface.
//
// SQL is written once with `?` placeholders in the common subset of SQLite and
// PostgreSQL; the PostgreSQL backend rewrites placeholders to $1..$n. DDL that
// differs between dialects goes through migrations (storage/migrations.h), which
// expand a few type macros. A Database is safe to share between threads: it
// keeps a pool of connections and each call borrows one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace haip::storage {

enum class Dialect { kSqlite, kPostgres };

// Binary data, kept apart from text so backends bind it as BLOB / BYTEA.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

// A parameter or a result cell.
class Value {
 public:
  using Variant = std::variant<std::monostate, int64_t, double, std::string, Bytes>;
  Value() = default;
  Value(std::nullptr_t) {}
  Value(int v) : v_(int64_t{v}) {}
  Value(int64_t v) : v_(v) {}
  Value(bool v) : v_(int64_t{v ? 1 : 0}) {}
  Value(double v) : v_(v) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(Bytes v) : v_(std::move(v)) {}
  template <typename T>
  Value(const std::optional<T>& v) {
    if (v) *this = Value(*v);
  }

  bool IsNull() const { return std::holds_alternative<std::monostate>(v_); }
  // Typed reads; throw Error(kInternal) when the cell holds another type
  // (integers read as double, numeric text read as integer or double, and
  // integral doubles read as integer, e.g. PostgreSQL's SUM(), are converted).
  int64_t AsInt() const;
  double AsDouble() const;
  const std::string& AsText() const;
  const Bytes& AsBytes() const;
  // Null -> nullopt.
  std::optional<int64_t> AsOptionalInt() const;
  std::optional<std::string> AsOptionalText() const;
  const Variant& variant() const { return v_; }
  bool operator==(const Value&) const = default;

 private:
  Variant v_;
};

using Row = std::vector<Value>;

struct Result {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
};

using Params = std::vector<Value>;

// Statements on one connection (autocommit, or inside a transaction).
class Session {
 public:
  virtual ~Session() = default;
  // Runs a statement that returns rows (SELECT, or INSERT ... RETURNING).
  virtual Result Query(std::string_view sql, const Params& params = {}) = 0;
  // Runs a statement and returns the number of rows it changed.
  virtual int64_t Execute(std::string_view sql, const Params& params = {}) = 0;
  // Runs several `;`-separated statements without parameters (DDL scripts),
  // e.g. a migration inside a transaction. The backends run scripts natively;
  // this default splits on `;` outside quotes and comments, so it does not
  // understand bodies with inner `;` such as SQLite triggers.
  virtual void ExecuteScript(std::string_view sql);
  virtual Dialect dialect() const = 0;
};

// Throws Error(kConflict) for unique/foreign-key violations, Error(kUnavailable)
// when the server cannot be reached or stays busy, Error(kInternal) otherwise.
class Database : public Session {
 public:
  // Runs several `;`-separated statements without parameters (DDL scripts).
  void ExecuteScript(std::string_view sql) override = 0;
  // Runs fn inside one transaction on one connection: commits when fn returns,
  // rolls back and rethrows when it throws. Writers are serialised (SQLite:
  // BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so
  // read-modify-write inside fn is safe. Not reentrant: a nested call from fn
  // throws Error(kInternal). The Session is valid only while fn runs. Let a
  // failed statement propagate out of fn: PostgreSQL aborts the whole
  // transaction on any error, and committing such a transaction throws
  // Error(kInternal).
  virtual void Transaction(const std::function<void(Session&)>& fn) = 0;
  // "sqlite" or "postgresql", for logs and metrics.
  virtual std::string BackendName() const = 0;
};

struct DatabaseOptions {
  std::string backend = "sqlite";  // "sqlite" or "postgresql"
  std::string sqlite_path;         // file path; ":memory:" for a private in-memory db
  std::string postgres_url;        // libpq connection string or URI
  int pool_size = 8;
  int busy_timeout_ms = 10000;
  int sqlite_cache_mib = 64;  // page cache per SQLite connection
};

// Opens a database; throws Error(kBadRequest) for an unknown backend and
// Error(kUnavailable) when it cannot connect or open the file.
std::unique_ptr<Database> Open(const DatabaseOptions& options);

}  // namespace haip::storage
