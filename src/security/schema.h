// The security module's tables: users, tokens and the audit log.
#pragma once

#include <vector>

#include "storage/migrations.h"

namespace haip::security {

std::vector<storage::Migration> SecurityMigrations(storage::Dialect dialect);

}  // namespace haip::security
