#include "test_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

namespace haip::storage::test {
namespace {

haip::testing::PostgresServer& Server() {
  static haip::testing::PostgresServer server;
  return server;
}

class PostgresEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Server().Stop(); }
};

[[maybe_unused]] const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace

haip::testing::PostgresServer* SharedPostgres(std::string* why) {
  haip::testing::PostgresServer& server = Server();
  if (std::string reason = server.UnavailableReason(); !reason.empty()) {
    *why = reason;
    return nullptr;
  }
  server.Start();
  return &server;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "haip-storage-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace haip::storage::test
