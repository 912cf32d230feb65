// The `haip` command: each area registers its subcommands on the app.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "core/config.h"

namespace haip::cli {

// Options every command shares; filled before any subcommand runs.
struct GlobalOptions {
  std::string config_file;
  std::string data_dir;
  std::string log_level;
};

GlobalOptions& Globals();
// Builds the configuration: defaults, then the TOML file, then HAIP_*
// variables, then the global flags. `flags` are further key=value overrides.
Config LoadConfig(const std::vector<std::pair<std::string, std::string>>& flags = {});

void RegisterServeCommand(CLI::App& app);
void RegisterUserCommands(CLI::App& app);
void RegisterTokenCommands(CLI::App& app);
void RegisterAuditCommands(CLI::App& app);
void RegisterSynthCommand(CLI::App& app);
void RegisterIngestCommands(CLI::App& app);
void RegisterExportCommand(CLI::App& app);
void RegisterCohortCommands(CLI::App& app);
void RegisterBlobCommands(CLI::App& app);

}  // namespace haip::cli
