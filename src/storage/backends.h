// Backend factories behind storage::Open().
#pragma once

#include <memory>

#include "storage/database.h"

namespace haip::storage {

// Throws Error(kUnavailable) when the file cannot be opened or set up.
std::unique_ptr<Database> OpenSqlite(const DatabaseOptions& options);
// Throws Error(kUnavailable) when the first connection cannot be made.
std::unique_ptr<Database> OpenPostgres(const DatabaseOptions& options);

}  // namespace haip::storage
