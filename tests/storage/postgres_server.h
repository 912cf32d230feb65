// A throwaway PostgreSQL server for tests: initdb into a temporary directory,
// listen on 127.0.0.1 at a free port (the unix socket stays in that
// directory), trust authentication, durability switched off for speed. When
// the test runs as root, initdb and the server run as the `postgres` system
// user, since PostgreSQL refuses root.
//
// The server is a child of the test process and gets SIGQUIT when the thread
// that called Start() ends, so a crashed or killed test (a ctest timeout)
// leaves no server behind. Call Start() from a thread that outlives the
// tests, such as gtest's main thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace haip::testing {

class PostgresServer {
 public:
  // bin_dir holds initdb and postgres.
  explicit PostgresServer(std::string bin_dir = DefaultBinDir());
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer();

  // $HAIP_PG_BIN, else Debian's PostgreSQL 15 location.
  static std::string DefaultBinDir();
  // Empty when the server can be started; otherwise why not (binaries
  // missing, or running as root without a `postgres` user). Tests skip then.
  std::string UnavailableReason() const;

  // Creates the cluster and starts the server, returning once it accepts
  // connections; throws std::runtime_error with the logs on failure. No-op
  // when already running.
  void Start();
  // Stops the server and deletes its directory. Safe to call twice.
  void Stop();
  bool running() const { return server_pid_ > 0; }

  // libpq URI for the `postgres` superuser and database over TCP.
  std::string ConnectionUrl() const;
  int port() const { return port_; }

 private:
  // Starts a PostgreSQL binary as a child (as `postgres` when we are root),
  // output appended to log_name in the directory; returns its pid, or -1.
  pid_t Spawn(const std::string& program, const std::vector<std::string>& args,
              const std::string& log_name, bool die_with_parent) const;
  enum class Readiness { kReady, kExited, kTimedOut };
  // Waits for the postmaster to accept connections. kExited means it has
  // been reaped and its pid must not be signalled.
  Readiness WaitUntilReady(pid_t pid) const;
  std::string ReadFile(const std::string& name) const;

  std::string bin_dir_;
  std::string dir_;
  int port_ = 0;
  pid_t server_pid_ = -1;
};

}  // namespace haip::testing
