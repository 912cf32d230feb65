#include "infer/grammar.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "core/error.h"

namespace haip::infer {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr uint32_t kInf = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kMaxRepeat = 100000;
constexpr size_t kMaxElements = 2000000;
constexpr size_t kMaxStacksPerState = 4096;

using Ranges = std::vector<Grammar::CodeRange>;

uint32_t Utf8Length(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

uint32_t SatAdd(uint32_t a, uint32_t b) {
  return (a == kInf || b == kInf || a + b < a) ? kInf : a + b;
}

// Sorted, merged, clipped to Unicode scalar values (no surrogates).
Ranges Normalize(Ranges in) {
  Ranges clipped;
  for (auto r : in) {
    if (r.lo > r.hi) std::swap(r.lo, r.hi);
    if (r.lo > kMaxCodePoint) continue;
    r.hi = std::min(r.hi, kMaxCodePoint);
    if (r.hi < 0xD800 || r.lo > 0xDFFF) {
      clipped.push_back(r);
    } else {
      if (r.lo < 0xD800) clipped.push_back({r.lo, 0xD7FF});
      if (r.hi > 0xDFFF) clipped.push_back({0xE000, r.hi});
    }
  }
  std::sort(clipped.begin(), clipped.end(), [](const auto& a, const auto& b) {
    return a.lo < b.lo || (a.lo == b.lo && a.hi < b.hi);
  });
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

Ranges Complement(const Ranges& normalized) {
  Ranges out;
  uint32_t next = 0;
  for (const auto& r : normalized) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return Normalize(std::move(out));
}

bool RangesContain(const Ranges& rs, uint32_t cp) {
  auto it = std::upper_bound(rs.begin(), rs.end(), cp,
                             [](uint32_t v, const Grammar::CodeRange& r) { return v < r.lo; });
  if (it == rs.begin()) return false;
  --it;
  return cp <= it->hi;
}

bool RangesIntersect(const Ranges& rs, uint32_t lo, uint32_t hi) {
  auto it = std::lower_bound(rs.begin(), rs.end(), lo,
                             [](const Grammar::CodeRange& r, uint32_t v) { return r.hi < v; });
  return it != rs.end() && it->lo <= hi;
}

// ---------------------------------------------------------------- parsing

struct Item;
using Sequence = std::vector<Item>;
using Alternatives = std::vector<Sequence>;

struct Item {
  enum Kind { kLiteral, kClass, kRef, kGroup } kind = kLiteral;
  std::vector<uint32_t> code_points;  // kLiteral
  Ranges ranges;                      // kClass (normalized)
  std::string name;                   // kRef
  Alternatives group;                 // kGroup
  uint32_t min = 1, max = 1;          // max == kInf: unbounded
  int line = 0, column = 0;
};

struct RuleText {
  std::string name;
  Alternatives alts;
  int line = 0, column = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::vector<RuleText> ParseRules() {
    std::vector<RuleText> rules;
    SkipSpace();
    while (pos_ < text_.size()) {
      RuleText rule;
      rule.line = line_;
      rule.column = Column();
      rule.name = ParseName();
      if (rule.name.empty()) Fail("expected a rule name");
      SkipSpace();
      if (text_.substr(pos_, 3) != "::=")
        Fail("expected '::=' after rule name '" + rule.name + "'");
      Skip(3);
      rule.alts = ParseAlternatives(/*nested=*/false);
      rules.push_back(std::move(rule));
      SkipSpace();
    }
    if (rules.empty()) Fail("the grammar has no rules");
    return rules;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw Error(ErrorCode::kBadRequest, "grammar: line " + std::to_string(line_) + ", column " +
                                            std::to_string(Column()) + ": " + what);
  }
  int Column() const { return static_cast<int>(pos_ - line_start_) + 1; }
  void Skip(size_t n) {
    for (size_t i = 0; i < n && pos_ < text_.size(); ++i) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
      ++pos_;
    }
  }
  void SkipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        Skip(1);
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') Skip(1);
      } else {
        break;
      }
    }
  }
  static bool IsNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  }
  std::string ParseName() {
    size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) Skip(1);
    return std::string(text_.substr(start, pos_ - start));
  }
  // True when the input at the current position is `name ::=` (a new rule).
  bool AtRuleStart() const {
    size_t p = pos_;
    while (p < text_.size() && IsNameChar(text_[p])) ++p;
    if (p == pos_) return false;
    while (p < text_.size() &&
           (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\r' || text_[p] == '\n'))
      ++p;
    return text_.substr(p, 3) == "::=";
  }

  Alternatives ParseAlternatives(bool nested) {
    Alternatives alts;
    alts.push_back(ParseSequence(nested));
    while (true) {
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '|') {
        Skip(1);
        alts.push_back(ParseSequence(nested));
      } else {
        break;
      }
    }
    return alts;
  }

  Sequence ParseSequence(bool nested) {
    Sequence seq;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size()) break;
      char c = text_[pos_];
      if (c == '|') break;
      if (c == ')') {
        if (!nested) Fail("unbalanced ')'");
        break;
      }
      if (!nested && AtRuleStart()) break;
      Item item;
      item.line = line_;
      item.column = Column();
      if (c == '"') {
        Skip(1);
        item.kind = Item::kLiteral;
        while (true) {
          if (pos_ >= text_.size()) Fail("unterminated string literal");
          if (text_[pos_] == '"') {
            Skip(1);
            break;
          }
          item.code_points.push_back(ParseChar());
        }
      } else if (c == '[') {
        Skip(1);
        item.kind = Item::kClass;
        bool negate = false;
        if (pos_ < text_.size() && text_[pos_] == '^') {
          negate = true;
          Skip(1);
        }
        Ranges ranges;
        while (true) {
          if (pos_ >= text_.size()) Fail("unterminated character class");
          if (text_[pos_] == ']') {
            Skip(1);
            break;
          }
          uint32_t lo = ParseChar();
          uint32_t hi = lo;
          if (pos_ + 1 < text_.size() && text_[pos_] == '-' && text_[pos_ + 1] != ']') {
            Skip(1);
            hi = ParseChar();
            if (hi < lo) Fail("character range out of order");
          }
          ranges.push_back({lo, hi});
        }
        item.ranges = Normalize(std::move(ranges));
        if (negate) item.ranges = Complement(item.ranges);
        if (item.ranges.empty()) Fail("empty character class");
      } else if (c == '.') {
        Skip(1);
        item.kind = Item::kClass;
        item.ranges = Normalize({{0, kMaxCodePoint}});
      } else if (c == '(') {
        Skip(1);
        item.kind = Item::kGroup;
        item.group = ParseAlternatives(/*nested=*/true);
        SkipSpace();
        if (pos_ >= text_.size() || text_[pos_] != ')') Fail("expected ')'");
        Skip(1);
      } else if (IsNameChar(c)) {
        item.kind = Item::kRef;
        item.name = ParseName();
      } else {
        Fail(std::string("unexpected character '") + c + "'");
      }
      ParseQuantifier(item);
      seq.push_back(std::move(item));
    }
    return seq;
  }

  void ParseQuantifier(Item& item) {
    if (pos_ >= text_.size()) return;
    char c = text_[pos_];
    if (c == '*') {
      Skip(1);
      item.min = 0;
      item.max = kInf;
    } else if (c == '+') {
      Skip(1);
      item.min = 1;
      item.max = kInf;
    } else if (c == '?') {
      Skip(1);
      item.min = 0;
      item.max = 1;
    } else if (c == '{') {
      Skip(1);
      SkipSpace();
      item.min = ParseCount();
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        Skip(1);
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == '}') {
          item.max = kInf;
        } else {
          item.max = ParseCount();
          if (item.max < item.min) Fail("repetition {m,n} with n < m");
        }
        SkipSpace();
      } else {
        item.max = item.min;
      }
      if (pos_ >= text_.size() || text_[pos_] != '}') Fail("expected '}' to close the repetition");
      Skip(1);
    }
  }

  uint32_t ParseCount() {
    size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      v = v * 10 + static_cast<uint64_t>(text_[pos_] - '0');
      if (v > kMaxRepeat) Fail("repetition bound over " + std::to_string(kMaxRepeat));
      Skip(1);
    }
    if (pos_ == start) Fail("expected a number in the repetition");
    return static_cast<uint32_t>(v);
  }

  uint32_t ParseHex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      if (pos_ >= text_.size()) Fail("truncated escape");
      char c = text_[pos_];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        Fail("bad hex digit in escape");
      }
      v = v * 16 + d;
      Skip(1);
    }
    if (v > kMaxCodePoint) Fail("escape beyond U+10FFFF");
    return v;
  }

  // One character of a literal or class: an escape or a UTF-8 code point.
  uint32_t ParseChar() {
    auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '\\') {
      Skip(1);
      if (pos_ >= text_.size()) Fail("truncated escape");
      char e = text_[pos_];
      Skip(1);
      switch (e) {
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case '0':
          return 0;
        case 'x':
          return ParseHex(2);
        case 'u':
          return ParseHex(4);
        case 'U':
          return ParseHex(8);
        case '\\':
        case '"':
        case '\'':
        case '[':
        case ']':
        case '-':
        case '^':
        case '/':
        case '.':
        case '(':
        case ')':
        case '|':
        case '*':
        case '+':
        case '?':
        case '{':
        case '}':
          return static_cast<unsigned char>(e);
        default:
          Fail(std::string("unknown escape '\\") + e + "'");
      }
    }
    if (c < 0x80) {
      Skip(1);
      return c;
    }
    int need = c >= 0xF0 && c <= 0xF4   ? 3
               : c >= 0xE0 && c <= 0xEF ? 2
               : c >= 0xC2 && c <= 0xDF ? 1
                                        : -1;
    if (need < 0) Fail("invalid UTF-8 in grammar text");
    uint32_t v = c & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07);
    Skip(1);
    for (int i = 0; i < need; ++i) {
      if (pos_ >= text_.size()) Fail("invalid UTF-8 in grammar text");
      auto cc = static_cast<unsigned char>(text_[pos_]);
      if ((cc & 0xC0) != 0x80) Fail("invalid UTF-8 in grammar text");
      v = (v << 6) | (cc & 0x3F);
      Skip(1);
    }
    uint32_t min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
    if (v < min || v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF))
      Fail("invalid UTF-8 in grammar text");
    return v;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

