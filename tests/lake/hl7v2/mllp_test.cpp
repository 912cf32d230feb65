#include "lake/hl7v2/mllp.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <thread>

#include "core/error.h"
#include "lake/hl7v2/mapping.h"

namespace haip::lake::hl7v2 {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TEST(Mllp, FrameAndDecode) {
  std::string frame = MllpFrame("MSH|x");
  EXPECT_EQ(frame, std::string("\x0BMSH|x\x1C\x0D"));
  MllpDecoder d;
  auto out = d.Feed(frame);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "MSH|x");
  EXPECT_FALSE(d.InFrame());
}

TEST(Mllp, SplitReadsAtEveryByte) {
  std::string stream = MllpFrame("first") + "\r\n" + MllpFrame("second");
  MllpDecoder d;
  std::vector<std::string> got;
  for (char c : stream) {
    for (auto& m : d.Feed(std::string_view(&c, 1))) got.push_back(m);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "first");
  EXPECT_EQ(got[1], "second");
}

TEST(Mllp, SeveralMessagesInOneRead) {
  MllpDecoder d;
  auto got = d.Feed(MllpFrame("a") + MllpFrame("b") + MllpFrame("c") + "\x0Bpart");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], "c");
  EXPECT_TRUE(d.InFrame());
  EXPECT_EQ(d.Buffered(), 4u);
  got = d.Feed("ial\x1C");
  EXPECT_TRUE(got.empty());  // end byte seen, trailer not yet
  got = d.Feed("\x0D");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "partial");
}

TEST(Mllp, ToleratesNoiseAndRestarts) {
  MllpDecoder d;
  auto got =
      d.Feed(std::string("noise\x0B"
                         "abandoned\x0B"
                         "kept\x1C\x0D"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "kept");
  // End byte without the trailing CR, directly followed by the next frame.
  got = d.Feed(std::string("\x0Bone\x1C\x0Btwo\x1C\x0D"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "one");
  EXPECT_EQ(got[1], "two");
}

TEST(Mllp, MaxMessageSize) {
  MllpDecoder d(8);
  EXPECT_NO_THROW(d.Feed(MllpFrame("12345678")));
  try {
    d.Feed(
        "\x0B"
        "123456789");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kPayloadTooLarge);
  }
  EXPECT_FALSE(d.InFrame());
}

// Reads framed replies until n have arrived.
std::vector<std::string> ReadAcks(tcp::socket& s, size_t n) {
  MllpDecoder d;
  std::vector<std::string> out;
  std::array<char, 4096> buf{};
  while (out.size() < n) {
    size_t got = s.read_some(asio::buffer(buf));
    for (auto& m : d.Feed(std::string_view(buf.data(), got))) out.push_back(m);
  }
  return out;
}

MllpHandler MappingHandler(std::atomic<int>& calls) {
  return [&calls](const std::string& raw) {
    ++calls;
    return AckFor(raw, MapRawToFhir(raw));
  };
}

TEST(MllpServer, TwoMessagesOnOneConnectionAndAReject) {
  std::atomic<int> calls{0};
  MllpServer server(MappingHandler(calls));
  uint16_t port = server.Start("127.0.0.1", 0);
  ASSERT_NE(port, 0);
  EXPECT_EQ(server.port(), port);

  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::string m1 = "MSH|^~\\&|A|F|B|G|20240101||ADT^A01|C1|P|2.5\rPID|1||1^^^H^MR\rPV1|1|I\r";
  std::string m2 = "MSH|^~\\&|A|F|B|G|20240101||SIU^S12|C2|P|2.5\rSCH|1\r";
  // Both in one write, the second split mid-frame across two writes.
  std::string bytes = MllpFrame(m1) + MllpFrame(m2);
  asio::write(s, asio::buffer(bytes.substr(0, bytes.size() - 5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  asio::write(s, asio::buffer(bytes.substr(bytes.size() - 5)));
  auto acks = ReadAcks(s, 2);
  Message a1 = Message::Parse(acks[0]);
  Message a2 = Message::Parse(acks[1]);
  EXPECT_EQ(a1.Get("MSA", 1), "AA");
  EXPECT_EQ(a1.Get("MSA", 2), "C1");
  EXPECT_EQ(a2.Get("MSA", 1), "AA");
  EXPECT_EQ(a2.Get("MSA", 2), "C2");

  asio::write(s, asio::buffer(MllpFrame("this is not HL7")));
  Message a3 = Message::Parse(ReadAcks(s, 1)[0]);
  EXPECT_EQ(a3.Get("MSA", 1), "AR");
  EXPECT_NE(a3.Get("ERR", 8).find("no MSH segment"), std::string::npos);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(server.connections(), 1u);
  s.close();
  server.Stop();
  server.Stop();  // idempotent
}

TEST(MllpServer, HandlerExceptionGetsAnAe) {
  MllpServer server([](const std::string&) -> std::string { throw std::runtime_error("boom"); });
  uint16_t port = server.Start("127.0.0.1", 0);
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(MllpFrame("MSH|^~\\&|A|F|B|G|t||ADT^A01|C5|P|2.5\r")));
  Message ack = Message::Parse(ReadAcks(s, 1)[0]);
  EXPECT_EQ(ack.Get("MSA", 1), "AE");
  EXPECT_EQ(ack.Get("MSA", 2), "C5");
}

TEST(MllpServer, OversizedMessageIsRejectedAndClosed) {
  MllpServer server([](const std::string& raw) { return AckFor(raw, MapRawToFhir(raw)); },
                    {.max_message_size = 64});
  uint16_t port = server.Start("127.0.0.1", 0);
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(MllpFrame(std::string(200, 'x'))));
  Message ack = Message::Parse(ReadAcks(s, 1)[0]);
  EXPECT_EQ(ack.Get("MSA", 1), "AR");
  std::array<char, 16> buf{};
  boost::system::error_code ec;
  s.read_some(asio::buffer(buf), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST(MllpServer, IdleConnectionTimesOut) {
  MllpServer server([](const std::string&) { return std::string(); },
                    {.read_timeout = std::chrono::milliseconds(100)});
  uint16_t port = server.Start("127.0.0.1", 0);
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::array<char, 16> buf{};
  boost::system::error_code ec;
  s.read_some(asio::buffer(buf), ec);  // returns when the server closes
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST(MllpServer, StartTwiceAndBadAddress) {
  MllpServer server([](const std::string&) { return std::string(); });
  server.Start("127.0.0.1", 0);
  EXPECT_THROW(server.Start("127.0.0.1", 0), Error);
  server.Stop();
  MllpServer other([](const std::string&) { return std::string(); });
  try {
    other.Start("203.0.113.77", 1);  // not a local address
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  }
  // Restart after Stop works.
  EXPECT_NE(server.Start("127.0.0.1", 0), 0);
}

}  // namespace
}  // namespace haip::lake::hl7v2
