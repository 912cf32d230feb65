// Configuration: every key is declared once in a table (name, default, what it
// does); values come from the TOML file, then HAIP_* environment variables, then
// command-line flags, each overriding the one before. docs/configuration.md
// documents every key of the table, and a test checks that it does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haip {

struct ConfigKey {
  std::string_view name;          // dotted: "server.listen"
  std::string_view default_value;  // "" means unset
  std::string_view description;
};

// All keys HAIP understands.
const std::vector<ConfigKey>& ConfigKeys();

// "server.listen" -> "HAIP_SERVER_LISTEN"; a few keys also have short names
// (data_dir -> HAIP_DATA_DIR).
std::string EnvName(std::string_view key);

class Config {
 public:
  // Defaults only.
  Config();

  // Layers, lowest precedence first. Unknown keys throw Error(kBadRequest)
  // naming the key and the source, so typos do not pass silently.
  void LoadTomlFile(const std::string& path);
  void LoadTomlString(std::string_view toml, std::string_view source_name);
  void LoadEnvironment(char** envp);
  void Set(std::string_view key, std::string value);  // flags

  std::string GetString(std::string_view key) const;
  int64_t GetInt(std::string_view key) const;  // throws kBadRequest if not an integer
  bool GetBool(std::string_view key) const;    // true/false/1/0/yes/no/on/off
  // A duration value ("12h", "90d", "30") in seconds.
  int64_t GetDurationSeconds(std::string_view key) const;
  // Where a key's value came from: "default", "file", "env" or "flag".
  std::string Source(std::string_view key) const;

  // The data directory, and paths under it.
  std::string DataDir() const { return GetString("data_dir"); }
  std::string DataPath(std::string_view relative) const;

 private:
  struct Entry {
    std::string value;
    std::string source;
  };
  const Entry& Find(std::string_view key) const;
  void Assign(std::string_view key, std::string value, std::string_view source);

  std::map<std::string, Entry, std::less<>> values_;
};

}  // namespace haip
