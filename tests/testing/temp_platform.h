// A platform on a fresh temporary data directory, with cheap password hashing
// so tests stay fast. Removes the directory when destroyed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/config.h"
#include "platform/platform.h"

namespace haip::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A test configuration: data_dir in `dir`, argon2 at its minimum cost.
Config TestConfig(const std::filesystem::path& dir);

struct TempPlatform {
  explicit TempPlatform(Config config);
  TempPlatform();
  TempDir dir;
  std::unique_ptr<Platform> platform;
  static constexpr const char* kAdminPassword = "admin-test-password";
};

}  // namespace haip::testing
