// Free-text scrubbing in three passes over UTF-8 text:
//   1. strings known for the patient (names, identifiers, telecoms, address
//      parts) are replaced verbatim, longest first;
//   2. street addresses (<street word><number>号...) lose everything below
//      the province;
//   3. one left-to-right scan replaces pattern matches: URLs, e-mail, IPv4,
//      resident ID numbers, phone numbers, labelled identifiers, alphanumeric
//      record numbers, long digit runs, names (global list, labels,
//      honorifics, surname + given-name heuristic), ages over the cap, and
//      shifts dates. A match consumes its text, so placeholders and shifted
//      dates are never scanned again.
#include "lake/deid/text.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "lake/deid/dates.h"
#include "lake/deid/tables.h"

namespace haip::lake::deid {

namespace {

using sv = std::string_view;

// ---------------------------------------------------------------- UTF-8

size_t CpLen(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;  // stray continuation byte: step over it alone
}

// The code point at byte i (U+FFFD for malformed input) and its length.
char32_t DecodeAt(sv t, size_t i, size_t* len) {
  size_t n = CpLen(static_cast<unsigned char>(t[i]));
  if (i + n > t.size()) n = 1;
  *len = n;
  unsigned char c = static_cast<unsigned char>(t[i]);
  if (n == 1) return c < 0x80 ? c : 0xFFFD;
  char32_t cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(t[i + k]) & 0x3F);
  return cp;
}

// Start of the code point that ends right before byte i (i > 0).
size_t PrevStart(sv t, size_t i) {
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(t[j]) & 0xC0) == 0x80) --j;
  return j;
}

bool IsCjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsEmailLocal(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

size_t DigitRun(sv t, size_t i) {
  size_t j = i;
  while (j < t.size() && IsDigit(t[j])) ++j;
  return j - i;
}

int ToInt(sv s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

bool At(sv t, size_t i, sv word) { return i <= t.size() && t.substr(i).starts_with(word); }

// --------------------------------------------------------------- tables

using WordSet = std::unordered_set<sv>;

WordSet MakeSet(std::span<const sv> words) { return WordSet(words.begin(), words.end()); }

struct Tables {
  WordSet single_surnames = MakeSet(SingleSurnames());
  WordSet compound_surnames = MakeSet(CompoundSurnames());
  WordSet given_chars = MakeSet(GivenNameChars());
  WordSet stop_chars = MakeSet(NameStopChars());
  WordSet title_words = MakeSet(TitleWords());
  WordSet not_names = MakeSet(NotNames());
  WordSet address_stops = MakeSet(AddressStopChars());
};

const Tables& T() {
  static const Tables tables;
  return tables;
}

// The code point at i as a string_view (empty at the end).
sv CharAt(sv t, size_t i) {
  if (i >= t.size()) return {};
  size_t len;
  DecodeAt(t, i, &len);
  return t.substr(i, len);
}

// Length in bytes of the surname starting at i (compound preferred), or 0.
size_t SurnameAt(sv t, size_t i) {
  sv c1 = CharAt(t, i);
  if (c1.empty()) return 0;
  sv c2 = CharAt(t, i + c1.size());
  if (!c2.empty() && T().compound_surnames.count(t.substr(i, c1.size() + c2.size())))
    return c1.size() + c2.size();
  return T().single_surnames.count(c1) ? c1.size() : 0;
}

// A character that may continue a given name in running text.
bool IsGivenCandidate(sv c) {
  if (c.empty()) return false;
  size_t len;
  char32_t cp = DecodeAt(c, 0, &len);
  return IsCjk(cp) && !T().stop_chars.count(c);
}

size_t MatchAnyWord(sv t, size_t i, std::span<const sv> words) {
  for (sv w : words)
    if (At(t, i, w)) return w.size();
  return 0;
}

// -------------------------------------------------------------- pass 1

void ReplaceAll(std::string& s, sv needle, sv repl) {
  if (needle.empty()) return;
  size_t pos = 0;
  while ((pos = s.find(needle, pos)) != std::string::npos) {
    s.replace(pos, needle.size(), repl);
    pos += repl.size();
  }
}

std::string ReplaceKnown(sv text, const PatientContext& ctx) {
  struct Item {
    sv needle;
    sv repl;
  };
  std::vector<Item> items;
  for (const auto& s : ctx.addresses)
    if (CodePoints(s) >= 2) items.push_back({s, "[地址]"});
  for (const auto& s : ctx.identifiers)
    if (s.size() >= 4)
      items.push_back({s, s.size() == 18 || s.size() == 15 ? "[身份证号]" : "[编号]"});
  for (const auto& s : ctx.telecoms)
    if (s.size() >= 5) items.push_back({s, s.find('@') != std::string::npos ? "[邮箱]" : "[电话]"});
  for (const auto& s : ctx.names)
    if (CodePoints(s) >= 2) items.push_back({s, "[姓名]"});
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.needle.size() > b.needle.size(); });
  std::string out(text);
  for (const Item& it : items) ReplaceAll(out, it.needle, it.repl);
  return out;
}

