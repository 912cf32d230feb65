// MLLP (Minimal Lower Layer Protocol): each HL7 message travels as
// 0x0B <message> 0x1C 0x0D over TCP. The codec is independent of sockets so
// it can be tested and fuzzed alone; MllpServer runs it on Boost.Asio.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>  // also for Boost 1.74 Asio in mllp.cpp, which uses std::exchange unincluded
#include <vector>

namespace haip::lake::hl7v2 {

inline constexpr char kMllpStart = '\x0B';
inline constexpr char kMllpEnd = '\x1C';
inline constexpr char kMllpTrailer = '\x0D';

// Wraps one message in an MLLP frame.
std::string MllpFrame(std::string_view message);

// Reassembles frames from a byte stream read in arbitrary pieces: one read may
// end inside a frame (even between 0x1C and 0x0D) or hold several frames.
// Bytes between frames are ignored (senders pad with newlines); a start byte
// inside a frame restarts it (the sender gave up on the previous one); a 0x1C
// not followed by 0x0D still ends the frame.
class MllpDecoder {
 public:
  explicit MllpDecoder(size_t max_message_size = 16 * 1024 * 1024);
  // Feeds bytes and returns the messages completed by them, in order. Throws
  // Error(kPayloadTooLarge) when a frame grows beyond max_message_size; the
  // decoder is then reset and the connection should be closed.
  std::vector<std::string> Feed(std::string_view bytes);
  // True while a frame has started and not ended.
  bool InFrame() const { return state_ != State::kIdle; }
  // Bytes of the unfinished frame.
  size_t Buffered() const { return buffer_.size(); }

 private:
  enum class State { kIdle, kInFrame, kSawEnd };
  size_t max_;
  State state_ = State::kIdle;
  std::string buffer_;
};

// Called once per received message with its bytes (no framing); returns the
// ACK to send back (framed by the server), or "" to send nothing. Runs on a
// server I/O thread; an exception from it is logged and answered with an AE
// ACK, and the connection stays open.
using MllpHandler = std::function<std::string(const std::string& raw)>;

struct MllpServerOptions {
  size_t max_message_size = 16 * 1024 * 1024;  // larger frames: AR, then close
  // A connection that sends nothing for this long is closed.
  std::chrono::milliseconds read_timeout{std::chrono::minutes(5)};
  int threads = 2;               // I/O threads calling the handler
  size_t max_connections = 256;  // more are accepted and closed at once
};

class MllpServer {
 public:
  explicit MllpServer(MllpHandler handler, MllpServerOptions options = {});
  ~MllpServer();  // Stop()s
  MllpServer(const MllpServer&) = delete;
  MllpServer& operator=(const MllpServer&) = delete;

  // Binds host:port (port 0: any free port) and starts accepting on the
  // server's own io_context and threads. Returns the bound port. Throws
  // Error(kUnavailable) when the address cannot be bound, Error(kConflict)
  // when already started.
  uint16_t Start(const std::string& host, uint16_t port);
  // Closes the listener and every connection and joins the threads. A
  // message whose handler is running finishes first. Idempotent.
  void Stop();
  uint16_t port() const;
  // Connections open now.
  size_t connections() const;

  struct Impl;  // opaque: the Asio state lives in mllp.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace haip::lake::hl7v2
