// `haip user add|list|disable|enable` and `haip token create|revoke|list`.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "platform/platform.h"
#include "security/password.h"

namespace haip::cli {

namespace {
// Reads a password from the terminal without echo, or a line from stdin.
std::string ReadPassword(const std::string& prompt) {
  std::string line;
  if (isatty(STDIN_FILENO)) {
    std::cerr << prompt << std::flush;
    std::system("stty -echo 2>/dev/null");
    std::getline(std::cin, line);
    std::system("stty echo 2>/dev/null");
    std::cerr << "\n";
  } else {
    std::getline(std::cin, line);
  }
  return line;
}

std::string Iso(const std::optional<int64_t>& v) { return v ? clock::FormatIso8601(*v) : "-"; }
}  // namespace

void RegisterUserCommands(CLI::App& app) {
  auto* user = app.add_subcommand("user", "Manage users");
  user->require_subcommand(1);

  struct AddOptions {
    std::string username, roles, department, display_name, password;
    bool password_stdin = false;
    bool generate = false;
  };
  auto add = std::make_shared<AddOptions>();
  auto* add_cmd = user->add_subcommand("add", "Create a user");
  add_cmd->add_option("username", add->username, "Login name (letters, digits, . _ -)")->required();
  add_cmd->add_option("--roles", add->roles, "Comma-separated: admin, clinician, researcher, annotator, auditor, service")->required();
  add_cmd->add_option("--department", add->department, "Department, e.g. 心内科");
  add_cmd->add_option("--display-name", add->display_name, "Full name shown in the console");
  add_cmd->add_flag("--password-stdin", add->password_stdin, "Read the password from standard input");
  add_cmd->add_flag("--generate-password", add->generate, "Generate a password and print it once");
  add_cmd->callback([add] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    std::string password;
    if (add->generate) {
      password = security::GeneratePassword();
    } else if (add->password_stdin) {
      std::getline(std::cin, password);
    } else {
      password = ReadPassword("Password for " + add->username + ": ");
    }
    security::NewUser nu{add->username, password, add->display_name, security::ParseRoles(add->roles),
                         add->department.empty() ? std::nullopt : std::optional(add->department)};
    auto u = platform->users().Create(nu);
    Json detail{{"username", u.username}, {"roles", security::RoleNames(u.roles)}};
    if (u.department) detail["department"] = *u.department;
    platform->audit().AppendSync(CliAuditRecord("user.create", detail.dump()));
    std::cout << "created user " << u.username << " (" << security::FormatRoles(u.roles) << ")\n";
    if (add->generate) std::cout << "password: " << password << "\n";
  });

  auto* list_cmd = user->add_subcommand("list", "List users");
  auto json_out = std::make_shared<bool>(false);
  list_cmd->add_flag("--json", *json_out, "Print JSON lines");
  list_cmd->callback([json_out] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    auto users = platform->users().List();
    platform->audit().AppendSync(CliAuditRecord("user.list", "{}"));
    if (*json_out) {
      for (const auto& u : users) {
        std::cout << Json{{"username", u.username}, {"display_name", u.display_name},
                          {"roles", security::RoleNames(u.roles)},
                          {"department", u.department ? Json(*u.department) : Json(nullptr)},
                          {"disabled", u.disabled}}
                         .dump()
                  << "\n";
      }
      return;
    }
    std::printf("%-20s %-28s %-14s %-9s %s\n", "USERNAME", "ROLES", "DEPARTMENT", "STATUS", "LAST LOGIN");
    for (const auto& u : users) {
      std::printf("%-20s %-28s %-14s %-9s %s\n", u.username.c_str(), security::FormatRoles(u.roles).c_str(),
                  u.department.value_or("-").c_str(), u.disabled ? "disabled" : "active",
                  Iso(u.last_login_at).c_str());
    }
  });

  for (bool disable : {true, false}) {
    auto name = std::make_shared<std::string>();
    auto* cmd = user->add_subcommand(disable ? "disable" : "enable",
                                     disable ? "Disable a user (their tokens stop working)" : "Enable a disabled user");
    cmd->add_option("username", *name, "Login name")->required();
    cmd->callback([name, disable] {
      Config config = LoadConfig();
      auto platform = Platform::Open(config);
      security::UserChange change;
      change.disabled = disable;
      platform->users().Update(*name, change);
      platform->audit().AppendSync(CliAuditRecord(
          "user.update", Json{{"username", *name}, {"disabled", disable}}.dump()));
      std::cout << (disable ? "disabled " : "enabled ") << *name << "\n";
    });
  }
}

void RegisterTokenCommands(CLI::App& app) {
  auto* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);

  struct CreateOptions {
    std::string user, ttl, name = "cli";
  };
  auto create = std::make_shared<CreateOptions>();
  auto* create_cmd = token->add_subcommand("create", "Create an API token and print it (only the token, on stdout)");
  create_cmd->add_option("--user", create->user, "Owner of the token")->required();
  create_cmd->add_option("--ttl", create->ttl, "Lifetime, e.g. 30d, 12h (default security.token_ttl)");
  create_cmd->add_option("--name", create->name, "What the token is for");
  create_cmd->callback([create] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    auto user = platform->users().Find(create->user);
    if (!user) throw Error(ErrorCode::kNotFound, "no user '" + create->user + "'");
    int64_t ttl = create->ttl.empty() ? config.GetDurationSeconds("security.token_ttl")
                                      : clock::ParseDurationSeconds(create->ttl);
    auto issued = platform->tokens().Issue(*user, create->name, security::TokenKind::kApi, ttl);
    platform->audit().AppendSync(CliAuditRecord(
        "token.create", Json{{"token_id", issued.info.id}, {"for_user", user->username}, {"name", create->name}}.dump()));
    std::cout << issued.secret << "\n";
  });

  auto id = std::make_shared<int64_t>(0);
  auto* revoke_cmd = token->add_subcommand("revoke", "Revoke a token by id");
  revoke_cmd->add_option("id", *id, "Token id (see `haip token list`)")->required();
  revoke_cmd->callback([id] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    auto info = platform->tokens().Revoke(*id);
    platform->audit().AppendSync(CliAuditRecord("token.revoke", Json{{"token_id", *id}}.dump()));
    std::cout << "revoked token " << info.id << " (" << info.name << ") of " << info.username << "\n";
  });

  auto* list_cmd = token->add_subcommand("list", "List API tokens");
  list_cmd->callback([] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    auto tokens = platform->tokens().List(0, security::TokenKind::kApi);
    std::printf("%-6s %-16s %-20s %-25s %-25s %s\n", "ID", "USER", "NAME", "EXPIRES", "LAST USED", "STATUS");
    int64_t now = clock::NowMillis();
    for (const auto& t : tokens) {
      const char* status = t.revoked_at ? "revoked" : (t.expires_at && *t.expires_at <= now ? "expired" : "active");
      std::printf("%-6lld %-16s %-20s %-25s %-25s %s\n", static_cast<long long>(t.id), t.username.c_str(),
                  t.name.c_str(), Iso(t.expires_at).c_str(), Iso(t.last_used_at).c_str(), status);
    }
  });
}

}  // namespace haip::cli