// -------------------------------------------------------------- pass 2

std::string ScrubAddresses(sv t) {
  std::string out;
  size_t copied = 0;
  size_t i = 0;
  while (i < t.size()) {
    size_t kw = i > 0 ? MatchAnyWord(t, i, StreetWords()) : 0;
    if (kw) {
      size_t j = i + kw;
      size_t d = DigitRun(t, j);
      size_t e = j + d;
      if (d >= 1 && d <= 5 && e < t.size() && t[e] == '-' && DigitRun(t, e + 1) > 0)
        e += 1 + DigitRun(t, e + 1);
      if (d >= 1 && d <= 5 && At(t, e, "号")) {
        e += sv("号").size();
        // Backwards over the street name, district and city, up to the
        // label or verb before the address.
        size_t start = i;
        for (int n = 0; start > copied && n < 24; ++n) {
          size_t p = PrevStart(t, start);
          size_t len;
          char32_t cp = DecodeAt(t, p, &len);
          if (!IsCjk(cp) || T().address_stops.count(t.substr(p, len))) break;
          start = p;
        }
        if (start < i) {
          size_t keep = start + MatchAnyWord(t, start, Provinces());
          // Forwards over building, unit and room, ending on a unit word.
          size_t end = e;
          size_t k = e;
          for (int n = 0; k < t.size() && n < 30; ++n) {
            size_t len;
            char32_t cp = DecodeAt(t, k, &len);
            if (!(IsCjk(cp) || (cp < 0x80 && (IsAlnum(static_cast<char>(cp)) || cp == '-')))) break;
            k += len;
            for (sv u : AddressUnitWords())
              if (k >= u.size() && t.substr(k - u.size(), u.size()) == u) end = k;
          }
          out.append(t.substr(copied, keep - copied));
          out += "[地址]";
          copied = end;
          i = end;
          continue;
        }
      }
    }
    i += CpLen(static_cast<unsigned char>(t[i]));
  }
  out.append(t.substr(copied));
  return out;
}

// -------------------------------------------------------------- pass 3

class Scanner {
 public:
  Scanner(sv t, const ScrubInput& in) : t_(t), in_(in) { out_.reserve(t.size() + 16); }

  std::string Run() {
    while (i_ < t_.size()) {
      char c = t_[i_];
      if (static_cast<unsigned char>(c) < 0x80) {
        if (!Ascii()) Copy(1);
        continue;
      }
      size_t len;
      char32_t cp = DecodeAt(t_, i_, &len);
      if (IsCjk(cp) && Cjk()) continue;
      Copy(len);
    }
    return std::move(out_);
  }

 private:
  void Copy(size_t n) {
    out_.append(t_.substr(i_, n));
    i_ += n;
  }
  void Emit(size_t consumed, sv repl) {
    out_.append(repl);
    i_ += consumed;
  }
  char Ch(size_t at) const { return at < t_.size() ? t_[at] : '\0'; }
  bool PrevIs(bool (*pred)(char)) const { return i_ > 0 && pred(t_[i_ - 1]); }