// ---------------------------------------------------------------- compiling

class GrammarCompiler {
 public:
  std::shared_ptr<Grammar> Compile(std::string_view text, std::string_view root_name) {
    auto grammar = std::make_shared<Grammar>();
    g_ = grammar.get();
    g_->source_ = std::string(text);
    std::vector<RuleText> rules = Parser(text).ParseRules();

    for (const auto& r : rules) {
      auto [it, fresh] = index_.emplace(r.name, static_cast<uint32_t>(defs_.size()));
      if (!fresh) {
        throw Error(ErrorCode::kBadRequest, "grammar: line " + std::to_string(r.line) + ": rule '" +
                                                r.name + "' is defined twice");
      }
      defs_.push_back({r.name, {}});
    }
    auto root = index_.find(std::string(root_name));
    if (root == index_.end()) {
      throw Error(ErrorCode::kBadRequest,
                  "grammar: no rule named '" + std::string(root_name) + "'");
    }
    for (const auto& r : rules) {
      uint32_t id = index_.at(r.name);
      std::vector<std::vector<Grammar::Element>> alts;
      for (const auto& seq : r.alts) alts.push_back(EmitSequence(seq, r.name));
      defs_[id].alts = std::move(alts);
    }
    Flatten();
    g_->root_ = root->second;
    Analyse();
    return grammar;
  }

