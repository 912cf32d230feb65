#include "lake/hl7v2/message.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace haip::lake::hl7v2 {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

[[noreturn]] void Fail(std::string message) {
  throw Error(ErrorCode::kBadRequest, "HL7 v2: " + std::move(message));
}

// Shows untrusted bytes in an error message: printable ASCII kept, the rest
// as \xHH, cut to a few characters so a binary blob cannot flood the log.
std::string Printable(std::string_view s, size_t max = 12) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// The n-th (1-based) piece of s split on sep; "" when there are fewer.
std::string_view Piece(std::string_view s, char sep, size_t n) {
  if (n == 0) return {};
  size_t start = 0;
  for (size_t i = 1; i < n; ++i) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) return {};
    start = pos + 1;
  }
  size_t end = s.find(sep, start);
  return s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

size_t PieceCount(std::string_view s, char sep) {
  if (s.empty()) return 0;
  return static_cast<size_t>(std::count(s.begin(), s.end(), sep)) + 1;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// A delimiter must not be a letter, digit, whitespace or control character,
// or it could not be told apart from data.
bool ValidDelimiter(char ch) {
  auto c = static_cast<unsigned char>(ch);
  return c > 0x20 && c < 0x7F && !std::isalnum(c);
}

bool ValidSegmentId(std::string_view id) {
  if (id.size() != 3) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct Line {
  size_t begin;  // offset in the text
  size_t end;    // offset just past the line's content (before its terminator)
  size_t next;   // offset of the following line
};

// Lines split on CR, LF or CRLF.
std::vector<Line> Lines(std::string_view text, size_t from) {
  std::vector<Line> out;
  size_t i = from;
  while (i < text.size()) {
    size_t end = text.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      out.push_back({i, text.size(), text.size()});
      break;
    }
    size_t next = end + 1;
    if (text[end] == '\r' && next < text.size() && text[next] == '\n') ++next;
    out.push_back({i, end, next});
    i = next;
  }
  return out;
}

bool Blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// MSH-1 and MSH-2 hold delimiters themselves, so they are never split.
bool IsMshHeaderField(const std::string& id, size_t field) {
  return id == "MSH" && (field == 1 || field == 2);
}

}  // namespace

Segment::Segment(std::vector<std::string> raw_fields, const Delimiters& delimiters)
    : fields_(std::move(raw_fields)), delimiters_(delimiters) {
  if (fields_.empty()) fields_.emplace_back();
}

std::string_view Segment::RawField(size_t n) const {
  return n < fields_.size() ? std::string_view(fields_[n]) : std::string_view();
}

size_t Segment::RepetitionCount(size_t field) const {
  if (IsMshHeaderField(id(), field)) return 1;
  return PieceCount(RawField(field), delimiters_.repetition);
}

size_t Segment::ComponentCount(size_t field, size_t rep) const {
  if (IsMshHeaderField(id(), field)) return rep == 1 ? 1 : 0;
  return PieceCount(Piece(RawField(field), delimiters_.repetition, rep), delimiters_.component);
}

std::string Segment::Get(size_t field, size_t rep, size_t comp, size_t sub) const {
  if (field == 0 || IsMshHeaderField(id(), field)) {
    return rep == 1 && comp == 1 && sub == 1 ? std::string(RawField(field)) : std::string();
  }
  std::string_view v = Piece(RawField(field), delimiters_.repetition, rep);
  v = Piece(v, delimiters_.component, comp);
  v = Piece(v, delimiters_.subcomponent, sub);
  return Unescape(v, delimiters_);
}

std::string Segment::GetRepetitionText(size_t field, size_t rep) const {
  if (IsMshHeaderField(id(), field)) return rep == 1 ? std::string(RawField(field)) : std::string();
  return Unescape(Piece(RawField(field), delimiters_.repetition, rep), delimiters_);
}

Message Message::Parse(std::string_view raw) {
  Message msg;
  msg.raw_ = std::string(raw);
  std::string_view text = msg.raw_;
  size_t from = text.substr(0, kBom.size()) == kBom ? kBom.size() : 0;

  std::vector<Line> lines = Lines(text, from);
  std::erase_if(lines, [&](const Line& l) { return Blank(text.substr(l.begin, l.end - l.begin)); });
  if (lines.empty()) Fail("no MSH segment: the message is empty");

  std::string_view msh = text.substr(lines[0].begin, lines[0].end - lines[0].begin);
  if (msh.substr(0, 3) != "MSH") {
    Fail("no MSH segment: the message starts with '" + Printable(msh) + "'");
  }
  if (msh.size() < 4) Fail("MSH-1 field separator missing");
  Delimiters& d = msg.delimiters_;
  d.field = msh[3];
  if (!ValidDelimiter(d.field)) {
    Fail("MSH-1 field separator '" + Printable(msh.substr(3, 1)) + "' is not a valid delimiter");
  }
  size_t enc_end = msh.find(d.field, 4);
  std::string_view enc =
      msh.substr(4, enc_end == std::string_view::npos ? std::string_view::npos : enc_end - 4);
  if (enc.empty()) Fail("MSH-2 encoding characters missing");
  if (enc.size() < 4) {
    Fail("MSH-2 encoding characters incomplete: '" + Printable(enc) +
         "' (expected 4: component, repetition, escape, subcomponent)");
  }
  if (enc.size() > 5)
    Fail("MSH-2 encoding characters invalid: '" + Printable(enc) + "' (more than 5)");
  std::string seen(1, d.field);
  for (char c : enc) {
    if (!ValidDelimiter(c) || seen.find(c) != std::string::npos) {
      Fail("MSH-2 encoding characters invalid: '" + Printable(enc) +
           "' (each must be a distinct punctuation character other than the field separator)");
    }
    seen += c;
  }
  // A fifth character (the v2.7 truncation character) is accepted and ignored.
  d.component = enc[0];
  d.repetition = enc[1];
  d.escape = enc[2];
  d.subcomponent = enc[3];

  msg.segments_.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = text.substr(lines[i].begin, lines[i].end - lines[i].begin);
    std::vector<std::string> fields;
    if (i == 0) {
      fields.emplace_back("MSH");
      fields.emplace_back(1, d.field);
      std::vector<std::string> rest = Split(line.substr(4), d.field);
      for (auto& f : rest) fields.push_back(std::move(f));
    } else {
      fields = Split(line, d.field);
      if (!ValidSegmentId(fields[0])) {
        Fail("segment " + std::to_string(i + 1) + ": invalid segment id '" + Printable(fields[0]) +
             "'");
      }
      if (fields[0] == "MSH") {
        Fail("segment " + std::to_string(i + 1) +
             ": a second MSH segment; send one message at a time");
      }
    }
    // Trailing empty fields carry nothing; dropping them keeps FieldCount()
    // meaningful for senders that pad segments with separators.
    while (fields.size() > 1 && fields.back().empty()) fields.pop_back();
    msg.segments_.emplace_back(std::move(fields), d);
  }
  return msg;
}