  // ------------------------------------------------------------ ASCII

  bool Ascii() {
    char c = t_[i_];
    if (IsAlnum(c) || c == '+' || c == '(') {
      if (PrevIs(IsAlnum)) return false;
      if (IsAlpha(c) && UrlOrEmail()) return true;
      if (IsDigit(c) && !PrevIs(IsEmailLocal) && Email()) return true;
      if (IsDigit(c) || c == '+' || c == '(') {
        if (PrevIs([](char p) { return p == '.' || p == '@'; })) return false;
        if (Numbers()) return true;
        if (IsDigit(c)) {
          Copy(DigitRun(t_, i_));
          return true;
        }
        return false;
      }
      if (IsAlpha(c)) return RecordNumber();
    }
    return false;
  }

  bool UrlOrEmail() {
    static constexpr sv kSchemes[] = {"https://", "http://", "ftp://", "www.",
                                      "HTTPS://", "HTTP://", "WWW."};
    for (sv s : kSchemes) {
      if (!At(t_, i_, s)) continue;
      size_t j = i_ + s.size();
      while (j < t_.size() && static_cast<unsigned char>(t_[j]) > 0x20 &&
             static_cast<unsigned char>(t_[j]) < 0x80 && t_[j] != '<' && t_[j] != '>' &&
             t_[j] != '"' && t_[j] != '\'')
        ++j;
      while (j > i_ + s.size() && sv(".,;:)!?").find(t_[j - 1]) != sv::npos) --j;
      Emit(j - i_, "[网址]");
      return true;
    }
    return !PrevIs(IsEmailLocal) && Email();
  }

  bool Email() {
    size_t j = i_;
    while (j < t_.size() && IsEmailLocal(t_[j])) ++j;
    if (j == i_ || Ch(j) != '@') return false;
    size_t k = j + 1;
    while (k < t_.size() && (IsAlnum(t_[k]) || t_[k] == '-' || t_[k] == '.')) ++k;
    while (k > j + 1 && t_[k - 1] == '.') --k;  // a full stop after the address
    sv domain = t_.substr(j + 1, k - j - 1);
    size_t dot = domain.rfind('.');
    if (dot == sv::npos || dot == 0 || domain.size() - dot < 3) return false;
    for (char c : domain.substr(dot + 1))
      if (!IsAlpha(c)) return false;
    Emit(k - i_, "[邮箱]");
    return true;
  }

  // MR0000000001, ZY20240001: 1-4 capitals and at least 6 digits.
  bool RecordNumber() {
    size_t j = i_;
    while (j < t_.size() && IsUpper(t_[j])) ++j;
    size_t letters = j - i_;
    size_t digits = DigitRun(t_, j);
    size_t end = j + digits;
    if (letters >= 1 && letters <= 4 && digits >= 6 && !IsAlnum(Ch(end))) {
      Emit(end - i_, t_.substr(i_, 2) == "MR" ? "[病案号]" : "[编号]");
      return true;
    }
    // Step over the whole word so its tail is not taken for a number.
    size_t w = i_;
    while (w < t_.size() && IsAlnum(t_[w])) ++w;
    Copy(w - i_);
    return true;
  }

  bool Numbers() {
    if (Date()) return true;
    if (IdCard()) return true;
    if (size_t n = Phone(i_)) {
      Emit(n, "[电话]");
      return true;
    }
    if (Ipv4()) return true;
    if (Age()) return true;
    size_t d = DigitRun(t_, i_);
    if (d >= 7) {
      Emit(d, "[号码]");
      return true;
    }
    return false;
  }

  bool IdCard() {
    size_t d = DigitRun(t_, i_);
    size_t n = 0;
    if (d == 17 && (Ch(i_ + 17) == 'X' || Ch(i_ + 17) == 'x')) n = 18;
    if (d == 18 || d == 15) n = d;
    if (n == 0 || IsAlnum(Ch(i_ + n))) return false;
    Emit(n, "[身份证号]");
    return true;
  }

