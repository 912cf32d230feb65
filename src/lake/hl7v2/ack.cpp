#include "lake/hl7v2/ack.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/crypto.h"

namespace haip::lake::hl7v2 {
namespace {

// What an ACK copies from the message it answers, already escaped for d.
struct Header {
  Delimiters d;
  std::string sending_app, sending_facility, receiving_app, receiving_facility;
  std::string trigger, control_id, processing_id, version;
};

std::string NowTimestamp() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];  // room for any int values, which keeps -Wformat-truncation quiet
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d+0000", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// Text placed in the ACK is escaped and kept to one line and a sane length,
// since it may echo untrusted input back to the sender.
std::string Clean(std::string_view s, const Delimiters& d, size_t max = 200) {
  std::string t(s.substr(0, max));
  for (char& c : t) {
    if (c == '\r' || c == '\n' || c == '\v' || c == '\x1c') c = ' ';
  }
  return Escape(t, d);
}

std::string Render(const Header& h, AckCode code, std::string_view text, const AckOptions& o) {
  const Delimiters& d = h.d;
  const std::string f(1, d.field);
  std::string enc{d.component, d.repetition, d.escape, d.subcomponent};
  std::string id = o.control_id.empty() ? "ACK" + crypto::RandomToken(12) : Clean(o.control_id, d);
  std::string ts = o.timestamp.empty() ? NowTimestamp() : Clean(o.timestamp, d);
  std::string type = "ACK";
  if (!h.trigger.empty()) type += d.component + h.trigger + d.component + "ACK";
  std::string out = "MSH" + f + enc + f + h.receiving_app + f + h.receiving_facility + f +
                    h.sending_app + f + h.sending_facility + f + ts + f + f + type + f + id + f +
                    (h.processing_id.empty() ? "P" : h.processing_id) + f +
                    (h.version.empty() ? "2.5" : h.version) + "\r";
  out += "MSA" + f + std::string(AckCodeName(code)) + f + h.control_id;
  if (code != AckCode::kAA && !text.empty()) out += f + Clean(text, d, 80);  // MSA-3 (pre-2.4)
  out += "\r";
  if (code != AckCode::kAA) {
    int err = o.error_code != 0 ? o.error_code : (code == AckCode::kAE ? 101 : 102);
    const char* name = err == 101   ? "Required field missing"
                       : err == 102 ? "Data type error"
                       : err == 200 ? "Unsupported message type"
                       : err == 207 ? "Application internal error"
                                    : "Error";
    // ERR-3 error code (table 0357), ERR-4 severity, ERR-8 user message.
    out += "ERR" + f + f + f + std::to_string(err) + d.component + name + d.component + "HL70357" +
           f + "E" + f + f + f + f + Clean(text, d) + "\r";
  }
  return out;
}

// The raw field is already escaped for the delimiters the ACK reuses.
std::string CopyField(const Segment& msh, size_t field) { return std::string(msh.RawField(field)); }

}  // namespace

std::string_view AckCodeName(AckCode code) {
  switch (code) {
    case AckCode::kAA:
      return "AA";
    case AckCode::kAE:
      return "AE";
    case AckCode::kAR:
      return "AR";
  }
  return "AR";
}

std::string BuildAck(const Message& original, AckCode code, std::string_view text,
                     const AckOptions& options) {
  Header h;
  h.d = original.delimiters();
  const Segment& msh = original.segments().front();
  h.sending_app = CopyField(msh, 3);
  h.sending_facility = CopyField(msh, 4);
  h.receiving_app = CopyField(msh, 5);
  h.receiving_facility = CopyField(msh, 6);
  h.trigger = Escape(original.TriggerEvent(), h.d);
  h.control_id = Escape(original.ControlId(), h.d);
  h.processing_id = CopyField(msh, 11);
  h.version = CopyField(msh, 12);
  return Render(h, code, text, options);
}

std::string BuildAckForRaw(std::string_view raw, AckCode code, std::string_view text,
                           const AckOptions& options) {
  Header h;
  // Best effort: if the first line looks like "MSH|^~\&|..." with the
  // standard field separator, pick the addressing fields and MSH-10 out of it.
  size_t msh = raw.find("MSH|");
  if (msh != std::string_view::npos && msh <= 3) {
    std::string_view line = raw.substr(msh);
    line = line.substr(0, line.find_first_of("\r\n"));
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (start <= line.size()) {
      size_t pos = line.find('|', start);
      if (pos == std::string_view::npos) pos = line.size();
      fields.push_back(line.substr(start, pos - start));
      start = pos + 1;
    }
    // fields[0] = "MSH", fields[1] = MSH-2, fields[n-1] = MSH-n.
    auto get = [&](size_t n) {
      return n >= 2 && n - 1 < fields.size() ? Clean(fields[n - 1], h.d, 100) : std::string();
    };
    // Only the first component of each, escaped, so a broken MSH-2 cannot
    // smuggle delimiters into the reply.
    auto first = [&](size_t n) {
      std::string v = n >= 2 && n - 1 < fields.size() ? std::string(fields[n - 1]) : std::string();
      v = v.substr(0, v.find('^'));
      return Clean(v, h.d, 100);
    };
    h.sending_app = first(3);
    h.sending_facility = first(4);
    h.receiving_app = first(5);
    h.receiving_facility = first(6);
    h.control_id = get(10);
    h.processing_id = first(11);
    h.version = first(12);
  }
  return Render(h, code, text, options);
}

}  // namespace haip::lake::hl7v2
