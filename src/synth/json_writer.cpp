#include "synth/json_writer.h"

#include <charconv>
#include <cmath>

namespace haip::synth {

namespace {

constexpr double kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(buf, 6);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void AppendDecimal(std::string& out, double v, int decimals) {
  if (decimals <= 0) {
    AppendInt(out, std::llround(v));
    return;
  }
  long long scaled = std::llround(v * kPow10[decimals]);
  if (scaled < 0) {
    out += '-';
    scaled = -scaled;
  }
  long long div = static_cast<long long>(kPow10[decimals]);
  AppendInt(out, scaled / div);
  out += '.';
  char frac[8];
  long long rem = scaled % div;
  for (int i = decimals - 1; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + rem % 10);
    rem /= 10;
  }
  out.append(frac, static_cast<size_t>(decimals));
}

void AppendBase64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t old = out.size();
  out.resize(old + (bytes.size() + 2) / 3 * 4);
  char* p = out.data() + old;
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    *p++ = kAlphabet[n >> 18];
    *p++ = kAlphabet[(n >> 12) & 63];
    *p++ = kAlphabet[(n >> 6) & 63];
    *p++ = kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t{in[i]} << 16;
    if (rest == 2) n |= uint32_t{in[i + 1]} << 8;
    *p++ = kAlphabet[n >> 18];
    *p++ = kAlphabet[(n >> 12) & 63];
    *p++ = rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    *p++ = '=';
  }
}

void JsonWriter::PlainString(std::string_view a, std::string_view b, std::string_view c,
                             std::string_view d) {
  Separate();
  out_ += '"';
  out_ += a;
  out_ += b;
  out_ += c;
  out_ += d;
  out_ += '"';
}

}  // namespace haip::synth