  // Exactly `n` digits at j; returns j + n or npos.
  size_t Digits(size_t j, size_t n) const { return DigitRun(t_, j) >= n ? j + n : sv::npos; }
  size_t Sep(size_t j) const { return (Ch(j) == ' ' || Ch(j) == '-') ? j + 1 : j; }

  // 1[3-9]x xxxx xxxx with optional single spaces or dashes between groups.
  size_t Mobile(size_t j) const {
    if (Ch(j) != '1' || Ch(j + 1) < '3' || Ch(j + 1) > '9' || !IsDigit(Ch(j + 2))) return sv::npos;
    size_t k = j + 3;
    bool sep = Ch(k) == ' ' || Ch(k) == '-';
    k = Sep(k);
    if ((k = Digits(k, 4)) == sv::npos) return sv::npos;
    if (sep)
      k = Sep(k);
    else if (Ch(k) == ' ' || Ch(k) == '-')
      k = Sep(k);
    if ((k = Digits(k, 4)) == sv::npos) return sv::npos;
    return IsDigit(Ch(k)) ? sv::npos : k;
  }

  // (0xx)xxxxxxxx, 0xx-xxxxxxxx, 0xxx xxxxxxx, 0xxxxxxxxxx; `zero` false for
  // the +86 form without the trunk prefix.
  size_t Landline(size_t j, bool zero) const {
    bool paren = Ch(j) == '(';
    size_t a = paren ? j + 1 : j;
    if (zero ? Ch(a) != '0' : (Ch(a) < '1' || Ch(a) > '9')) return sv::npos;
    for (size_t area = zero ? 3 : 2; area <= (zero ? 4u : 3u); ++area) {
      size_t k = Digits(a, area);
      if (k == sv::npos) continue;
      bool sep = false;
      if (paren) {
        if (Ch(k) != ')') continue;
        ++k;
        sep = true;
      }
      if (Ch(k) == ' ' || Ch(k) == '-') {
        ++k;
        sep = true;
      }
      size_t local = DigitRun(t_, k);
      if (!sep && IsDigit(Ch(k)) && local != 7 && local != 8) continue;
      if (local == 7 || local == 8) return k + local;
    }
    return sv::npos;
  }

  // 400-xxx-xxxx / 800 xxx xxxx service numbers.
  size_t Service(size_t j) const {
    if (!At(t_, j, "400") && !At(t_, j, "800")) return sv::npos;
    size_t k = Sep(j + 3);
    if ((k = Digits(k, 3)) == sv::npos) return sv::npos;
    k = Sep(k);
    if ((k = Digits(k, 4)) == sv::npos) return sv::npos;
    return IsDigit(Ch(k)) ? sv::npos : k;
  }

  // A phone number starting at j, with an optional +86 / 0086 / 86 prefix;
  // returns its length or 0.
  size_t Phone(size_t j) const {
    static constexpr sv kPrefixes[] = {"(+86)", "+86", "0086", "86"};
    for (sv p : kPrefixes) {
      if (!At(t_, j, p)) continue;
      size_t k = j + p.size();
      if (Ch(k) == ' ' || Ch(k) == '-') ++k;
      size_t e = Mobile(k);
      if (e == sv::npos) e = Landline(k, false);
      if (e == sv::npos) e = Landline(k, true);
      if (e != sv::npos) return e - j;
    }
    if (Ch(j) == '+') return 0;
    size_t e = Mobile(j);
    if (e == sv::npos) e = Landline(j, true);
    if (e == sv::npos) e = Service(j);
    if (e == sv::npos || IsDigit(Ch(e))) return 0;
    return e - j;
  }

  bool Ipv4() {
    size_t k = i_;
    for (int part = 0; part < 4; ++part) {
      size_t d = DigitRun(t_, k);
      if (d == 0 || d > 3 || ToInt(t_.substr(k, d)) > 255) return false;
      k += d;
      if (part < 3) {
        if (Ch(k) != '.') return false;
        ++k;
      }
    }
    if (IsAlnum(Ch(k)) || (Ch(k) == '.' && IsDigit(Ch(k + 1)))) return false;
    Emit(k - i_, "[IP]");
    return true;
  }

