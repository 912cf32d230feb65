#include "infer/regex_grammar.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace haip::infer {
namespace {

using Ranges = std::vector<Grammar::CodeRange>;
constexpr uint32_t kInf = UINT32_MAX;
constexpr uint32_t kMaxCp = 0x10FFFF;
constexpr uint32_t kMaxRepeat = 100000;

Ranges Norm(Ranges in) {
  Ranges clipped;
  for (auto r : in) {
    if (r.lo > r.hi) continue;
    r.hi = std::min(r.hi, kMaxCp);
    if (r.hi < 0xD800 || r.lo > 0xDFFF) {
      clipped.push_back(r);
    } else {
      if (r.lo < 0xD800) clipped.push_back({r.lo, 0xD7FF});
      if (r.hi > 0xDFFF) clipped.push_back({0xE000, r.hi});
    }
  }
  std::sort(clipped.begin(), clipped.end(),
            [](const auto& a, const auto& b) { return a.lo < b.lo; });
  Ranges out;
  for (const auto& r : clipped) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

Ranges Complement(const Ranges& in) {
  Ranges n = Norm(in);
  Ranges out;
  uint32_t next = 0;
  for (const auto& r : n) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCp) out.push_back({next, kMaxCp});
  return Norm(out);
}

Ranges Intersect(const Ranges& a, const Ranges& b) {
  Ranges out;
  for (const auto& x : a) {
    for (const auto& y : b) {
      uint32_t lo = std::max(x.lo, y.lo), hi = std::min(x.hi, y.hi);
      if (lo <= hi) out.push_back({lo, hi});
    }
  }
  return Norm(out);
}

bool Contains(const Ranges& rs, uint32_t cp) {
  return std::any_of(rs.begin(), rs.end(),
                     [cp](const auto& r) { return cp >= r.lo && cp <= r.hi; });
}

const Ranges& Digits() {
  static const Ranges r{{'0', '9'}};
  return r;
}
const Ranges& Word() {
  static const Ranges r = Norm({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
  return r;
}
const Ranges& Space() {
  static const Ranges r = Norm({{0x09, 0x0D},
                                {0x20, 0x20},
                                {0xA0, 0xA0},
                                {0x1680, 0x1680},
                                {0x2000, 0x200A},
                                {0x2028, 0x2029},
                                {0x202F, 0x202F},
                                {0x205F, 0x205F},
                                {0x3000, 0x3000},
                                {0xFEFF, 0xFEFF}});
  return r;
}
const Ranges& Dot() {
  static const Ranges r = Complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}});
  return r;
}

struct Node {
  enum Kind { kSet, kSeq, kAlt, kRepeat } kind = kSeq;
  Ranges set;
  std::vector<Node> kids;
  uint32_t min = 1, max = 1;
};

bool Nullable(const Node& n) {
  switch (n.kind) {
    case Node::kSet:
      return false;
    case Node::kSeq:
      return std::all_of(n.kids.begin(), n.kids.end(), Nullable);
    case Node::kAlt:
      return std::any_of(n.kids.begin(), n.kids.end(), Nullable);
    case Node::kRepeat:
      return n.min == 0 || Nullable(n.kids[0]);
  }
  return false;
}

std::vector<uint32_t> DecodeUtf8(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int need = c < 0x80                   ? 0
               : (c >= 0xC2 && c <= 0xDF) ? 1
               : (c >= 0xE0 && c <= 0xEF) ? 2
               : (c >= 0xF0 && c <= 0xF4) ? 3
                                          : -1;
    if (need < 0 || i + static_cast<size_t>(need) >= s.size()) {
      throw Error(ErrorCode::kUnprocessable, "pattern: invalid UTF-8");
    }
    uint32_t v = need == 0 ? c : c & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07);
    for (int k = 1; k <= need; ++k) {
      auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) throw Error(ErrorCode::kUnprocessable, "pattern: invalid UTF-8");
      v = (v << 6) | (cc & 0x3F);
    }
    uint32_t min = need == 0 ? 0 : need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
    if (v < min || v > kMaxCp || (v >= 0xD800 && v <= 0xDFFF)) {
      throw Error(ErrorCode::kUnprocessable, "pattern: invalid UTF-8");
    }
    out.push_back(v);
    i += static_cast<size_t>(need) + 1;
  }
  return out;
}

class RegexParser {
 public:
  explicit RegexParser(std::string_view pattern) : pattern_(pattern), s_(DecodeUtf8(pattern)) {}

