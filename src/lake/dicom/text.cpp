#include "lake/dicom/text.h"

#include <algorithm>
#include <vector>

#include "core/crypto.h"

namespace haip::lake::dicom {

std::string Utf8Trimmed(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool valid = len != 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (valid) {
      // Reject overlong encodings, surrogates and code points above U+10FFFF.
      uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      valid = !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF);
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  auto pad = [](char c) { return c == ' ' || c == '\0'; };
  while (!out.empty() && pad(out.back())) out.pop_back();
  size_t start = 0;
  while (start < out.size() && pad(out[start])) ++start;
  return out.substr(start);
}

std::optional<int32_t> ParseDicomInt(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (auto bs = s.find('\\'); bs != std::string_view::npos) s = s.substr(0, bs);  // first of VM > 1
  if (s.empty() || s.size() > 12) return std::nullopt;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (negative) v = -v;
  if (v < INT32_MIN || v > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(v);
}

bool IsDicomUid(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

std::string DerivedUid(std::string_view seed) {
  std::string hex = crypto::Sha256Hex(seed).substr(0, 32);
  // 128-bit big-endian number as base-2^8 digits, divided by 10 repeatedly.
  std::vector<int> bytes;
  for (size_t i = 0; i < hex.size(); i += 2) bytes.push_back(std::stoi(hex.substr(i, 2), nullptr, 16));
  std::string decimal;
  while (std::any_of(bytes.begin(), bytes.end(), [](int b) { return b != 0; })) {
    int rem = 0;
    for (int& b : bytes) {
      int cur = rem * 256 + b;
      b = cur / 10;
      rem = cur % 10;
    }
    decimal.push_back(static_cast<char>('0' + rem));
  }
  if (decimal.empty()) decimal = "0";
  std::reverse(decimal.begin(), decimal.end());
  return "2.25." + decimal;
}

std::string DicomDateToFhir(std::string_view da) {
  std::string digits;
  for (char c : da) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != '.' && c != '-' && c != ' ') {
      return "";
    }
  }
  if (digits.size() != 8) return "";
  int month = std::stoi(digits.substr(4, 2));
  int day = std::stoi(digits.substr(6, 2));
  if (digits.substr(0, 4) == "0000" || month < 1 || month > 12 || day < 1 || day > 31) return "";
  return digits.substr(0, 4) + "-" + digits.substr(4, 2) + "-" + digits.substr(6, 2);
}

namespace {

// "+0800" / "+08:00" -> "+08:00"; empty if malformed.
std::string NormalizeOffset(std::string_view off) {
  std::string digits;
  if (off.empty() || (off[0] != '+' && off[0] != '-')) return "";
  for (char c : off.substr(1)) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ':') {
      return "";
    }
  }
  if (digits.size() != 4 || std::stoi(digits.substr(0, 2)) > 14 || std::stoi(digits.substr(2, 2)) > 59) return "";
  if (digits == "0000") return "Z";
  return std::string(1, off[0]) + digits.substr(0, 2) + ":" + digits.substr(2, 2);
}

}  // namespace

std::string DicomDateTimeToFhir(std::string_view da, std::string_view tm, std::string_view offset,
                                std::string_view default_timezone) {
  std::string date = DicomDateToFhir(da);
  if (date.empty()) return "";
  std::string zone = NormalizeOffset(offset);
  if (zone.empty()) zone = NormalizeOffset(default_timezone);
  // TM: "HH", "HHMM", "HHMMSS", "HHMMSS.F{1,6}", and the old "HH:MM:SS".
  std::string digits;
  std::string frac;
  bool in_frac = false;
  for (char c : tm) {
    if (c == ' ') continue;
    if (c == '.') {
      if (in_frac) return date;
      in_frac = true;
    } else if (c >= '0' && c <= '9') {
      (in_frac ? frac : digits).push_back(c);
    } else if (c != ':') {
      return date;
    }
  }
  if (zone.empty() || digits.empty() || digits.size() % 2 != 0 || digits.size() > 6) return date;
  while (digits.size() < 6) digits += "00";
  int hh = std::stoi(digits.substr(0, 2));
  int mm = std::stoi(digits.substr(2, 2));
  int ss = std::stoi(digits.substr(4, 2));
  if (hh > 23 || mm > 59 || ss > 60) return date;
  std::string out = date + "T" + digits.substr(0, 2) + ":" + digits.substr(2, 2) + ":" + digits.substr(4, 2);
  if (!frac.empty()) out += "." + frac.substr(0, 6);
  return out + zone;
}

}  // namespace haip::lake::dicom