 private:
  struct RuleDef {
    std::string name;
    std::vector<std::vector<Grammar::Element>> alts;
  };

  uint32_t Charset(const Ranges& ranges) {
    auto [it, fresh] = charset_ids_.emplace(ranges, static_cast<uint32_t>(g_->charsets_.size()));
    if (fresh) g_->charsets_.push_back(ranges);
    return it->second;
  }

  uint32_t NewRule(const std::string& parent, std::vector<std::vector<Grammar::Element>> alts) {
    uint32_t id = static_cast<uint32_t>(defs_.size());
    defs_.push_back({parent + "/" + std::to_string(++helper_count_), std::move(alts)});
    Count(defs_.back().alts);
    return id;
  }

  void Count(const std::vector<std::vector<Grammar::Element>>& alts) {
    for (const auto& a : alts) element_count_ += a.size() + 1;
    if (element_count_ > kMaxElements) {
      throw Error(ErrorCode::kBadRequest, "grammar: over " + std::to_string(kMaxElements) +
                                              " elements after expanding repetitions");
    }
  }

  // The elements that match one occurrence of `item` (ignoring its quantifier).
  std::vector<Grammar::Element> Atom(const Item& item, const std::string& rule) {
    std::vector<Grammar::Element> out;
    switch (item.kind) {
      case Item::kLiteral:
        for (uint32_t cp : item.code_points)
          out.push_back({Grammar::ElementKind::kChars, Charset({{cp, cp}})});
        break;
      case Item::kClass:
        out.push_back({Grammar::ElementKind::kChars, Charset(item.ranges)});
        break;
      case Item::kRef: {
        auto it = index_.find(item.name);
        if (it == index_.end()) {
          throw Error(ErrorCode::kBadRequest, "grammar: line " + std::to_string(item.line) +
                                                  ", column " + std::to_string(item.column) +
                                                  ": undefined rule '" + item.name + "'");
        }
        out.push_back({Grammar::ElementKind::kRule, it->second});
        break;
      }
      case Item::kGroup:
        if (item.group.size() == 1) {
          out = EmitSequence(item.group[0], rule);
        } else {
          std::vector<std::vector<Grammar::Element>> alts;
          for (const auto& seq : item.group) alts.push_back(EmitSequence(seq, rule));
          out.push_back({Grammar::ElementKind::kRule, NewRule(rule, std::move(alts))});
        }
        break;
    }
    return out;
  }

