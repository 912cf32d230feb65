#include "api/server.h"

// Boost 1.74 uses std::exchange without including <utility> itself.
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <thread>

#include "api/app.h"
#include "core/error.h"
#include "core/log.h"

namespace haip::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// Shared by all connections: what they need to know about the server.
struct ServerState {
  App* app;
  ServerOptions options;
  std::atomic<bool> draining{false};
  std::atomic<int> active{0};
  std::mutex mu;
  std::list<std::weak_ptr<class SessionBase>> sessions;  // for closing idle keep-alive connections
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Asks the session, from any thread, to close once it is idle.
  virtual void PostDrain() = 0;
};

HttpRequest ToHttpRequest(http::request<http::string_body>& req, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  ParseTarget(out.target, out.path, out.query);
  out.headers.reserve(8);
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  out.body = std::move(req.body());
  out.remote_address = remote;
  return out;
}

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, ServerState& state, std::string remote)
      : stream_(std::move(stream)), state_(state), remote_(std::move(remote)) {
    state_.active.fetch_add(1);
  }
  ~Session() { state_.active.fetch_sub(1); }

  void Start() {
    auto self = this->shared_from_this();
    net::dispatch(stream_.get_executor(), [self] { self->Handshake(); });
  }

  void PostDrain() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->close_after_response_ = true;
      if (!self->busy_) self->Close();
    });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Handshake() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest().expires_after(std::chrono::seconds(state_.options.read_timeout_s));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;
                                self->Read();
                              });
    } else {
      Read();
    }
  }

  void Read() {
    if (state_.draining) {
      Close();
      return;
    }
    parser_.emplace();
    parser_->body_limit(state_.options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(state_.options.max_header_bytes));
    // An idle keep-alive connection may wait idle_timeout; once a request
    // starts, the whole request must arrive within read_timeout.
    Lowest().expires_after(std::chrono::seconds(first_request_ ? state_.options.read_timeout_s
                                                               : state_.options.idle_timeout_s));
    busy_ = false;
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    first_request_ = false;
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::eof || ec == net::error::connection_reset) {
      Close();
      return;
    }
    if (ec) {
      int status = 400;
      std::string code = "bad_request";
      std::string message = "malformed HTTP request: " + ec.message();
      if (ec == http::error::body_limit) {
        status = 413;
        code = "payload_too_large";
        message = "request body exceeds " + std::to_string(state_.options.max_body_bytes) + " bytes";
      } else if (ec == http::error::header_limit) {
        status = 431;
        code = "headers_too_large";
        message = "request headers exceed " + std::to_string(state_.options.max_header_bytes) + " bytes";
      }
      std::string request_id = log::NewRequestId();
      log::RequestIdScope scope(request_id);
      spdlog::info("{} from {}: {}", status, remote_, message);
      close_after_response_ = true;
      Write(ErrorResponse(status, code, message, request_id), 11, false);
      return;
    }
    busy_ = true;
    auto req = parser_->release();
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    bool head = req.method() == http::verb::head;
    HttpRequest request = ToHttpRequest(req, remote_);
    auto self = this->shared_from_this();
    state_.app->Handle(std::move(request), [self, keep_alive, version, head](HttpResponse r) {
      net::post(self->stream_.get_executor(), [self, keep_alive, version, head, r = std::move(r)]() mutable {
        if (!keep_alive) self->close_after_response_ = true;
        self->Write(std::move(r), version, head);
      });
    });
  }

  void Write(HttpResponse r, unsigned version, bool head) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::server, "haip");
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->insert(k, v);
    bool close = close_after_response_ || state_.draining;
    res->keep_alive(!close);
    size_t length = r.body.size();
    if (!head) res->body() = std::move(r.body);
    res->content_length(length);
    Lowest().expires_after(std::chrono::seconds(state_.options.read_timeout_s));
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, close](beast::error_code ec, size_t) {
      if (ec || close) {
        self->Close();
        return;
      }
      self->Read();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->Lowest().socket().close(ignored);
      });
    } else {
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().socket().close(ec);
    }
  }

  Stream stream_;
  ServerState& state_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool busy_ = false;
  bool first_request_ = true;
  bool close_after_response_ = false;
  bool closed_ = false;
};

