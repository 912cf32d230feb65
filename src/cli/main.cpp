#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/version.h"

extern char** environ;

namespace haip::cli {

GlobalOptions& Globals() {
  static GlobalOptions g;
  return g;
}

Config LoadConfig(const std::vector<std::pair<std::string, std::string>>& flags) {
  Config config;
  const GlobalOptions& g = Globals();
  std::string file = g.config_file;
  if (file.empty()) {
    if (const char* env = std::getenv("HAIP_CONFIG")) file = env;
  }
  if (file.empty()) {
    // <data-dir>/haip.toml, where the data dir comes from the flag, the
    // environment or the default.
    std::string dir = g.data_dir;
    if (dir.empty()) {
      if (const char* env = std::getenv("HAIP_DATA_DIR")) dir = env;
    }
    if (dir.empty()) dir = config.GetString("data_dir");
    auto candidate = std::filesystem::path(dir) / "haip.toml";
    if (std::filesystem::exists(candidate)) file = candidate.string();
  } else if (!std::filesystem::exists(file)) {
    throw Error(ErrorCode::kBadRequest, "configuration file not found: " + file);
  }
  if (!file.empty()) config.LoadTomlFile(file);
  config.LoadEnvironment(environ);
  if (!g.data_dir.empty()) config.Set("data_dir", g.data_dir);
  if (!g.log_level.empty()) config.Set("log.level", g.log_level);
  for (const auto& [k, v] : flags) config.Set(k, v);
  log::Init(config.GetString("log.level"), config.GetString("log.file"));
  return config;
}

}  // namespace haip::cli

int main(int argc, char** argv) {
  using namespace haip;
  CLI::App app{"HAIP — the Hospital AI Platform.\nOne platform for a hospital's clinical data, knowledge, models, compute and agents.", "haip"};
  app.require_subcommand(1);
  // Global options may follow the subcommand (`haip serve --data-dir DIR`);
  // subcommands created after this inherit it.
  app.fallthrough();
  auto& g = cli::Globals();
  app.add_option("--config", g.config_file, "TOML configuration file (default: <data-dir>/haip.toml if present)");
  app.add_option("--data-dir", g.data_dir, "Directory holding everything HAIP stores (default ./haip-data)");
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn or error");

  auto* version = app.add_subcommand("version", "Print the version and build");
  version->callback([] { std::cout << "haip " << Version() << " (" << GitCommit() << ")\n"; });
  cli::RegisterServeCommand(app);
  cli::RegisterUserCommands(app);
  cli::RegisterTokenCommands(app);
  cli::RegisterAuditCommands(app);
  cli::RegisterSynthCommand(app);
  cli::RegisterIngestCommands(app);
  cli::RegisterExportCommand(app);
  cli::RegisterCohortCommands(app);
  cli::RegisterBlobCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::cerr << "haip: " << e.what() << "\n";
    return e.code() == ErrorCode::kBadRequest || e.code() == ErrorCode::kUnprocessable ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "haip: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
