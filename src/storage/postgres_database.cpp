// PostgreSQL backend over libpq: a pool of connections, `?` rewritten to $n,
// parameters sent as text (bytes as binary bytea) and results read as text
// and converted by column type.
#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "storage/backends.h"
#include "storage/connection_pool.h"
#include "storage/database.h"
#include "storage/sql_text.h"
#include "storage/transaction_guard.h"

namespace haip::storage {
namespace {

// Type OIDs from PostgreSQL's pg_type catalog; stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Key of the advisory lock that serialises Transaction() writers of every
// HAIP process on the database ("HAIPSTOR" in ASCII).
constexpr int64_t kWriterLockKey = 0x4841495053544F52;

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string TrimNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

ErrorCode MapSqlState(std::string_view state) {
  if (state == "23505" || state == "23503") return ErrorCode::kConflict;
  // Connection trouble (class 08, except a protocol violation, which is a
  // bug), server shutting down or full, and lock waits that ran out: all
  // worth retrying later.
  if ((state.starts_with("08") && state != "08P01") || state == "57P01" || state == "57P02" ||
      state == "57P03" || state == "53300" || state == "40001" || state == "40P01" ||
      state == "55P03") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

Value ParseInt(const char* text, int length) {
  int64_t v = 0;
  std::from_chars(text, text + length, v);
  return Value(v);
}

Value ParseDouble(const char* text, int length) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text, text + length, v);
  // A numeric beyond double's range; strtod saturates to +-inf as wanted.
  if (ec != std::errc()) v = std::strtod(text, nullptr);
  return Value(v);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Value ParseBytea(const char* text, int length) {
  if (length >= 2 && text[0] == '\\' && text[1] == 'x') {
    std::string data;
    data.reserve((length - 2) / 2);
    for (int i = 2; i + 1 < length; i += 2) {
      data += static_cast<char>(HexDigit(text[i]) << 4 | HexDigit(text[i + 1]));
    }
    return Value(Bytes{std::move(data)});
  }
  // A server configured with bytea_output = escape.
  size_t size = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
  if (raw == nullptr) throw Error(ErrorCode::kInternal, "postgresql: cannot decode bytea");
  Bytes bytes{std::string(reinterpret_cast<const char*>(raw), size)};
  PQfreemem(raw);
  return Value(std::move(bytes));
}

Value ReadCell(const PGresult* res, int row, int column, Oid type) {
  if (PQgetisnull(res, row, column)) return Value();
  const char* text = PQgetvalue(res, row, column);
  const int length = PQgetlength(res, row, column);
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
      return ParseInt(text, length);
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return ParseDouble(text, length);
    case kBoolOid:
      return Value(int64_t{text[0] == 't' ? 1 : 0});
    case kByteaOid:
      return ParseBytea(text, length);
    default:
      return Value(std::string(text, length));
  }
}

// Parameters in libpq's array form. Numbers are typed (int8, float8) so that
// expressions such as `? IS NULL` or `? + 1` resolve as they do in SQLite;
// text stays untyped so the server can coerce it to the column's type.
class EncodedParams {
 public:
  explicit EncodedParams(const Params& params)
      : numbers_(params.size()),
        values_(params.size()),
        lengths_(params.size()),
        formats_(params.size()),
        types_(params.size()) {
    for (size_t i = 0; i < params.size(); ++i) {
      const Value::Variant& v = params[i].variant();
      switch (v.index()) {
        case 0:
          values_[i] = nullptr;
          break;
        case 1: {
          char* begin = numbers_[i].data();
          *std::to_chars(begin, begin + kNumberSize - 1, std::get<int64_t>(v)).ptr = '\0';
          values_[i] = begin;
          types_[i] = kInt8Oid;
          break;
        }
        case 2: {
          values_[i] = FormatDouble(std::get<double>(v), numbers_[i].data());
          types_[i] = kFloat8Oid;
          break;
        }
        case 3: {
          const std::string& text = std::get<std::string>(v);
          if (text.find('\0') != std::string::npos) {
            throw Error(ErrorCode::kBadRequest,
                        "postgresql: text cannot contain NUL bytes; store it as Bytes");
          }
          values_[i] = text.c_str();
          break;
        }
        default: {
          const std::string& data = std::get<Bytes>(v).data;
          values_[i] = data.data();
          lengths_[i] = static_cast<int>(data.size());
          formats_[i] = 1;
          types_[i] = kByteaOid;
          break;
        }
      }
    }
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  static constexpr size_t kNumberSize = 32;

  static const char* FormatDouble(double d, char* out) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    // Shortest text that reads back as the same double.
    *std::to_chars(out, out + kNumberSize - 1, d).ptr = '\0';
    return out;
  }

