// Runs a security test against SQLite and against a real PostgreSQL server
// (one per test process, each test on a fresh schema).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "postgres_server.h"
#include "security/schema.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "testing/temp_platform.h"

namespace haip::security {

inline haip::testing::PostgresServer* SharedPostgres(std::string* why) {
  static haip::testing::PostgresServer* server = [] {
    auto* s = new haip::testing::PostgresServer();
    if (s->UnavailableReason().empty()) {
      s->Start();
      std::atexit([] { SharedPostgres(nullptr)->Stop(); });
    }
    return s;
  }();
  if (!server->running()) {
    if (why) *why = server->UnavailableReason();
    return nullptr;
  }
  return server;
}

class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    storage::DatabaseOptions o;
    o.pool_size = 4;
    if (GetParam() == "postgresql") {
      std::string why;
      auto* pg = SharedPostgres(&why);
      if (!pg) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
      o.backend = "postgresql";
      o.postgres_url = pg->ConnectionUrl();
      db_ = storage::Open(o);
      db_->ExecuteScript("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
    } else {
      o.backend = "sqlite";
      o.sqlite_path = (dir_.path() / "test.db").string();
      db_ = storage::Open(o);
    }
    storage::Migrate(*db_, "security", SecurityMigrations(db_->dialect()));
  }

  haip::testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
};

inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param == "postgresql" ? "Postgres" : "Sqlite";
}

}  // namespace haip::security