  std::vector<Grammar::Element> EmitSequence(const Sequence& seq, const std::string& rule) {
    std::vector<Grammar::Element> out;
    for (const auto& item : seq) {
      std::vector<Grammar::Element> atom = Atom(item, rule);
      if (item.min == 1 && item.max == 1) {
        out.insert(out.end(), atom.begin(), atom.end());
        continue;
      }
      // Repeat a multi-element atom through one rule so copies stay small.
      if (atom.size() > 1) atom = {{Grammar::ElementKind::kRule, NewRule(rule, {atom})}};
      for (uint32_t i = 0; i < item.min; ++i) out.insert(out.end(), atom.begin(), atom.end());
      element_count_ += item.min * atom.size();
      if (item.max == kInf) {
        // star ::= atom star | (empty): right recursion, which the matcher
        // runs as a loop (a rule reference in last position is a tail call).
        uint32_t star = NewRule(rule, {});
        std::vector<Grammar::Element> loop = atom;
        loop.push_back({Grammar::ElementKind::kRule, star});
        defs_[star].alts = {loop, {}};
        element_count_ += loop.size() + 2;
        out.push_back({Grammar::ElementKind::kRule, star});
      } else if (item.max > item.min) {
        // opt_k ::= atom opt_{k-1} | (empty), opt_1 ::= atom | (empty).
        uint32_t prev = NewRule(rule, {atom, {}});
        for (uint32_t k = 2; k <= item.max - item.min; ++k) {
          std::vector<Grammar::Element> step = atom;
          step.push_back({Grammar::ElementKind::kRule, prev});
          prev = NewRule(rule, {step, {}});
        }
        out.push_back({Grammar::ElementKind::kRule, prev});
      }
    }
    Count({out});
    return out;
  }

  void Flatten() {
    for (const auto& d : defs_) {
      Grammar::Rule rule{d.name, {}};
      for (const auto& alt : d.alts) {
        rule.alts.push_back(static_cast<uint32_t>(g_->elements_.size()));
        g_->elements_.insert(g_->elements_.end(), alt.begin(), alt.end());
        g_->elements_.push_back({Grammar::ElementKind::kEnd, 0});
      }
      g_->rules_.push_back(std::move(rule));
    }
  }

  void Analyse() {
    const auto& el = g_->elements_;
    size_t nrules = g_->rules_.size();
    for (const auto& cs : g_->charsets_)
      g_->charset_min_bytes_.push_back(Utf8Length(cs.front().lo));

    // Fewest bytes each rule derives (Bellman-Ford style fixpoint); kInf for
    // rules with no finite derivation.
    std::vector<uint32_t> min_bytes(nrules, kInf);
    auto elem_min = [&](const Grammar::Element& e) {
      return e.kind == Grammar::ElementKind::kChars ? g_->charset_min_bytes_[e.value]
                                                    : min_bytes[e.value];
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < nrules; ++r) {
        uint32_t best = min_bytes[r];
        for (uint32_t a : g_->rules_[r].alts) {
          uint32_t sum = 0;
          for (uint32_t p = a; el[p].kind != Grammar::ElementKind::kEnd; ++p)
            sum = SatAdd(sum, elem_min(el[p]));
          best = std::min(best, sum);
        }
        if (best < min_bytes[r]) {
          min_bytes[r] = best;
          changed = true;
        }
      }
    }
    for (size_t r = 0; r < nrules; ++r) {
      if (min_bytes[r] == kInf) {
        throw Error(ErrorCode::kBadRequest,
                    "grammar: rule '" + g_->rules_[r].name +
                        "' can never finish (every alternative recurses without end)");
      }
    }
    g_->rest_min_bytes_.assign(el.size(), 0);
    for (size_t r = 0; r < nrules; ++r) {
      for (uint32_t a : g_->rules_[r].alts) {
        uint32_t end = a;
        while (el[end].kind != Grammar::ElementKind::kEnd) ++end;
        uint32_t sum = 0;
        for (uint32_t p = end; p-- > a;) {
          sum = SatAdd(sum, elem_min(el[p]));
          g_->rest_min_bytes_[p] = sum;
        }
      }
    }