  // "95岁" / "95周岁" above the cap -> "≥90岁".
  bool Age() {
    size_t d = DigitRun(t_, i_);
    if (d < 2 || d > 3) return false;
    if (!At(t_, i_ + d, "岁") && !At(t_, i_ + d, "周岁")) return false;
    if (ToInt(t_.substr(i_, d)) <= in_.age_cap_years) return false;
    Emit(d, "≥" + std::to_string(in_.age_cap_years + 1));
    return true;
  }

  // ------------------------------------------------------------ dates

  void AppendNum(int v, size_t width) {
    std::string digits = std::to_string(v);
    if (digits.size() < width) out_.append(width - digits.size(), '0');
    out_ += digits;
  }

  // Zero-padded output when the date was written with two-digit month and
  // day, unpadded otherwise (2024/3/5 stays in that style after shifting).
  static size_t Width(size_t md, size_t dd) { return md == 2 && dd == 2 ? 2 : 1; }

  // YYYY年M月D日, YYYY年M月, YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYY-MM,
  // YYYYMMDD, M月D日. Shifted only when a shift is set; the digit widths and
  // separators stay as written.
  bool Date() {
    if (in_.shift_days == 0) return false;
    size_t d = DigitRun(t_, i_);
    if (d == 4) {
      int y = ToInt(t_.substr(i_, 4));
      if (y < 1900 || y > 2100) return false;
      size_t k = i_ + 4;
      if (At(t_, k, "年")) {
        size_t m0 = k + sv("年").size();
        size_t md = DigitRun(t_, m0);
        if (md < 1 || md > 2 || !At(t_, m0 + md, "月")) return false;
        int m = ToInt(t_.substr(m0, md));
        size_t d0 = m0 + md + sv("月").size();
        size_t dd = DigitRun(t_, d0);
        if (dd >= 1 && dd <= 2 && (At(t_, d0 + dd, "日") || At(t_, d0 + dd, "号"))) {
          int day = ToInt(t_.substr(d0, dd));
          if (!IsValidDate(y, m, day)) return false;
          CivilDate s = ShiftDate({y, m, day}, in_.shift_days);
          AppendNum(s.year, 4);
          out_ += "年";
          AppendNum(s.month, Width(md, dd));
          out_ += "月";
          AppendNum(s.day, Width(md, dd));
          i_ = d0 + dd;  // the 日/号 is copied by the scan
          return true;
        }
        if (m < 1 || m > 12 || dd > 0) return false;
        CivilDate s = ShiftDate({y, m, 15}, in_.shift_days);
        AppendNum(s.year, 4);
        out_ += "年";
        AppendNum(s.month, md);
        i_ = m0 + md;
        return true;
      }
      char sep = Ch(k);
      if (sep != '-' && sep != '/' && sep != '.') return false;
      size_t md = DigitRun(t_, k + 1);
      if (md < 1 || md > 2) return false;
      int m = ToInt(t_.substr(k + 1, md));
      size_t e = k + 1 + md;
      if (Ch(e) == sep && DigitRun(t_, e + 1) >= 1 && DigitRun(t_, e + 1) <= 2) {
        size_t dd = DigitRun(t_, e + 1);
        int day = ToInt(t_.substr(e + 1, dd));
        if (!IsValidDate(y, m, day)) return false;
        CivilDate s = ShiftDate({y, m, day}, in_.shift_days);
        AppendNum(s.year, 4);
        out_ += sep;
        AppendNum(s.month, Width(md, dd));
        out_ += sep;
        AppendNum(s.day, Width(md, dd));
        i_ = e + 1 + dd;
        return true;
      }
      if (sep == '-' && md == 2 && m >= 1 && m <= 12 && !IsAlnum(Ch(e)) && Ch(e) != '-' &&
          Ch(e) != '.') {
        CivilDate s = ShiftDate({y, m, 15}, in_.shift_days);
        AppendNum(s.year, 4);
        out_ += '-';
        AppendNum(s.month, 2);
        i_ = e;
        return true;
      }
      return false;
    }
    if (d == 8 && !IsAlnum(Ch(i_ + 8))) {
      int y = ToInt(t_.substr(i_, 4)), m = ToInt(t_.substr(i_ + 4, 2)),
          day = ToInt(t_.substr(i_ + 6, 2));
      if (y < 1900 || y > 2100 || !IsValidDate(y, m, day)) return false;
      CivilDate s = ShiftDate({y, m, day}, in_.shift_days);
      AppendNum(s.year, 4);
      AppendNum(s.month, 2);
      AppendNum(s.day, 2);
      i_ += 8;
      return true;
    }
    if (d >= 1 && d <= 2 && At(t_, i_ + d, "月")) {
      int m = ToInt(t_.substr(i_, d));
      size_t d0 = i_ + d + sv("月").size();
      size_t dd = DigitRun(t_, d0);
      if (dd < 1 || dd > 2 || !(At(t_, d0 + dd, "日") || At(t_, d0 + dd, "号"))) return false;
      int day = ToInt(t_.substr(d0, dd));
      // No year: computed in a leap year so 2月29日 stays valid.
      if (!IsValidDate(2000, m, day)) return false;
      CivilDate s = ShiftDate({2000, m, day}, in_.shift_days);
      AppendNum(s.month, Width(d, dd));
      out_ += "月";
      AppendNum(s.day, Width(d, dd));
      i_ = d0 + dd;
      return true;
    }
    return false;
  }

