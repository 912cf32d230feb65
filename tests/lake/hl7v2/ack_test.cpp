#include "lake/hl7v2/ack.h"

#include <gtest/gtest.h>

namespace haip::lake::hl7v2 {
namespace {

constexpr const char* kOrig =
    "MSH|^~\\&|LIS|LAB^1.2.3^ISO|HAIP|HOSP|20240102030405||ORU^R01^ORU_R01|MSG42|P|2.5.1\r"
    "PID|1||7\r";

TEST(Hl7Ack, AcceptSwapsSenderAndReceiver) {
  std::string ack = BuildAck(Message::Parse(kOrig), AckCode::kAA, {},
                             {.control_id = "ACK1", .timestamp = "20240102030406+0000"});
  EXPECT_EQ(ack,
            "MSH|^~\\&|HAIP|HOSP|LIS|LAB^1.2.3^ISO|20240102030406+0000||ACK^R01^ACK|ACK1|P|2.5.1\r"
            "MSA|AA|MSG42\r");
  Message m = Message::Parse(ack);
  EXPECT_EQ(m.Get("MSA", 1), "AA");
  EXPECT_EQ(m.Get("MSA", 2), "MSG42");
  EXPECT_EQ(m.First("ERR"), nullptr);
}

TEST(Hl7Ack, ErrorCarriesEscapedText) {
  std::string ack = BuildAck(Message::Parse(kOrig), AckCode::kAE, "PID-3 missing | bad\nline");
  Message m = Message::Parse(ack);
  EXPECT_EQ(m.Get("MSA", 1), "AE");
  EXPECT_EQ(m.Get("MSA", 2), "MSG42");
  EXPECT_EQ(m.Get("ERR", 3, 1, 1), "101");
  EXPECT_EQ(m.Get("ERR", 4), "E");
  EXPECT_EQ(m.Get("ERR", 8), "PID-3 missing | bad line");
  EXPECT_EQ(m.Version(), "2.5.1");
  EXPECT_NE(m.ControlId(), "MSG42");
  EXPECT_FALSE(m.ControlId().empty());
  EXPECT_EQ(m.Get("MSH", 7).size(), 19u);  // YYYYMMDDHHMMSS+0000
}

TEST(Hl7Ack, FreshControlIds) {
  Message orig = Message::Parse(kOrig);
  EXPECT_NE(Message::Parse(BuildAck(orig, AckCode::kAA)).ControlId(),
            Message::Parse(BuildAck(orig, AckCode::kAA)).ControlId());
}

TEST(Hl7Ack, KeepsTheSendersDelimiters) {
  std::string ack = BuildAck(Message::Parse("MSH#$*@%#APP#FAC#ME#HERE##x#ADT$A01#C9#P#2.4\r"),
                             AckCode::kAR, "no#good");
  EXPECT_EQ(ack.substr(0, 9), "MSH#$*@%#");
  Message m = Message::Parse(ack);
  EXPECT_EQ(m.Get("MSH", 3), "ME");
  EXPECT_EQ(m.Get("MSH", 5), "APP");
  EXPECT_EQ(m.Get("MSA", 1), "AR");
  EXPECT_EQ(m.Get("MSA", 2), "C9");
  EXPECT_EQ(m.Get("ERR", 8), "no#good");
}

TEST(Hl7Ack, ForUnparseableInput) {
  Message m = Message::Parse(BuildAckForRaw("\x01\x02garbage", AckCode::kAR, "no MSH segment"));
  EXPECT_EQ(m.Get("MSA", 1), "AR");
  EXPECT_EQ(m.Get("MSA", 2), "");
  EXPECT_EQ(m.Get("ERR", 3, 1, 1), "102");
  // A broken MSH still yields its control id.
  Message m2 =
      Message::Parse(BuildAckForRaw("MSH|^~|A|B|C|D|t||ADT^A01|C77|P|2.3\r", AckCode::kAR, "bad"));
  EXPECT_EQ(m2.Get("MSA", 2), "C77");
  EXPECT_EQ(m2.Get("MSH", 3), "C");
  EXPECT_EQ(m2.Version(), "2.3");
}

}  // namespace
}  // namespace haip::lake::hl7v2
