// HL7 v2 messages in ER7 (pipe-and-hat) encoding: parsing, field access in
// HL7's own 1-based terms, and escaping.
//
// A Message keeps the raw bytes it was parsed from (raw()), so mapping can
// link every resource it produces back to the original message by hash.
// Field text is stored still escaped and split on access, so delimiters that
// appear escaped (\F\, \S\, ...) never split a value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace haip::lake::hl7v2 {

// The five delimiters announced by MSH-1 and MSH-2.
struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

// One segment. Field numbers are HL7's: field 0 is the segment id, field 1 the
// first field after it. In MSH, field 1 is the field separator itself and
// field 2 the encoding characters, both returned verbatim.
class Segment {
 public:
  Segment(std::vector<std::string> raw_fields, const Delimiters& delimiters);

  const std::string& id() const { return fields_[0]; }
  // The highest field number present (0 for a segment with no fields).
  size_t FieldCount() const { return fields_.size() - 1; }
  // The escaped text of field n, "" when absent.
  std::string_view RawField(size_t n) const;
  // Number of repetitions of field n (0 when empty or absent).
  size_t RepetitionCount(size_t field) const;
  // Number of components in repetition rep of field (0 when empty or absent).
  size_t ComponentCount(size_t field, size_t rep = 1) const;
  // The unescaped value at field/rep/comp/sub (all 1-based); "" when absent.
  std::string Get(size_t field, size_t rep = 1, size_t comp = 1, size_t sub = 1) const;
  // The unescaped text of one whole repetition, its delimiters left in place
  // (escapes that stand for delimiters are decoded too, so use it for display
  // only).
  std::string GetRepetitionText(size_t field, size_t rep = 1) const;

 private:
  std::vector<std::string> fields_;
  Delimiters delimiters_;
};

class Message {
 public:
  // Parses one message. Accepts a UTF-8 BOM, CR, LF or CRLF segment
  // terminators, blank lines, Z-segments and any delimiters MSH announces.
  // Throws Error(kBadRequest) naming the problem ("no MSH segment",
  // "MSH-2 encoding characters missing", "segment 3: invalid segment id").
  static Message Parse(std::string_view raw);

  const std::string& raw() const { return raw_; }
  const Delimiters& delimiters() const { return delimiters_; }
  const std::vector<Segment>& segments() const { return segments_; }
  // Segments with the given id, in message order.
  std::vector<const Segment*> SegmentsNamed(std::string_view id) const;
  // The first segment with the given id, or nullptr.
  const Segment* First(std::string_view id) const;
  // Get() on the first segment named seg; "" when there is none.
  std::string Get(std::string_view seg, size_t field, size_t rep = 1, size_t comp = 1,
                  size_t sub = 1) const;

  std::string MessageType() const { return Get("MSH", 9, 1, 1); }   // "ADT"
  std::string TriggerEvent() const { return Get("MSH", 9, 1, 2); }  // "A01"
  std::string ControlId() const { return Get("MSH", 10); }
  std::string Version() const { return Get("MSH", 12); }

 private:
  Message() = default;

  std::string raw_;
  Delimiters delimiters_;
  std::vector<Segment> segments_;
};

// Decodes HL7 escape sequences: \F\ \S\ \T\ \R\ \E\, \Xhh..\ (bytes in hex),
// \.br\ and \.sp\ (line break). Formatting and character-set escapes (\H\, \N\,
// \.in\, \Cxxyy\, \Mxxyyzz\, \Zxx\, ...) are dropped; an escape character with
// no closing one is kept literally.
std::string Unescape(std::string_view text, const Delimiters& d);
// Escapes the delimiters and the escape character; CR and LF become \X0D\ and
// \X0A\ so the value stays inside one segment.
std::string Escape(std::string_view text, const Delimiters& d);

// Splits a file or stream that holds several messages one after another (each
// starting with an MSH segment; FHS/BHS/BTS/FTS batch envelopes are dropped)
// into one string per message. Text before the first MSH is returned as its
// own element so the caller can reject it rather than lose it silently.
std::vector<std::string> SplitMessages(std::string_view text);

}  // namespace haip::lake::hl7v2