  // -------------------------------------------------------------- CJK

  bool Cjk() {
    if (IdLabel()) return true;
    if (GlobalName()) return true;
    if (NameLabel()) return true;
    if (Honorific()) return true;
    if (in_.unlabelled_names && UnlabelledName()) return true;
    return false;
  }

  // 病案号：123456 -> 病案号：[病案号]
  bool IdLabel() {
    for (const auto& l : IdLabels()) {
      if (!At(t_, i_, l.label)) continue;
      size_t k = i_ + l.label.size();
      size_t seps = k;
      while (true) {
        if (At(t_, seps, "："))
          seps += sv("：").size();
        else if (Ch(seps) == ':' || Ch(seps) == ' ' || Ch(seps) == '#')
          ++seps;
        else if (At(t_, seps, "为"))
          seps += sv("为").size();
        else
          break;
      }
      if (l.placeholder == "[电话]") {
        if (size_t n = Phone(seps)) {
          out_.append(t_.substr(i_, seps - i_));
          out_ += "[电话]";
          i_ = seps + n;
          return true;
        }
      }
      size_t e = seps;
      while (e < t_.size() && (IsAlnum(t_[e]) || t_[e] == '-')) ++e;
      size_t digits = 0;
      for (size_t q = seps; q < e; ++q) digits += IsDigit(t_[q]);
      if (e - seps < 4 || digits == 0) {
        Copy(l.label.size());
        return true;
      }
      out_.append(t_.substr(i_, seps - i_));
      out_.append(l.placeholder);
      i_ = e;
      return true;
    }
    return false;
  }

  bool GlobalName() {
    if (in_.global_names == nullptr || in_.global_names->empty()) return false;
    // Up to 4 code points (compound surname + two given characters), longest first.
    size_t ends[4];
    size_t n = 0;
    for (size_t k = i_; n < 4 && k < t_.size();) {
      size_t len;
      char32_t cp = DecodeAt(t_, k, &len);
      if (!IsCjk(cp) && cp != 0xB7) break;
      k += len;
      ends[n++] = k;
    }
    for (size_t c = n; c >= 2; --c) {
      if (in_.global_names->find(t_.substr(i_, ends[c - 1] - i_)) != in_.global_names->end()) {
        Emit(ends[c - 1] - i_, "[姓名]");
        return true;
      }
    }
    return false;
  }

