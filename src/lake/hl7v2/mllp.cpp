#include "lake/hl7v2/mllp.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "lake/hl7v2/ack.h"

namespace haip::lake::hl7v2 {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string MllpFrame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 3);
  out += kMllpStart;
  out.append(message);
  out += kMllpEnd;
  out += kMllpTrailer;
  return out;
}

MllpDecoder::MllpDecoder(size_t max_message_size) : max_(max_message_size) {}

std::vector<std::string> MllpDecoder::Feed(std::string_view bytes) {
  std::vector<std::string> out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    switch (state_) {
      case State::kIdle:
        if (c == kMllpStart) {
          state_ = State::kInFrame;
          buffer_.clear();
        }
        break;
      case State::kInFrame: {
        if (c == kMllpStart) {
          buffer_.clear();
          break;
        }
        if (c == kMllpEnd) {
          state_ = State::kSawEnd;
          break;
        }
        // Copy the run of plain bytes in one go rather than byte by byte.
        size_t end = bytes.find_first_of(std::string_view("\x0B\x1C", 2), i);
        if (end == std::string_view::npos) end = bytes.size();
        if (buffer_.size() + (end - i) > max_) {
          buffer_.clear();
          state_ = State::kIdle;
          throw Error(ErrorCode::kPayloadTooLarge,
                      "MLLP: message larger than " + std::to_string(max_) + " bytes");
        }
        buffer_.append(bytes.substr(i, end - i));
        i = end - 1;
        break;
      }
      case State::kSawEnd:
        out.push_back(std::move(buffer_));
        buffer_.clear();
        state_ = State::kIdle;
        if (c == kMllpStart) {
          state_ = State::kInFrame;  // the sender left out the trailing CR
        }
        break;
    }
  }
  return out;
}

namespace {

class Connection;

}  // namespace

struct MllpServer::Impl {
  MllpHandler handler;
  MllpServerOptions options;
  std::atomic<size_t> open_connections{0};
  std::atomic<uint16_t> bound_port{0};
  std::mutex mu;  // guards connections, threads, running
  std::list<std::weak_ptr<Connection>> connections;
  std::vector<std::thread> threads;
  bool running = false;
  // Declared last so it is destroyed first: handlers still queued in it own
  // connections whose destructors touch the members above.
  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  void Accept();
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, MllpServer::Impl* server)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        server_(server),
        decoder_(server->options.max_message_size) {
    ++server_->open_connections;
  }
  ~Connection() { --server_->open_connections; }

  void Start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Safe from any thread: runs on the connection's strand.
  void Close() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->DoClose(); });
  }

 private:
  void DoClose() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
  }

  void Read() {
    if (!socket_.is_open()) return;
    uint64_t seq = ++read_seq_;
    reading_ = true;
    timer_.expires_after(server_->options.read_timeout);
    timer_.async_wait([self = shared_from_this(), seq](boost::system::error_code ec) {
      // The sequence check ignores an expiry that raced with data arriving.
      if (!ec && self->reading_ && seq == self->read_seq_) {
        spdlog::info("MLLP: closing idle connection");
        self->DoClose();
      }
    });
    socket_.async_read_some(asio::buffer(buf_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->reading_ = false;
                              self->timer_.cancel();
                              if (ec) {
                                self->DoClose();
                                return;
                              }
                              self->OnData(std::string_view(self->buf_.data(), n));
                            });
  }

  void OnData(std::string_view data) {
    std::vector<std::string> messages;
    bool close_after = false;
    std::string out;
    try {
      messages = decoder_.Feed(data);
    } catch (const Error& e) {
      spdlog::warn("{}; closing the connection", e.what());
      close_after = true;
    }
    for (const std::string& raw : messages) {
      std::string ack = Handle(raw);
      if (!ack.empty()) out += MllpFrame(ack);  // "" asks for no reply
    }
    if (close_after) {
      out += MllpFrame(BuildAckForRaw("", AckCode::kAR, "message exceeds the MLLP size limit",
                                      {.error_code = 207}));
    }
    if (out.empty()) {
      if (close_after)
        DoClose();
      else
        Read();
      return;
    }
    out_ = std::move(out);
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this(), close_after](boost::system::error_code ec, size_t) {
          if (ec || close_after) {
            self->DoClose();
            return;
          }
          self->Read();
        });
  }

  std::string Handle(const std::string& raw) {
    try {
      return server_->handler(raw);
    } catch (const std::exception& e) {
      spdlog::error("MLLP: handler failed: {}", e.what());
      return BuildAckForRaw(raw, AckCode::kAE, "internal error", {.error_code = 207});
    }
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  MllpServer::Impl* server_;
  MllpDecoder decoder_;
  std::array<char, 65536> buf_{};
  std::string out_;
  uint64_t read_seq_ = 0;
  bool reading_ = false;
};

}  // namespace