  // Top level: alternatives with their anchors.
  struct Branch {
    Node node;
    bool start_anchor = false, end_anchor = false;
  };
  std::vector<Branch> ParseTop() {
    std::vector<Branch> out;
    while (true) {
      Branch b;
      if (Peek('^')) {
        ++i_;
        b.start_anchor = true;
      }
      b.node = ParseSeq(/*top=*/true);
      if (Peek('$')) {
        ++i_;
        b.end_anchor = true;
      }
      out.push_back(std::move(b));
      if (i_ >= s_.size()) break;
      if (Peek('|')) {
        ++i_;
        continue;
      }
      Fail(Peek(')') ? "unbalanced ')'" : "'$' is only supported at the end of an alternative");
    }
    return out;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw Error(ErrorCode::kUnprocessable, "pattern '" + std::string(pattern_) + "' at character " +
                                               std::to_string(i_ + 1) + ": " + what);
  }
  bool Peek(uint32_t c) const { return i_ < s_.size() && s_[i_] == c; }

  Node ParseAlt() {
    Node alt;
    alt.kind = Node::kAlt;
    alt.kids.push_back(ParseSeq(false));
    while (Peek('|')) {
      ++i_;
      alt.kids.push_back(ParseSeq(false));
    }
    if (alt.kids.size() == 1) return std::move(alt.kids[0]);
    return alt;
  }

  Node ParseSeq(bool top) {
    Node seq;
    seq.kind = Node::kSeq;
    while (i_ < s_.size()) {
      uint32_t c = s_[i_];
      if (c == '|' || c == ')') break;
      if (c == '$') {
        if (top && (i_ + 1 == s_.size() || s_[i_ + 1] == '|')) break;
        Fail("'$' is only supported at the end of an alternative");
      }
      if (c == '^') Fail("'^' is only supported at the start of an alternative");
      Node atom = ParseAtom();
      ParseQuantifier(atom);
      seq.kids.push_back(std::move(atom));
    }
    return seq;
  }

  Node ParseAtom() {
    uint32_t c = s_[i_];
    Node n;
    n.kind = Node::kSet;
    switch (c) {
      case '(': {
        ++i_;
        if (Peek('?')) {
          ++i_;
          if (Peek(':')) {
            ++i_;
          } else if (Peek('<') && i_ + 1 < s_.size() && s_[i_ + 1] != '=' && s_[i_ + 1] != '!') {
            while (i_ < s_.size() && s_[i_] != '>') ++i_;
            if (i_ >= s_.size()) Fail("unterminated group name");
            ++i_;
          } else {
            Fail("lookaround assertions are not supported");
          }
        }
        Node inner = ParseAlt();
        if (!Peek(')')) Fail("missing ')'");
        ++i_;
        return inner;
      }
      case '[':
        ++i_;
        n.set = ParseClass();
        return n;
      case '.':
        ++i_;
        n.set = Dot();
        return n;
      case '\\':
        ++i_;
        n.set = ParseEscape(/*in_class=*/false);
        return n;
      case '*':
      case '+':
      case '?':
      case '{':
        if (c == '{' && !LooksLikeQuantifier()) break;
        Fail("nothing to repeat");
      case ']':
      case '}':
        break;
      default:
        break;
    }
    ++i_;
    n.set = {{c, c}};
    return n;
  }

  bool LooksLikeQuantifier() const {
    // ECMAScript (Annex B) reads '{' as a literal unless it starts {n}, {n,}, {n,m}.
    size_t j = i_ + 1;
    size_t digits = 0;
    while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') ++j, ++digits;
    if (digits == 0) return false;
    if (j < s_.size() && s_[j] == '}') return true;
    if (j >= s_.size() || s_[j] != ',') return false;
    ++j;
    while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') ++j;
    return j < s_.size() && s_[j] == '}';
  }