    // Left recursion: an edge A -> B when B can come first in A (after
    // elements that derive the empty string). A cycle would make the matcher
    // expand forever.
    std::vector<std::vector<uint32_t>> first(nrules);
    for (size_t r = 0; r < nrules; ++r) {
      for (uint32_t a : g_->rules_[r].alts) {
        for (uint32_t p = a; el[p].kind == Grammar::ElementKind::kRule; ++p) {
          first[r].push_back(el[p].value);
          if (min_bytes[el[p].value] != 0) break;
        }
      }
    }
    std::vector<uint8_t> color(nrules, 0);
    for (size_t start = 0; start < nrules; ++start) {
      if (color[start] != 0) continue;
      // Iterative DFS: (rule, next edge index).
      std::vector<std::pair<uint32_t, size_t>> stack{{static_cast<uint32_t>(start), 0}};
      color[start] = 1;
      while (!stack.empty()) {
        auto& [r, i] = stack.back();
        if (i < first[r].size()) {
          uint32_t to = first[r][i++];
          if (color[to] == 1) {
            const std::string& name = g_->rules_[to].name;
            std::string what =
                name.find('/') != std::string::npos
                    ? "a repetition or group in rule '" + name.substr(0, name.find('/')) + "'"
                    : "rule '" + name + "'";
            throw Error(ErrorCode::kBadRequest,
                        "grammar: " + what +
                            " is left-recursive (it can reach itself without reading input; a "
                            "repeated element "
                            "that can match the empty string does this too)");
          }
          if (color[to] == 0) {
            color[to] = 1;
            stack.push_back({to, 0});
          }
        } else {
          color[r] = 2;
          stack.pop_back();
        }
      }
    }
  }

  Grammar* g_ = nullptr;
  std::vector<RuleDef> defs_;
  std::map<std::string, uint32_t> index_;
  std::map<Ranges, uint32_t, bool (*)(const Ranges&, const Ranges&)> charset_ids_{
      [](const Ranges& a, const Ranges& b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                            [](const auto& x, const auto& y) {
                                              return x.lo < y.lo || (x.lo == y.lo && x.hi < y.hi);
                                            });
      }};
  int helper_count_ = 0;
  size_t element_count_ = 0;
};

std::shared_ptr<const Grammar> Grammar::Parse(std::string_view text, std::string_view root) {
  return GrammarCompiler().Compile(text, root);
}

bool Grammar::Matches(std::string_view text) const {
  GrammarMatcher m(shared_from_this());
  return m.Advance(text) && m.IsAccepting();
}

// ---------------------------------------------------------------- matching

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, size_t max_states)
    : grammar_(std::move(grammar)), max_states_(max_states) {
  nodes_.push_back({kInf, 0});  // node 0: the empty stack
  std::vector<uint32_t> stacks;
  const auto& el = grammar_->elements();
  for (uint32_t a : grammar_->alternatives(grammar_->root())) {
    const auto& e = Expand(el[a].kind == Grammar::ElementKind::kEnd ? 0 : InternNode(a, 0));
    stacks.insert(stacks.end(), e.begin(), e.end());
  }
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
  initial_ = InternState(std::move(stacks), 0, 0, 0, 0);
  current_ = initial_;
}

uint32_t GrammarMatcher::InternNode(uint32_t pos, uint32_t parent) {
  uint64_t key = (static_cast<uint64_t>(pos) << 32) | parent;
  auto [it, fresh] = node_ids_.emplace(key, static_cast<uint32_t>(nodes_.size()));
  if (fresh) nodes_.push_back({pos, parent});
  return it->second;
}