std::pair<std::string, unsigned short> SplitHostPort(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw Error(ErrorCode::kBadRequest, "server.listen must be HOST:PORT, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw Error(ErrorCode::kBadRequest, "invalid port in server.listen '" + listen + "'");
  return {host.empty() ? "0.0.0.0" : host, static_cast<unsigned short>(port)};
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(App& app, ServerOptions options)
      : threads_(options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency())),
        ioc_(threads_),
        acceptor_(net::make_strand(ioc_)),
        signals_(ioc_, SIGINT, SIGTERM) {
    state_.app = &app;
    state_.options = std::move(options);
    if (!state_.options.tls_cert_file.empty() || !state_.options.tls_key_file.empty()) {
      if (state_.options.tls_cert_file.empty() || state_.options.tls_key_file.empty()) {
        throw Error(ErrorCode::kBadRequest, "TLS needs both tls.cert_file and tls.key_file");
      }
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      try {
        tls_->use_certificate_chain_file(state_.options.tls_cert_file);
        tls_->use_private_key_file(state_.options.tls_key_file, ssl::context::pem);
      } catch (const std::exception& e) {
        throw Error(ErrorCode::kBadRequest, std::string("cannot load TLS certificate or key: ") + e.what());
      }
    }
  }

  int Bind() {
    auto [host, port] = SplitHostPort(state_.options.listen);
    beast::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) throw Error(ErrorCode::kBadRequest, "invalid listen address '" + host + "'");
    tcp::endpoint ep(address, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw Error(ErrorCode::kUnavailable, "cannot listen on " + state_.options.listen + ": " + ec.message());
    bound_port_ = acceptor_.local_endpoint().port();
    return bound_port_;
  }

  void Run() {
    signals_.async_wait([this](beast::error_code ec, int sig) {
      if (!ec) {
        spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        BeginShutdown();
      }
    });
    Accept();
    spdlog::info("listening on {}://{}:{} with {} threads", tls_ ? "https" : "http",
                 acceptor_.local_endpoint().address().to_string(), bound_port_, threads_);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads_; ++i) pool.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : pool) t.join();
    spdlog::info("server stopped");
  }

  void BeginShutdown() {
    if (state_.draining.exchange(true)) return;
    state_.app->SetDraining();
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    signals_.cancel();
    {
      std::lock_guard lock(state_.mu);
      for (auto& weak : state_.sessions) {
        if (auto session = weak.lock()) session->PostDrain();
      }
    }
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(state_.options.shutdown_timeout_s);
    WaitForSessions();
  }

 private:
  // Polls until in-flight requests are done or the shutdown timeout passes.
  void WaitForSessions() {
    auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(20));
    timer->async_wait([this, timer](beast::error_code) {
      if (state_.active.load() == 0 || std::chrono::steady_clock::now() >= deadline_) {
        if (state_.active.load() > 0) {
          spdlog::warn("shutdown timeout: closing {} connections with requests in flight", state_.active.load());
        }
        ioc_.stop();
        return;
      }
      WaitForSessions();
    });
  }

  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != net::error::operation_aborted && !state_.draining) {
          spdlog::warn("accept failed: {}", ec.message());
          Accept();
        }
        return;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::string remote;
      auto ep = socket.remote_endpoint(ignored);
      if (!ignored) remote = ep.address().to_string();
      if (tls_) {
        Start(std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls_), state_, remote));
      } else {
        Start(std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), state_, remote));
      }
      if (!state_.draining) Accept();
    });
  }

  template <class S>
  void Start(std::shared_ptr<S> session) {
    {
      std::lock_guard lock(state_.mu);
      std::erase_if(state_.sessions, [](const std::weak_ptr<SessionBase>& w) { return w.expired(); });
      state_.sessions.push_back(session);
    }
    session->Start();
  }

  int threads_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  std::optional<ssl::context> tls_;
  ServerState state_;
  int bound_port_ = 0;
  std::chrono::steady_clock::time_point deadline_;
};

HttpServer::HttpServer(App& app, ServerOptions options) : impl_(std::make_unique<Impl>(app, std::move(options))) {}
HttpServer::~HttpServer() = default;
int HttpServer::Bind() { return impl_->Bind(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Stop() { impl_->BeginShutdown(); }

}  // namespace haip::api