  uint32_t ReadNumber() {
    uint64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      v = v * 10 + (s_[i_] - '0');
      if (v > kMaxRepeat) Fail("repetition count over " + std::to_string(kMaxRepeat));
      ++i_;
    }
    return static_cast<uint32_t>(v);
  }

  void ParseQuantifier(Node& atom) {
    if (i_ >= s_.size()) return;
    uint32_t c = s_[i_];
    uint32_t min, max;
    if (c == '*') {
      min = 0, max = kInf, ++i_;
    } else if (c == '+') {
      min = 1, max = kInf, ++i_;
    } else if (c == '?') {
      min = 0, max = 1, ++i_;
    } else if (c == '{' && LooksLikeQuantifier()) {
      ++i_;
      min = ReadNumber();
      max = min;
      if (Peek(',')) {
        ++i_;
        max = Peek('}') ? kInf : ReadNumber();
      }
      ++i_;  // '}'
      if (max < min) Fail("repetition {m,n} with n < m");
    } else {
      return;
    }
    if (Peek('?')) ++i_;  // lazy: same language
    if (i_ < s_.size() && (s_[i_] == '*' || s_[i_] == '+' || s_[i_] == '?' ||
                           (s_[i_] == '{' && LooksLikeQuantifier()))) {
      Fail("nothing to repeat");
    }
    if (max == kInf && Nullable(atom)) {
      Fail("a repeated group that can match the empty string is not supported");
    }
    Node rep;
    rep.kind = Node::kRepeat;
    rep.min = min;
    rep.max = max;
    rep.kids.push_back(std::move(atom));
    atom = std::move(rep);
  }

  uint32_t Hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      if (i_ >= s_.size()) Fail("truncated escape");
      uint32_t c = s_[i_++];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        Fail("bad hex digit");
      }
      v = v * 16 + d;
    }
    return v;
  }

  Ranges ParseEscape(bool in_class) {
    if (i_ >= s_.size()) Fail("trailing backslash");
    uint32_t e = s_[i_++];
    auto one = [](uint32_t c) { return Ranges{{c, c}}; };
    switch (e) {
      case 'd':
        return Digits();
      case 'D':
        return Complement(Digits());
      case 'w':
        return Word();
      case 'W':
        return Complement(Word());
      case 's':
        return Space();
      case 'S':
        return Complement(Space());
      case 't':
        return one('\t');
      case 'n':
        return one('\n');
      case 'r':
        return one('\r');
      case 'f':
        return one('\f');
      case 'v':
        return one('\v');
      case '0':
        if (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
          Fail("backreferences are not supported");
        return one(0);
      case 'x':
        return one(Hex(2));
      case 'u': {
        uint32_t v = Hex(4);
        if (v >= 0xD800 && v <= 0xDBFF && i_ + 1 < s_.size() && s_[i_] == '\\' &&
            s_[i_ + 1] == 'u') {
          size_t save = i_;
          i_ += 2;
          uint32_t lo = Hex(4);
          if (lo >= 0xDC00 && lo <= 0xDFFF)
            return one(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00));
          i_ = save;
        }
        if (v >= 0xD800 && v <= 0xDFFF) Fail("a lone surrogate escape matches no character");
        return one(v);
      }
      case 'b':
        if (in_class) return one('\b');
        Fail("word boundaries are not supported");
      case 'B':
        Fail("word boundaries are not supported");
      case 'c':
      case 'k':
      case 'p':
      case 'P':
        Fail(std::string("\\") + static_cast<char>(e) + " is not supported");
      default:
        if (e >= '1' && e <= '9') Fail("backreferences are not supported");
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
          Fail(std::string("unknown escape \\") + static_cast<char>(e));
        }
        return one(e);
    }
  }

  Ranges ParseClass() {
    bool negate = false;
    if (Peek('^')) {
      negate = true;
      ++i_;
    }
    Ranges set;
    bool first = true;
    while (true) {
      if (i_ >= s_.size()) Fail("unterminated character class");
      if (s_[i_] == ']' && !first) {
        ++i_;
        break;
      }
      if (s_[i_] == ']' && first) {  // "[]" matches nothing, "[^]" anything
        ++i_;
        break;
      }
      first = false;
      Ranges lo_set = ClassAtom();
      bool single_lo = lo_set.size() == 1 && lo_set[0].lo == lo_set[0].hi;
      if (single_lo && Peek('-') && i_ + 1 < s_.size() && s_[i_ + 1] != ']') {
        ++i_;
        Ranges hi_set = ClassAtom();
        if (hi_set.size() != 1 || hi_set[0].lo != hi_set[0].hi)
          Fail("a class escape cannot end a range");
        if (hi_set[0].lo < lo_set[0].lo) Fail("character range out of order");
        set.push_back({lo_set[0].lo, hi_set[0].lo});
      } else {
        set.insert(set.end(), lo_set.begin(), lo_set.end());
      }
    }
    set = Norm(set);
    return negate ? Complement(set) : set;
  }

  Ranges ClassAtom() {
    uint32_t c = s_[i_++];
    if (c == '\\') return ParseEscape(/*in_class=*/true);
    return {{c, c}};
  }

  std::string_view pattern_;
  std::vector<uint32_t> s_;
  size_t i_ = 0;
};

std::string Hex2(uint32_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02x", v);
  return buf;
}

class Emitter {
 public:
  explicit Emitter(const AddGrammarRule& add) : add_(add) {}