const std::vector<uint32_t>& GrammarMatcher::Expand(uint32_t node) {
  if (node < expanded_done_.size() && expanded_done_[node]) return expanded_[node];
  std::vector<uint32_t> out;
  ExpandInto(node, out, 0);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (expanded_.size() < nodes_.size()) {
    expanded_.resize(nodes_.size());
    expanded_done_.resize(nodes_.size(), 0);
  }
  expanded_[node] = std::move(out);
  expanded_done_[node] = 1;
  return expanded_[node];
}

void GrammarMatcher::ExpandInto(uint32_t node, std::vector<uint32_t>& out, int depth) {
  if (depth > 100000) {
    throw Error(ErrorCode::kUnprocessable, "grammar: rule expansion too deep");
  }
  if (node == 0) {
    out.push_back(0);
    return;
  }
  const auto& el = grammar_->elements();
  StackNode n = nodes_[node];
  const Grammar::Element& e = el[n.pos];
  if (e.kind == Grammar::ElementKind::kChars) {
    out.push_back(node);
    return;
  }
  // A rule reference: continue after it (a tail call pushes nothing), and
  // start each alternative of the rule on top.
  uint32_t cont =
      el[n.pos + 1].kind == Grammar::ElementKind::kEnd ? n.parent : InternNode(n.pos + 1, n.parent);
  for (uint32_t a : grammar_->alternatives(e.value)) {
    if (el[a].kind == Grammar::ElementKind::kEnd) {
      ExpandInto(cont, out, depth + 1);
    } else {
      ExpandInto(InternNode(a, cont), out, depth + 1);
    }
    if (out.size() > kMaxStacksPerState * 4) {
      throw Error(ErrorCode::kUnprocessable, "grammar: too ambiguous to constrain decoding (over " +
                                                 std::to_string(kMaxStacksPerState) +
                                                 " parse stacks)");
    }
  }
}

uint32_t GrammarMatcher::StackMinBytes(uint32_t node) {
  if (node == 0) return 0;
  if (node_min_bytes_.size() < nodes_.size()) node_min_bytes_.resize(nodes_.size(), kInf);
  if (node_min_bytes_[node] != kInf) return node_min_bytes_[node];
  // Walk down to a known frame, then fill in on the way back up.
  std::vector<uint32_t> chain;
  uint32_t n = node;
  while (n != 0 && node_min_bytes_[n] == kInf) {
    chain.push_back(n);
    n = nodes_[n].parent;
  }
  uint32_t below = n == 0 ? 0 : node_min_bytes_[n];
  for (size_t i = chain.size(); i-- > 0;) {
    below = SatAdd(below, grammar_->rest_min_bytes(nodes_[chain[i]].pos));
    node_min_bytes_[chain[i]] = below;
  }
  return node_min_bytes_[node];
}

int32_t GrammarMatcher::InternState(std::vector<uint32_t> stacks, uint32_t need, uint32_t value,
                                    uint32_t lo, uint32_t hi) {
  if (stacks.empty()) return kDead;
  if (stacks.size() > kMaxStacksPerState) {
    throw Error(ErrorCode::kUnprocessable, "grammar: too ambiguous to constrain decoding (over " +
                                               std::to_string(kMaxStacksPerState) +
                                               " parse stacks)");
  }
  std::string key(16 + stacks.size() * 4, '\0');
  uint32_t head[4] = {need, value, lo, hi};
  std::memcpy(key.data(), head, 16);
  std::memcpy(key.data() + 16, stacks.data(), stacks.size() * 4);
  auto it = state_ids_.find(key);
  if (it != state_ids_.end()) return it->second;
  if (states_.size() >= max_states_) {
    throw Error(ErrorCode::kUnprocessable, "grammar: over " + std::to_string(max_states_) +
                                               " automaton states for one generation");
  }
  State s;
  s.need = need;
  s.value = value;
  s.lo = lo;
  s.hi = hi;
  s.accepting = need == 0 && stacks.front() == 0;
  uint32_t best = kInf;
  for (uint32_t id : stacks) {
    if (need == 0) {
      best = std::min(best, StackMinBytes(id));
    } else {
      StackNode n = nodes_[id];
      best = std::min(
          best, SatAdd(need, SatAdd(grammar_->rest_min_bytes(n.pos + 1), StackMinBytes(n.parent))));
    }
  }
  s.min_bytes = best;
  s.stacks = std::move(stacks);
  auto id = static_cast<int32_t>(states_.size());
  states_.push_back(std::move(s));
  state_ids_.emplace(std::move(key), id);
  return id;
}

