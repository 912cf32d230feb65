#include "core/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace haip {
namespace {

TEST(Config, DefaultsFileEnvironmentFlagsInThatOrder) {
  Config c;
  EXPECT_EQ(c.GetString("server.listen"), "127.0.0.1:8080");
  EXPECT_EQ(c.Source("server.listen"), "default");

  c.LoadTomlString("data_dir = \"/srv/haip\"\n[server]\nlisten = \"0.0.0.0:9000\"\nthreads = 4\n"
                   "[security]\nlockout_threshold = 3\n",
                   "test.toml");
  EXPECT_EQ(c.GetString("server.listen"), "0.0.0.0:9000");
  EXPECT_EQ(c.GetInt("server.threads"), 4);
  EXPECT_EQ(c.Source("server.threads"), "file");

  std::string e1 = "HAIP_SERVER_LISTEN=127.0.0.1:7000", e2 = "HAIP_ADMIN_PASSWORD=s3cret-password",
              e3 = "UNRELATED=1";
  char* env[] = {e1.data(), e2.data(), e3.data(), nullptr};
  c.LoadEnvironment(env);
  EXPECT_EQ(c.GetString("server.listen"), "127.0.0.1:7000");
  EXPECT_EQ(c.Source("server.listen"), "env");
  EXPECT_EQ(c.GetString("security.admin_password"), "s3cret-password");
  EXPECT_EQ(c.GetInt("server.threads"), 4);  // untouched by env

  c.Set("server.listen", "127.0.0.1:6000");
  EXPECT_EQ(c.GetString("server.listen"), "127.0.0.1:6000");
  EXPECT_EQ(c.Source("server.listen"), "flag");
  EXPECT_EQ(c.GetString("data_dir"), "/srv/haip");
  EXPECT_EQ(c.DataPath("haip.db"), "/srv/haip/haip.db");
}

TEST(Config, UnknownKeysAndBadValuesAreClearErrors) {
  Config c;
  try {
    c.LoadTomlString("[server]\nlisen = \"x\"\n", "typo.toml");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("server.lisen"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.LoadTomlString("[server\n", "broken.toml"), Error);
  c.Set("server.threads", "many");
  EXPECT_THROW(c.GetInt("server.threads"), Error);
  c.Set("security.session_ttl", "12 parsecs");
  EXPECT_THROW(c.GetDurationSeconds("security.session_ttl"), Error);
  EXPECT_THROW(c.Set("no.such.key", "1"), Error);
}

TEST(Config, DurationsAndBooleans) {
  Config c;
  EXPECT_EQ(c.GetDurationSeconds("security.session_ttl"), 12 * 3600);
  EXPECT_EQ(c.GetDurationSeconds("security.token_ttl"), 90 * 86400);
}

// Every key HAIP understands is documented, with its default.
TEST(Config, EveryKeyIsDocumented) {
  std::ifstream in(std::string(HAIP_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  for (const auto& k : ConfigKeys()) {
    EXPECT_NE(doc.find("`" + std::string(k.name) + "`"), std::string::npos)
        << "docs/configuration.md does not document " << k.name;
    EXPECT_NE(doc.find("`" + EnvName(k.name) + "`"), std::string::npos)
        << "docs/configuration.md does not name the variable " << EnvName(k.name);
  }
}

}  // namespace
}  // namespace haip
