#include "testing/temp_platform.h"

#include <unistd.h>

#include <random>

namespace haip::testing {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("haip-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Config TestConfig(const std::filesystem::path& dir) {
  Config c;
  c.Set("data_dir", dir.string());
  c.Set("security.argon2_memory_kib", "256");
  c.Set("security.argon2_iterations", "1");
  c.Set("security.admin_password", TempPlatform::kAdminPassword);
  c.Set("storage.pool_size", "4");
  return c;
}

TempPlatform::TempPlatform() : TempPlatform(Config()) {}

TempPlatform::TempPlatform(Config config) {
  Config c = TestConfig(dir.path());
  // Keys the caller changed from their defaults win over the test defaults.
  for (const auto& k : ConfigKeys()) {
    if (config.Source(k.name) != "default") c.Set(k.name, config.GetString(k.name));
  }
  platform = Platform::Open(c);
  platform->BootstrapAdmin();
}

}  // namespace haip::testing