  std::vector<std::array<char, kNumberSize>> numbers_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<Oid> types_;
};

class PgConnection {
 public:
  explicit PgConnection(const std::string& url) {
    // connect_timeout comes first so the URL can override it; client_encoding
    // comes after so it cannot.
    const char* keywords[] = {"connect_timeout", "dbname", "client_encoding",
                              "fallback_application_name", nullptr};
    const char* values[] = {"10", url.c_str(), "UTF8", "haip", nullptr};
    conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn_ == nullptr) throw Error(ErrorCode::kUnavailable, "postgresql: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = TrimNewlines(PQerrorMessage(conn_));
      PQfinish(conn_);
      throw Error(ErrorCode::kUnavailable, "postgresql: cannot connect: " + message);
    }
    // Notices ("relation already exists, skipping") are not errors; libpq
    // would print them to stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() { PQfinish(conn_); }

  // Called on every borrow: reconnects a connection the server dropped while
  // it sat in the pool, and ends a transaction a caller left open.
  void EnsureReady() {
    // A dropped connection first yields the server's goodbye message and
    // only on the next read the end of the stream, hence two reads.
    bool healthy = PQstatus(conn_) == CONNECTION_OK && PQconsumeInput(conn_) == 1 &&
                   PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK;
    while (PGnotify* notify = PQnotifies(conn_)) PQfreemem(notify);
    if (!healthy) {
      PQreset(conn_);
      if (PQstatus(conn_) != CONNECTION_OK) {
        throw Error(ErrorCode::kUnavailable,
                    "postgresql: cannot reconnect: " + TrimNewlines(PQerrorMessage(conn_)));
      }
    }
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) ExecuteScript("ROLLBACK");
  }