bool GrammarMatcher::AnyTopIntersects(const State& s, uint32_t lo, uint32_t hi) const {
  const auto& el = grammar_->elements();
  for (uint32_t id : s.stacks) {
    if (id == 0) continue;
    if (RangesIntersect(grammar_->charset(el[nodes_[id].pos].value), lo, hi)) return true;
  }
  return false;
}

int32_t GrammarMatcher::AdvanceCodePoint(const State& s, uint32_t cp) {
  const auto& el = grammar_->elements();
  std::vector<uint32_t> out;
  // `s` may move when new states are added; copy the stacks first.
  std::vector<uint32_t> stacks = s.stacks;
  for (uint32_t id : stacks) {
    if (id == 0) continue;
    StackNode n = nodes_[id];
    if (!RangesContain(grammar_->charset(el[n.pos].value), cp)) continue;
    uint32_t next = el[n.pos + 1].kind == Grammar::ElementKind::kEnd
                        ? n.parent
                        : InternNode(n.pos + 1, n.parent);
    const auto& e = Expand(next);
    out.insert(out.end(), e.begin(), e.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return InternState(std::move(out), 0, 0, 0, 0);
}

int32_t GrammarMatcher::Compute(int32_t state, uint8_t byte) {
  const auto& el = grammar_->elements();
  uint32_t need, value, lo, hi;
  {
    const State& s = states_[state];
    if (s.need > 0) {
      if ((byte & 0xC0) != 0x80) return kDead;
      value = (s.value << 6) | (byte & 0x3F);
      need = s.need - 1;
      if (need == 0) {
        if (value < s.lo || value > s.hi || (value >= 0xD800 && value <= 0xDFFF)) return kDead;
        return AdvanceCodePoint(s, value);
      }
      lo = std::max(value << (6 * need), s.lo);
      hi = std::min((value << (6 * need)) | ((1u << (6 * need)) - 1), s.hi);
    } else {
      if (byte < 0x80) return AdvanceCodePoint(s, byte);
      uint32_t min;
      if (byte >= 0xC2 && byte <= 0xDF) {
        need = 1, value = byte & 0x1F, min = 0x80;
      } else if (byte >= 0xE0 && byte <= 0xEF) {
        need = 2, value = byte & 0x0F, min = 0x800;
      } else if (byte >= 0xF0 && byte <= 0xF4) {
        need = 3, value = byte & 0x07, min = 0x10000;
      } else {
        return kDead;
      }
      lo = std::max(value << (6 * need), min);
      hi = std::min((value << (6 * need)) | ((1u << (6 * need)) - 1), kMaxCodePoint);
    }
    if (lo > hi) return kDead;
  }
  std::vector<uint32_t> keep;
  for (uint32_t id : states_[state].stacks) {
    if (id == 0) continue;
    if (RangesIntersect(grammar_->charset(el[nodes_[id].pos].value), lo, hi)) keep.push_back(id);
  }
  return InternState(std::move(keep), need, value, lo, hi);
}

int32_t GrammarMatcher::Next(int32_t state, uint8_t byte) {
  if (state < 0) return kDead;
  if (!states_[state].next) {
    states_[state].next.reset(new int32_t[256]);
    std::fill_n(states_[state].next.get(), 256, kUnknown);
  }
  int32_t known = states_[state].next[byte];
  if (known != kUnknown) return known;
  int32_t result = Compute(state, byte);
  states_[state].next[byte] = result;
  return result;
}

bool GrammarMatcher::Advance(std::string_view bytes) {
  int32_t s = current_;
  for (char c : bytes) {
    s = Next(s, static_cast<uint8_t>(c));
    if (s == kDead) return false;
  }
  current_ = s;
  return true;
}

bool GrammarMatcher::Accepting(int32_t state) const {
  return state >= 0 && states_[state].accepting;
}

bool GrammarMatcher::CanContinue(int32_t state) const {
  if (state < 0) return false;
  const State& s = states_[state];
  return s.need > 0 || s.stacks.back() != 0;
}

uint32_t GrammarMatcher::MinBytesToAccept(int32_t state) const {
  return state < 0 ? kInf : states_[state].min_bytes;
}

}  // namespace haip::infer