  // 姓名：张三 / 医师:欧阳明辉 -> label + [姓名]
  bool NameLabel() {
    for (sv l : NameLabels()) {
      if (!At(t_, i_, l)) continue;
      size_t k = i_ + l.size();
      if (At(t_, k, "："))
        k += sv("：").size();
      else if (Ch(k) == ':')
        ++k;
      else
        return false;
      while (Ch(k) == ' ') ++k;
      // The name: CJK characters (and the middle dot of transliterated names).
      std::vector<size_t> ends;
      for (size_t q = k; q < t_.size() && ends.size() < 12;) {
        size_t len;
        char32_t cp = DecodeAt(t_, q, &len);
        if (!IsCjk(cp) && cp != 0xB7 && cp != 0x2022) break;
        q += len;
        ends.push_back(q);
      }
      size_t end = 0;
      if (ends.size() >= 2 && ends.size() <= 4) {
        end = ends.back();
      } else if (ends.size() > 4) {
        size_t s = SurnameAt(t_, k);
        if (s) {
          // Surname plus two given characters.
          size_t chars = (s > CharAt(t_, k).size() ? 2 : 1) + 2;
          end = ends[std::min(chars, ends.size()) - 1];
        }
        // Transliterated names with a middle dot run longer.
        if (t_.substr(k, ends.back() - k).find("·") != sv::npos) end = ends.back();
      }
      if (end == 0) {
        Copy(l.size());
        return true;
      }
      out_.append(t_.substr(i_, k - i_));
      out_ += "[姓名]";
      i_ = end;
      return true;
    }
    return false;
  }

  // 张先生, 欧阳医生, 李明辉主任 -> [姓名] + title
  bool Honorific() {
    size_t s = SurnameAt(t_, i_);
    if (!s) return false;
    if (i_ > 0) {
      size_t p = PrevStart(t_, i_);
      // 主任医生: 任 is a surname, but 主任 is a title.
      if (T().title_words.count(t_.substr(p, i_ + CharAt(t_, i_).size() - p))) return false;
    }
    size_t g[3] = {i_ + s, 0, 0};  // ends after 0, 1, 2 given characters
    size_t count = 1;
    for (size_t k = i_ + s; count < 3;) {
      sv c = CharAt(t_, k);
      if (!IsGivenCandidate(c) || MatchAnyWord(t_, k, Honorifics())) break;
      k += c.size();
      g[count++] = k;
    }
    for (size_t c = count; c-- > 0;) {
      if (MatchAnyWord(t_, g[c], Honorifics())) {
        Emit(g[c] - i_, "[姓名]");
        return true;
      }
    }
    return false;
  }

  // A common surname followed by two common given-name characters
  // (欧阳 + one or two), e.g. 王建国, 欧阳娜.
  bool UnlabelledName() {
    size_t s = SurnameAt(t_, i_);
    if (!s) return false;
    bool compound = s > CharAt(t_, i_).size();
    size_t k = i_ + s;
    size_t given = 0;
    while (given < 2) {
      sv c = CharAt(t_, k);
      if (c.empty() || !T().given_chars.count(c) || T().stop_chars.count(c)) break;
      k += c.size();
      ++given;
    }
    if (given < (compound ? 1u : 2u)) return false;
    // Skip ordinary words made of name characters.
    sv first_two = t_.substr(i_, s + CharAt(t_, i_ + s).size());
    sv given_part = t_.substr(i_ + s, k - i_ - s);
    if (T().not_names.count(first_two) || T().not_names.count(given_part)) return false;
    Emit(k - i_, "[姓名]");
    return true;
  }

  sv t_;
  const ScrubInput& in_;
  std::string out_;
  size_t i_ = 0;
};

}  // namespace

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string ScrubFreeText(std::string_view text, const ScrubInput& in) {
  std::string known = in.ctx ? ReplaceKnown(text, *in.ctx) : std::string(text);
  std::string addressed = ScrubAddresses(known);
  return Scanner(addressed, in).Run();
}

}  // namespace haip::lake::deid