std::vector<const Segment*> Message::SegmentsNamed(std::string_view id) const {
  std::vector<const Segment*> out;
  for (const auto& s : segments_) {
    if (s.id() == id) out.push_back(&s);
  }
  return out;
}

const Segment* Message::First(std::string_view id) const {
  for (const auto& s : segments_) {
    if (s.id() == id) return &s;
  }
  return nullptr;
}

std::string Message::Get(std::string_view seg, size_t field, size_t rep, size_t comp,
                         size_t sub) const {
  const Segment* s = First(seg);
  return s ? s->Get(field, rep, comp, sub) : std::string();
}

std::string Unescape(std::string_view text, const Delimiters& d) {
  if (text.find(d.escape) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != d.escape) {
      out += c;
      ++i;
      continue;
    }
    size_t close = text.find(d.escape, i + 1);
    if (close == std::string_view::npos) {  // unterminated: keep literally
      out.append(text.substr(i));
      break;
    }
    std::string_view body = text.substr(i + 1, close - i - 1);
    std::string_view whole = text.substr(i, close - i + 1);
    i = close + 1;
    if (body.size() == 1) {
      switch (body[0]) {
        case 'F':
          out += d.field;
          continue;
        case 'S':
          out += d.component;
          continue;
        case 'T':
          out += d.subcomponent;
          continue;
        case 'R':
          out += d.repetition;
          continue;
        case 'E':
          out += d.escape;
          continue;
        case 'H':  // start/end highlighting: formatting only
        case 'N':
          continue;
        default:
          break;
      }
    }
    if (!body.empty() && body[0] == 'X' && body.size() % 2 == 1 && body.size() > 1) {
      std::string bytes;
      bool ok = true;
      for (size_t k = 1; k + 1 < body.size(); k += 2) {
        int hi = HexValue(body[k]);
        int lo = HexValue(body[k + 1]);
        if (hi < 0 || lo < 0) {
          ok = false;
          break;
        }
        bytes += static_cast<char>(hi * 16 + lo);
      }
      if (ok) {
        out += bytes;
        continue;
      }
    }
    if (!body.empty() && body[0] == '.') {  // formatted-text commands
      if (body.substr(0, 3) == ".br" || body.substr(0, 3) == ".sp") out += '\n';
      continue;
    }
    if (!body.empty() && (body[0] == 'C' || body[0] == 'M' || body[0] == 'Z')) {
      continue;  // character-set switches and local escapes carry no text
    }
    out.append(whole);  // unknown: keep so nothing is lost
  }
  return out;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == d.escape) {
      out += d.escape;
      out += 'E';
      out += d.escape;
    } else if (c == d.field) {
      out += d.escape;
      out += 'F';
      out += d.escape;
    } else if (c == d.component) {
      out += d.escape;
      out += 'S';
      out += d.escape;
    } else if (c == d.subcomponent) {
      out += d.escape;
      out += 'T';
      out += d.escape;
    } else if (c == d.repetition) {
      out += d.escape;
      out += 'R';
      out += d.escape;
    } else if (c == '\r') {
      out += d.escape;
      out += "X0D";
      out += d.escape;
    } else if (c == '\n') {
      out += d.escape;
      out += "X0A";
      out += d.escape;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> SplitMessages(std::string_view text) {
  size_t from = text.substr(0, kBom.size()) == kBom ? kBom.size() : 0;
  std::vector<std::string> out;
  bool open = false;  // a message (or leading text) is being collected
  size_t begin = 0;
  size_t end = 0;
  auto close = [&] {
    if (open) out.emplace_back(text.substr(begin, end - begin));
    open = false;
  };
  for (const Line& l : Lines(text, from)) {
    std::string_view line = text.substr(l.begin, l.end - l.begin);
    if (Blank(line)) {
      if (open) end = l.next;
      continue;
    }
    std::string_view id = line.substr(0, 3);
    if (id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS") {
      close();
      continue;
    }
    if (id == "MSH") {
      close();
    }
    if (!open) {
      open = true;
      begin = l.begin;
    }
    end = l.next;
  }
  close();
  return out;
}

}  // namespace haip::lake::hl7v2
