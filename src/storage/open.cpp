#include <memory>
#include <string>

#include "core/error.h"
#include "storage/backends.h"
#include "storage/database.h"

namespace haip::storage {

std::unique_ptr<Database> Open(const DatabaseOptions& options) {
  if (options.pool_size < 1) {
    throw Error(ErrorCode::kBadRequest,
                "storage.pool_size must be at least 1, got " + std::to_string(options.pool_size));
  }
  if (options.busy_timeout_ms < 0) {
    throw Error(ErrorCode::kBadRequest, "storage: busy timeout must not be negative");
  }
  if (options.sqlite_cache_mib < 1 || options.sqlite_cache_mib > 65536) {
    throw Error(ErrorCode::kBadRequest, "storage.sqlite_cache_mib must be between 1 and 65536, got " +
                                            std::to_string(options.sqlite_cache_mib));
  }
  if (options.backend == "sqlite") {
    if (options.sqlite_path.empty()) {
      throw Error(ErrorCode::kBadRequest, "storage.sqlite_path is empty");
    }
    return OpenSqlite(options);
  }
  if (options.backend == "postgresql") {
    if (options.postgres_url.empty()) {
      throw Error(ErrorCode::kBadRequest, "storage.postgres_url is empty");
    }
    return OpenPostgres(options);
  }
  throw Error(
      ErrorCode::kBadRequest,
      "storage.backend must be \"sqlite\" or \"postgresql\", got \"" + options.backend + "\"");
}

}  // namespace haip::storage
