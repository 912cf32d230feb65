#include "postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace haip::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kDefaultBinDir[] = "/usr/lib/postgresql/15/bin";
constexpr char kServerUser[] = "postgres";

bool RunningAsRoot() { return geteuid() == 0; }

// A port the kernel just considered free. Another process may take it before
// the server binds it; Start() retries with a new one then.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("PostgresServer: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("PostgresServer: cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// Waits for a child up to `timeout`; true once it has exited.
bool WaitForExit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const pid_t done = waitpid(pid, status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

PostgresServer::PostgresServer(std::string bin_dir) : bin_dir_(std::move(bin_dir)) {}

PostgresServer::~PostgresServer() { Stop(); }

std::string PostgresServer::DefaultBinDir() {
  const char* env = std::getenv("HAIP_PG_BIN");
  return env != nullptr && *env != '\0' ? env : kDefaultBinDir;
}

std::string PostgresServer::UnavailableReason() const {
  for (const char* program : {"initdb", "postgres"}) {
    const std::string path = bin_dir_ + "/" + program;
    if (access(path.c_str(), X_OK) != 0) {
      return "PostgreSQL server binaries not found (" + path +
             " is missing); install postgresql-15 or set HAIP_PG_BIN";
    }
  }
  if (RunningAsRoot() && getpwnam(kServerUser) == nullptr) {
    return "running as root but there is no `postgres` user to run the server as";
  }
  return "";
}

void PostgresServer::Start() {
  if (running()) return;
  if (std::string reason = UnavailableReason(); !reason.empty()) {
    throw std::runtime_error("PostgresServer: " + reason);
  }
  std::string pattern = (fs::temp_directory_path() / "haip-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("PostgresServer: cannot create a temporary directory");
  }
  dir_ = pattern;
  if (RunningAsRoot()) {
    const passwd* pw = getpwnam(kServerUser);
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      Stop();
      throw std::runtime_error("PostgresServer: cannot chown " + dir_ + " to postgres");
    }
  }

  // --no-sync and the server settings below trade durability for speed: the
  // data is thrown away after the tests.
  const pid_t initdb = Spawn("initdb",
                             {"-D", dir_ + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8",
                              "--locale=C", "--no-sync", "--no-instructions"},
                             "initdb.log", /*die_with_parent=*/false);
  int status = 0;
  if (initdb < 0 || !WaitForExit(initdb, std::chrono::seconds(120), &status) ||
      !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string log = ReadFile("initdb.log");
    Stop();
    throw std::runtime_error("PostgresServer: initdb failed:\n" + log);
  }

  for (int attempt = 0; attempt < 5 && !running(); ++attempt) {
    port_ = FreeLoopbackPort();
    const pid_t pid =
        Spawn("postgres",
              {"-D", dir_ + "/data", "-c", "listen_addresses=127.0.0.1", "-p",
               std::to_string(port_), "-k", dir_, "-c", "fsync=off", "-c", "synchronous_commit=off",
               "-c", "full_page_writes=off", "-c", "max_connections=100"},
              "server.log", /*die_with_parent=*/true);
    if (pid <= 0) break;
    switch (WaitUntilReady(pid)) {
      case Readiness::kReady:
        server_pid_ = pid;
        break;
      case Readiness::kExited:
        // Most likely the port was taken meanwhile; try another.
        break;
      case Readiness::kTimedOut:
        kill(pid, SIGQUIT);
        WaitForExit(pid, std::chrono::seconds(10), &status);
        break;
    }
  }
  if (!running()) {
    const std::string log = ReadFile("server.log");
    Stop();
    throw std::runtime_error("PostgresServer: the server did not start:\n" + log);
  }
}

void PostgresServer::Stop() {
  if (running()) {
    int status = 0;
    // SIGINT is PostgreSQL's fast shutdown: it disconnects clients the tests
    // may have left open. SIGQUIT, then SIGKILL, if that hangs.
    kill(server_pid_, SIGINT);
    if (!WaitForExit(server_pid_, std::chrono::seconds(30), &status)) {
      kill(server_pid_, SIGQUIT);
      if (!WaitForExit(server_pid_, std::chrono::seconds(10), &status)) {
        kill(server_pid_, SIGKILL);
        WaitForExit(server_pid_, std::chrono::seconds(10), &status);
      }
    }
    server_pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
    dir_.clear();
  }
}

std::string PostgresServer::ConnectionUrl() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

PostgresServer::Readiness PostgresServer::WaitUntilReady(pid_t pid) const {
  const std::string conninfo = ConnectionUrl() + "?connect_timeout=2";
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return Readiness::kExited;
    if (PQping(conninfo.c_str()) == PQPING_OK) return Readiness::kReady;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Readiness::kTimedOut;
}

pid_t PostgresServer::Spawn(const std::string& program, const std::vector<std::string>& args,
                            const std::string& log_name, bool die_with_parent) const {
  // Everything the child needs is prepared before fork(), which leaves only
  // async-signal-safe calls in the child.
  std::vector<std::string> argv_strings;
  argv_strings.reserve(args.size() + 1);
  argv_strings.push_back(bin_dir_ + "/" + program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log_path = dir_ + "/" + log_name;
  const bool as_root = RunningAsRoot();
  uid_t uid = 0;
  gid_t gid = 0;
  if (as_root) {
    const passwd* pw = getpwnam(kServerUser);
    if (pw == nullptr) return -1;
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid != 0) return pid;  // parent, or -1 when fork failed
  // Own process group: a Ctrl-C in the terminal reaches the test, whose
  // death then stops the server in order.
  setpgid(0, 0);
  if (as_root && (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) _exit(126);
  // Set after the credential change, which would clear it.
  if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent)) {
    _exit(126);
  }
  if (chdir(dir_.c_str()) != 0) _exit(126);
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log >= 0) {
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    close(log);
  }
  const int null = open("/dev/null", O_RDONLY);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    close(null);
  }
  execv(argv[0], argv.data());
  _exit(127);
}

std::string PostgresServer::ReadFile(const std::string& name) const {
  std::ifstream in(dir_ + "/" + name);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace haip::testing
