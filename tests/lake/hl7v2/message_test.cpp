#include "lake/hl7v2/message.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace haip::lake::hl7v2 {
namespace {

constexpr const char* kAdt =
    "MSH|^~\\&|SEND|FAC^1.2.3^ISO|RECV|RFAC|20240102030405+0800||ADT^A01^ADT_A01|CTRL1|P|2.5\r"
    "EVN|A01|20240102030405\r"
    "PID|1||123^^^HOSP^MR~456^^^NATION^SS||Zhang^San^^^^^L~Li^Si||19800101|M\r"
    "PV1|1|I|W1^101^2\r";

TEST(Hl7Message, ParsesFieldsComponentsRepetitions) {
  Message m = Message::Parse(kAdt);
  ASSERT_EQ(m.segments().size(), 4u);
  EXPECT_EQ(m.MessageType(), "ADT");
  EXPECT_EQ(m.TriggerEvent(), "A01");
  EXPECT_EQ(m.ControlId(), "CTRL1");
  EXPECT_EQ(m.Version(), "2.5");
  EXPECT_EQ(m.Get("PID", 3, 1, 1), "123");
  EXPECT_EQ(m.Get("PID", 3, 1, 4), "HOSP");
  EXPECT_EQ(m.Get("PID", 3, 2, 1), "456");
  EXPECT_EQ(m.Get("PID", 3, 2, 5), "SS");
  EXPECT_EQ(m.Get("PID", 3, 3, 1), "");
  EXPECT_EQ(m.Get("PID", 5, 2, 2), "Si");
  EXPECT_EQ(m.Get("PID", 99), "");
  EXPECT_EQ(m.Get("ZZZ", 1), "");
  const Segment* pid = m.First("PID");
  ASSERT_NE(pid, nullptr);
  EXPECT_EQ(pid->RepetitionCount(3), 2u);
  EXPECT_EQ(pid->ComponentCount(3, 1), 5u);
  EXPECT_EQ(pid->FieldCount(), 8u);
  EXPECT_EQ(pid->id(), "PID");
}

TEST(Hl7Message, MshNumbering) {
  Message m = Message::Parse(kAdt);
  EXPECT_EQ(m.Get("MSH", 1), "|");
  EXPECT_EQ(m.Get("MSH", 2), "^~\\&");
  EXPECT_EQ(m.Get("MSH", 3), "SEND");
  EXPECT_EQ(m.Get("MSH", 4, 1, 2), "1.2.3");
  EXPECT_EQ(m.Get("MSH", 7), "20240102030405+0800");
  EXPECT_EQ(m.Get("MSH", 9, 1, 3), "ADT_A01");
  EXPECT_EQ(m.Get("MSH", 2, 1, 2), "");
}

TEST(Hl7Message, SubComponents) {
  Message m = Message::Parse("MSH|^~\\&|A|B\rPID|1||7^^^AUTH&1.2.840&ISO^MR\r");
  EXPECT_EQ(m.Get("PID", 3, 1, 4), "AUTH");
  EXPECT_EQ(m.Get("PID", 3, 1, 4, 2), "1.2.840");
  EXPECT_EQ(m.Get("PID", 3, 1, 4, 3), "ISO");
  EXPECT_EQ(m.Get("PID", 3, 1, 4, 4), "");
}

TEST(Hl7Message, EscapeSequences) {
  Message m = Message::Parse(
      "MSH|^~\\&|A|B\r"
      "NTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f|x\\X0D0A\\y|l1\\.br\\l2|\\H\\bold\\N\\|\\Zlocal\\k|c:"
      "\\temp\\x|tail\\\r");
  EXPECT_EQ(m.Get("NTE", 3), "a|b^c&d~e\\f");
  EXPECT_EQ(m.Get("NTE", 4), "x\r\ny");
  EXPECT_EQ(m.Get("NTE", 5), "l1\nl2");
  EXPECT_EQ(m.Get("NTE", 6), "bold");
  EXPECT_EQ(m.Get("NTE", 7), "k");
  EXPECT_EQ(m.Get("NTE", 8), "c:\\temp\\x");  // unknown escape kept
  EXPECT_EQ(m.Get("NTE", 9), "tail\\");       // unterminated kept
  // An escaped delimiter never splits.
  EXPECT_EQ(m.First("NTE")->ComponentCount(3), 1u);
}

TEST(Hl7Message, EscapeRoundTrip) {
  Delimiters d;
  std::string text = "a|b^c&d~e\\f\r\ng";
  EXPECT_EQ(Unescape(Escape(text, d), d), text);
  EXPECT_EQ(Escape("x|y", d), "x\\F\\y");
}

TEST(Hl7Message, OtherDelimiters) {
  Message m =
      Message::Parse("MSH#$*@%#APP#FAC\nPID#1##9$$$AU%1.2%ISO$MR*8##Wang$Wu\nNTE#1##x@F@y@S@z\n");
  EXPECT_EQ(m.delimiters().field, '#');
  EXPECT_EQ(m.delimiters().component, '$');
  EXPECT_EQ(m.delimiters().repetition, '*');
  EXPECT_EQ(m.delimiters().escape, '@');
  EXPECT_EQ(m.delimiters().subcomponent, '%');
  EXPECT_EQ(m.Get("MSH", 1), "#");
  EXPECT_EQ(m.Get("MSH", 3), "APP");
  EXPECT_EQ(m.Get("PID", 3, 1, 1), "9");
  EXPECT_EQ(m.Get("PID", 3, 1, 4, 2), "1.2");
  EXPECT_EQ(m.Get("PID", 3, 2, 1), "8");
  EXPECT_EQ(m.Get("PID", 5, 1, 2), "Wu");
  EXPECT_EQ(m.Get("NTE", 3), "x#y$z");
}

TEST(Hl7Message, BomTerminatorsAndBlankLines) {
  for (std::string sep : {"\r", "\n", "\r\n"}) {
    std::string raw =
        "\xEF\xBB\xBFMSH|^~\\&|A|B" + sep + "PID|1||42" + sep + sep + "ZXY|custom" + sep + sep;
    Message m = Message::Parse(raw);
    ASSERT_EQ(m.segments().size(), 3u) << sep.size();
    EXPECT_EQ(m.Get("PID", 3), "42");
    EXPECT_EQ(m.Get("ZXY", 1), "custom");  // Z-segments kept
    EXPECT_EQ(m.raw(), raw);
  }
}

TEST(Hl7Message, TruncationCharacterAccepted) {
  Message m = Message::Parse("MSH|^~\\&#|A\r");
  EXPECT_EQ(m.Get("MSH", 2), "^~\\&#");
  EXPECT_EQ(m.Get("MSH", 3), "A");
}

void ExpectError(const std::string& raw, const std::string& fragment) {
  try {
    Message::Parse(raw);
    FAIL() << "no error for " << raw;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadRequest);
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Hl7Message, ClearErrors) {
  ExpectError("", "no MSH segment");
  ExpectError("\r\n\r\n", "no MSH segment");
  ExpectError("PID|1||2\rMSH|^~\\&\r", "no MSH segment");
  ExpectError("garbage \x01\x02", "no MSH segment");
  ExpectError("MSH", "MSH-1 field separator missing");
  ExpectError("MSH|", "MSH-2 encoding characters missing");
  ExpectError("MSH||A|B", "MSH-2 encoding characters missing");
  ExpectError("MSH|^~|A", "MSH-2 encoding characters incomplete");
  ExpectError("MSH|^^\\&|A", "MSH-2 encoding characters invalid");
  ExpectError("MSH|^~\\&|A\rP D|1", "segment 2: invalid segment id");
  ExpectError("MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B", "second MSH");
  ExpectError("MSHA^~\\&|", "MSH-1 field separator");
}

TEST(Hl7Message, SplitMessages) {
  std::string text =
      "\xEF\xBB\xBF"
      "FHS|^~\\&\nBHS|^~\\&\nMSH|^~\\&|A|1\nPID|1\n\nMSH|^~\\&|A|2\r\nPID|2\r\nBTS|2\nFTS|1\n";
  auto messages = SplitMessages(text);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], "MSH|^~\\&|A|1\nPID|1\n\n");
  EXPECT_EQ(messages[1], "MSH|^~\\&|A|2\r\nPID|2\r\n");
  EXPECT_EQ(Message::Parse(messages[1]).Get("MSH", 4), "2");
  auto junk = SplitMessages("junk\nMSH|^~\\&|A\n");
  ASSERT_EQ(junk.size(), 2u);
  EXPECT_EQ(junk[0], "junk\n");
}

}  // namespace
}  // namespace haip::lake::hl7v2