  Result Query(std::string_view sql, const Params& params) {
    ResultPtr res = Run(sql, params);
    Result result;
    const int columns = PQnfields(res.get());
    const int rows = PQntuples(res.get());
    std::vector<Oid> types(columns);
    result.columns.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      result.columns.emplace_back(PQfname(res.get(), c));
      types[c] = PQftype(res.get(), c);
    }
    result.rows.reserve(rows);
    for (int r = 0; r < rows; ++r) {
      Row& row = result.rows.emplace_back();
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) row.push_back(ReadCell(res.get(), r, c, types[c]));
    }
    return result;
  }

  int64_t Execute(std::string_view sql, const Params& params) {
    ResultPtr res = Run(sql, params);
    const char* tuples = PQcmdTuples(res.get());
    int64_t changed = 0;
    std::from_chars(tuples, tuples + std::strlen(tuples), changed);
    return changed;
  }

  // Multi-statement text through the simple query protocol; outside a
  // transaction the server runs it as one implicit transaction.
  void ExecuteScript(std::string_view sql) { RunScript(sql); }

  // Returns the command tag ("COMMIT", or "ROLLBACK" when the server had
  // already aborted the transaction).
  std::string RunScript(std::string_view sql) {
    const std::string script(sql);
    ResultPtr res(PQexec(conn_, script.c_str()), &PQclear);
    const ExecStatusType status = PQresultStatus(res.get());
    if (res == nullptr ||
        (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)) {
      Fail(res.get(), sql);
    }
    return PQcmdStatus(res.get());
  }

  bool Idle() const {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

 private:
  ResultPtr Run(std::string_view sql, const Params& params) {
    const NumberedSql numbered = NumberPlaceholders(sql);
    if (numbered.placeholders != static_cast<int>(params.size())) {
      throw Error(ErrorCode::kInternal, "postgresql: statement has " +
                                            std::to_string(numbered.placeholders) +
                                            " placeholders but " + std::to_string(params.size()) +
                                            " parameters were given [" + SqlExcerpt(sql) + "]");
    }
    const EncodedParams encoded(params);
    ResultPtr res(PQexecParams(conn_, numbered.sql.c_str(), encoded.size(), encoded.types(),
                               encoded.values(), encoded.lengths(), encoded.formats(),
                               /*resultFormat=*/0),
                  &PQclear);
    const ExecStatusType status = PQresultStatus(res.get());
    if (res == nullptr || (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)) {
      Fail(res.get(), sql);
    }
    return res;
  }

  // Reports only the primary message: DETAIL lines quote the offending
  // values, which may be patient data.
  [[noreturn]] void Fail(const PGresult* res, std::string_view sql) const {
    const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary =
        res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = primary != nullptr ? primary : TrimNewlines(PQerrorMessage(conn_));
    if (message.empty() && res != nullptr) message = PQresStatus(PQresultStatus(res));
    ErrorCode code = MapSqlState(state != nullptr ? state : "");
    if (PQstatus(conn_) != CONNECTION_OK) code = ErrorCode::kUnavailable;
    throw Error(code, "postgresql: " + message + " [" + SqlExcerpt(sql) + "]");
  }

  PGconn* conn_ = nullptr;
};

class PgSession final : public Session {
 public:
  explicit PgSession(PgConnection& conn) : conn_(conn) {}
  Result Query(std::string_view sql, const Params& params) override {
    return conn_.Query(sql, params);
  }
  int64_t Execute(std::string_view sql, const Params& params) override {
    return conn_.Execute(sql, params);
  }
  void ExecuteScript(std::string_view sql) override { conn_.ExecuteScript(sql); }
  Dialect dialect() const override { return Dialect::kPostgres; }

 private:
  PgConnection& conn_;
};

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(const DatabaseOptions& options)
      : url_(options.postgres_url),
        // The advisory lock waits no longer than SQLite's busy timeout would;
        // the timeout then reverts so row locks inside fn wait as configured.
        begin_sql_("BEGIN; SET LOCAL lock_timeout = " + std::to_string(options.busy_timeout_ms) +
                   "; SELECT pg_advisory_xact_lock(" + std::to_string(kWriterLockKey) +
                   "); SET LOCAL lock_timeout TO DEFAULT"),
        pool_(options.pool_size, std::chrono::milliseconds(options.busy_timeout_ms),
              [this] { return std::make_unique<PgConnection>(url_); }) {
    // Connects now so a wrong URL or a down server fails in Open().
    pool_.Borrow();
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
    auto conn = Borrow();
    try {
      conn->RunScript(begin_sql_);
      PgSession session(*conn);
      fn(session);
      if (conn->RunScript("COMMIT") != "COMMIT") {
        throw Error(ErrorCode::kInternal,
                    "postgresql: transaction was aborted by a failed statement and rolled back");
      }
    } catch (...) {
      try {
        if (!conn->Idle()) conn->RunScript("ROLLBACK");
      } catch (const Error&) {
        // A broken connection is reconnected on its next borrow.
      }
      throw;
    }
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string BackendName() const override { return "postgresql"; }

 private:
  ConnectionPool<PgConnection>::Lease Borrow() {
    auto conn = pool_.Borrow();
    conn->EnsureReady();
    return conn;
  }

  const std::string url_;
  const std::string begin_sql_;
  ConnectionPool<PgConnection> pool_;
};

}  // namespace

std::unique_ptr<Database> OpenPostgres(const DatabaseOptions& options) {
  return std::make_unique<PgDatabase>(options);
}

}  // namespace haip::storage
