// A UCUM syntax check over the atoms that appear in clinical results. Units
// outside this set are still kept, as unit text without the UCUM system, so a
// miss costs precision in search, never data.
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "lake/hl7v2/mapping.h"

namespace haip::lake::hl7v2 {
namespace {

constexpr std::array<std::string_view, 20> kPrefixes = {"Y", "Z", "E",  "P", "T", "G", "M",
                                                        "k", "h", "da", "d", "c", "m", "u",
                                                        "n", "p", "f",  "a", "z", "y"};

// Atoms that take a prefix.
constexpr std::array<std::string_view, 32> kMetric = {
    "m",   "g", "s",   "L",  "l",  "mol",   "K",      "Cel",  "Pa",   "J",   "W",
    "A",   "V", "Ohm", "Hz", "N",  "eq",    "U",      "[IU]", "[iU]", "kat", "cal",
    "bar", "t", "Bq",  "Gy", "Sv", "m[Hg]", "m[H2O]", "osm",  "C",    "ar"};

// Atoms that do not.
constexpr std::array<std::string_view, 34> kPlain = {
    "min",     "h",       "d",       "wk",       "mo",       "a",       "%",
    "[ppm]",   "[ppb]",   "[ppth]",  "[pH]",     "10*",      "10^",     "[in_i]",
    "[ft_i]",  "[lb_av]", "[oz_av]", "[degF]",   "deg",      "[HPF]",   "[LPF]",
    "[arb'U]", "[drp]",   "[pi]",    "[CFU]",    "[beth'U]", "[APL'U]", "[GPL'U]",
    "[MPL'U]", "[iU]",    "[cin_i]", "[gal_us]", "[foz_us]", "[mi_i]"};

template <size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view s) {
  for (auto v : set) {
    if (v == s) return true;
  }
  return false;
}

bool ValidAtom(std::string_view s) {
  if (s.empty()) return false;
  if (In(kPlain, s) || In(kMetric, s)) return true;
  for (auto p : kPrefixes) {
    if (s.size() > p.size() && s.substr(0, p.size()) == p && In(kMetric, s.substr(p.size()))) {
      return true;
    }
  }
  return false;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A symbol with an optional trailing exponent ("m2", "s-1", "10*3"), or a
// plain number factor ("1000").
bool ValidSymbol(std::string_view sym) {
  if (AllDigits(sym)) return true;
  size_t end = sym.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(sym[end - 1]))) --end;
  if (end < sym.size() && end > 0 && (sym[end - 1] == '+' || sym[end - 1] == '-')) --end;
  return end > 0 && ValidAtom(sym.substr(0, end));
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool Parse() {
    if (s_.empty()) return false;
    if (s_[0] == '/') ++i_;
    if (!Term()) return false;
    return i_ == s_.size();
  }

 private:
  bool Term() {
    if (++depth_ > 16) return false;
    if (!Component()) return false;
    while (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == '/')) {
      ++i_;
      if (!Component()) return false;
    }
    --depth_;
    return true;
  }

  bool Component() {
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '(') {
      ++i_;
      if (!Term() || i_ >= s_.size() || s_[i_] != ')') return false;
      ++i_;
      return true;
    }
    if (s_[i_] == '{') return Annotation();
    size_t start = i_;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '.' || c == '/' || c == '(' || c == ')' || c == '{' || c == '}') break;
      if (c == '[') {
        size_t close = s_.find(']', i_);
        if (close == std::string_view::npos) return false;
        i_ = close + 1;
        continue;
      }
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F)
        return false;
      ++i_;
    }
    if (!ValidSymbol(s_.substr(start, i_ - start))) return false;
    if (i_ < s_.size() && s_[i_] == '{') return Annotation();
    return true;
  }

  bool Annotation() {
    size_t close = s_.find('}', i_);
    if (close == std::string_view::npos) return false;
    for (size_t k = i_ + 1; k < close; ++k) {
      auto c = static_cast<unsigned char>(s_[k]);
      if (c < 0x20 || c >= 0x7F || c == '{') return false;
    }
    i_ = close + 1;
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

bool IsUcumUnit(std::string_view unit) { return Parser(unit).Parse(); }

}  // namespace haip::lake::hl7v2
