// The HTTP/1.1 server (Boost.Beast): keep-alive, a pool of I/O threads,
// request size limits and timeouts, optional TLS, graceful shutdown.
#pragma once

#include <memory>
#include <string>

namespace haip::api {

class App;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;  // 0: hardware concurrency
  size_t max_body_bytes = 16 << 20;
  size_t max_header_bytes = 16 << 10;
  int read_timeout_s = 30;
  int idle_timeout_s = 60;
  int shutdown_timeout_s = 20;
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  HttpServer(App& app, ServerOptions options);
  ~HttpServer();

  // Binds the listening socket; throws Error(kUnavailable) if it cannot.
  // Returns the bound port (useful with port 0).
  int Bind();
  // Serves until SIGTERM or SIGINT (or Stop()), then stops accepting, lets
  // in-flight requests finish within shutdown_timeout_s and returns.
  void Run();
  // Starts the shutdown from any thread.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace haip::api