void MllpServer::Impl::Accept() {
  acceptor->async_accept(
      asio::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
        if (!ec) {
          std::unique_lock lock(mu);
          if (!running) {  // Stop() has begun: it will not see this connection
            boost::system::error_code ignored;
            socket.close(ignored);
            return;
          }
          if (open_connections.load() >= options.max_connections) {
            spdlog::warn("MLLP: {} connections open; refusing another", options.max_connections);
            boost::system::error_code ignored;
            socket.close(ignored);
          } else {
            auto conn = std::make_shared<Connection>(std::move(socket), this);
            connections.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
            connections.push_back(conn);
            lock.unlock();
            conn->Start();
          }
        }
        Accept();
      });
}

MllpServer::MllpServer(MllpHandler handler, MllpServerOptions options)
    : impl_(std::make_shared<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->options = options;
  if (impl_->options.threads < 1) impl_->options.threads = 1;
}

MllpServer::~MllpServer() { Stop(); }

uint16_t MllpServer::Start(const std::string& host, uint16_t port) {
  std::lock_guard lock(impl_->mu);
  if (impl_->running) throw Error(ErrorCode::kConflict, "MLLP server already started");
  Impl& s = *impl_;
  try {
    tcp::resolver resolver(s.io);
    auto endpoints = resolver.resolve(host, std::to_string(port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service);
    if (endpoints.empty()) throw boost::system::system_error(asio::error::host_not_found);
    tcp::endpoint endpoint = endpoints.begin()->endpoint();
    // On a strand: the accept handler and Stop()'s close never overlap.
    s.acceptor.emplace(asio::make_strand(s.io));
    s.acceptor->open(endpoint.protocol());
    s.acceptor->set_option(tcp::acceptor::reuse_address(true));
    s.acceptor->bind(endpoint);
    s.acceptor->listen();
    s.bound_port = s.acceptor->local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    s.acceptor.reset();
    throw Error(ErrorCode::kUnavailable,
                "MLLP: cannot listen on " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  s.io.restart();
  s.work.emplace(asio::make_work_guard(s.io));
  s.running = true;
  s.Accept();
  for (int i = 0; i < s.options.threads; ++i) {
    s.threads.emplace_back([&s] { s.io.run(); });
  }
  spdlog::info("MLLP: listening on {}:{}", host, s.bound_port.load());
  return s.bound_port;
}

void MllpServer::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    Impl& s = *impl_;
    if (!s.running) return;
    s.running = false;
    asio::post(s.acceptor->get_executor(), [&s] {
      boost::system::error_code ec;
      s.acceptor->close(ec);
    });
    for (auto& w : s.connections) {
      if (auto c = w.lock()) c->Close();
    }
    s.connections.clear();
    s.work.reset();
    threads.swap(s.threads);
  }
  // With the listener and every socket closed, run() returns once the
  // handlers in flight have finished.
  for (auto& t : threads) t.join();
  impl_->acceptor.reset();
}

uint16_t MllpServer::port() const { return impl_->bound_port; }

size_t MllpServer::connections() const { return impl_->open_connections; }

}  // namespace haip::lake::hl7v2