  std::string Emit(const Node& n) {
    switch (n.kind) {
      case Node::kSet: {
        if (n.set.empty()) Fail();
        std::string body = JsonEncodedCharsGbnf(n.set);
        // Single raw characters or classes stay inline; anything with escapes
        // gets a rule of its own.
        if (body.find('|') == std::string::npos) return body;
        return add_("pattern-chars", body);
      }
      case Node::kSeq: {
        if (n.kids.empty()) return "\"\"";
        std::string out;
        for (const auto& k : n.kids) {
          if (!out.empty()) out += ' ';
          out += Emit(k);
        }
        return n.kids.size() == 1 ? out : "(" + out + ")";
      }
      case Node::kAlt: {
        std::string out = "(";
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (i) out += " | ";
          out += Emit(n.kids[i]);
        }
        return out + ")";
      }
      case Node::kRepeat: {
        std::string inner = Emit(n.kids[0]);
        std::string q;
        if (n.min == 0 && n.max == kInf) {
          q = "*";
        } else if (n.min == 1 && n.max == kInf) {
          q = "+";
        } else if (n.min == 0 && n.max == 1) {
          q = "?";
        } else if (n.max == kInf) {
          q = "{" + std::to_string(n.min) + ",}";
        } else if (n.min == n.max) {
          q = "{" + std::to_string(n.min) + "}";
        } else {
          q = "{" + std::to_string(n.min) + "," + std::to_string(n.max) + "}";
        }
        return "(" + inner + ")" + q;
      }
    }
    return "\"\"";
  }

 private:
  [[noreturn]] static void Fail() {
    throw Error(ErrorCode::kUnprocessable, "pattern: a character class matches no character");
  }
  const AddGrammarRule& add_;
};

}  // namespace

std::string GbnfLiteral(std::string_view bytes) {
  std::string out = "\"";
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
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
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\x" + Hex2(c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string GbnfCharClass(const Ranges& chars) {
  auto esc = [](uint32_t c) -> std::string {
    char buf[16];
    if (c == '\\' || c == ']' || c == '[' || c == '-' || c == '^' || c == '"') {
      return std::string("\\") + static_cast<char>(c);
    }
    if (c >= 0x20 && c < 0x7F) return std::string(1, static_cast<char>(c));
    if (c < 0x100) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
    } else if (c < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
    } else {
      std::snprintf(buf, sizeof buf, "\\U%08X", c);
    }
    return buf;
  };
  std::string out = "[";
  for (const auto& r : chars) {
    out += esc(r.lo);
    if (r.hi > r.lo) {
      if (r.hi > r.lo + 1) out += '-';
      out += esc(r.hi);
    }
  }
  return out + "]";
}

std::string JsonEncodedCharsGbnf(const Ranges& chars) {
  Ranges raw = Intersect(chars, Complement({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}));
  std::vector<std::string> parts;
  if (!raw.empty()) parts.push_back(GbnfCharClass(raw));
  if (Contains(chars, '"')) parts.push_back(GbnfLiteral("\\\""));
  if (Contains(chars, '\\')) parts.push_back(GbnfLiteral("\\\\"));
  for (uint32_t c = 0; c < 0x20; ++c) {
    if (!Contains(chars, c)) continue;
    const char* shortform = c == '\b'   ? "\\b"
                            : c == '\f' ? "\\f"
                            : c == '\n' ? "\\n"
                            : c == '\r' ? "\\r"
                            : c == '\t' ? "\\t"
                                        : nullptr;
    if (shortform) parts.push_back(GbnfLiteral(shortform));
    std::string hex = Hex2(c);
    std::string tail = GbnfLiteral(std::string("\\u00") + hex[0]);
    char d = hex[1];
    if (d >= 'a' && d <= 'f') {
      tail += " [" + std::string(1, d) + std::string(1, static_cast<char>(d - 'a' + 'A')) + "]";
    } else {
      tail += " " + GbnfLiteral(std::string(1, d));
    }
    parts.push_back(tail);
  }
  if (parts.size() == 1) return parts[0];
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += " | ";
    out += parts[i];
  }
  return out + ")";
}

std::string RegexToJsonContentGbnf(std::string_view pattern, const std::string& any_char_rule,
                                   const AddGrammarRule& add_rule) {
  auto branches = RegexParser(pattern).ParseTop();
  Emitter emitter(add_rule);
  std::string out;
  for (size_t i = 0; i < branches.size(); ++i) {
    const auto& b = branches[i];
    std::string body;
    if (!b.start_anchor) body += any_char_rule + "* ";
    body += emitter.Emit(b.node);
    if (!b.end_anchor) body += " " + any_char_rule + "*";
    if (i) out += " | ";
    out += "(" + body + ")";
  }
  return branches.size() == 1 ? out : "(" + out + ")";
}

}  // namespace haip::infer
