// Shared setup for the storage tests: one PostgreSQL server per test process,
// started on first use, and temporary directories for SQLite files.
#pragma once

#include <string>

#include "postgres_server.h"

namespace haip::storage::test {

enum class Backend { kSqlite, kPostgres };

// The process-wide server, started on first call; stopped after the last
// test. Returns nullptr (with the reason in *why) when PostgreSQL is not
// installed; throws when it is installed but does not start.
haip::testing::PostgresServer* SharedPostgres(std::string* why);

// A fresh directory, removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace haip::storage::test
