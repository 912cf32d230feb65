// Context-free grammars for constrained decoding, in a GBNF-like text syntax
// (docs/infer-decoding.md has the full syntax), compiled to a pushdown
// automaton over Unicode code points that is driven one UTF-8 byte at a time.
//
//   root   ::= "{" ws pair ("," ws pair)* "}"
//   pair   ::= string ws ":" ws [0-9]+
//   string ::= "\"" [^"\\]{1,16} "\""
//   ws     ::= [ \t\n]{0,4}
//
// A Grammar is immutable once parsed and may be shared between threads. A
// GrammarMatcher walks one input through it; it is not thread-safe and keeps a
// lazily built table of automaton states (each state is a set of parse stacks
// plus a partly read UTF-8 sequence), so that a state seen again costs one
// table lookup per byte. That table is what makes per-token masks cheap
// (grammar_constraint.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace haip::infer {

class Grammar : public std::enable_shared_from_this<Grammar> {
 public:
  // Parses and checks `text`; the start symbol is the rule named `root`.
  // Throws haip::Error (kBadRequest) with line and column for syntax errors,
  // and for: an undefined or duplicate rule, a missing root rule, left
  // recursion (including a repeated element that can match the empty string),
  // a rule that can never finish (no finite derivation), a repetition bound
  // over 100000, an empty character class, or a grammar over 2,000,000
  // elements after repetitions are expanded.
  static std::shared_ptr<const Grammar> Parse(std::string_view text,
                                              std::string_view root = "root");

  // True when the whole of `text` (UTF-8) is a sentence of the grammar.
  bool Matches(std::string_view text) const;

  const std::string& source() const { return source_; }
  size_t rule_count() const { return rules_.size(); }

  // ---- compiled form (read by GrammarMatcher) ----
  // A flat element array: each alternative of each rule is a run of elements
  // ended by kEnd. Terminal elements match one code point from a set of
  // ranges; rule references expand into the alternatives of a rule.
  enum class ElementKind : uint8_t { kEnd, kChars, kRule };
  struct Element {
    ElementKind kind;
    uint32_t value;  // charset index for kChars, rule index for kRule
  };
  struct CodeRange {
    uint32_t lo, hi;  // inclusive
  };
  const std::vector<Element>& elements() const { return elements_; }
  // Start positions (into elements()) of each alternative of rule r.
  const std::vector<uint32_t>& alternatives(uint32_t rule) const { return rules_[rule].alts; }
  const std::vector<CodeRange>& charset(uint32_t i) const { return charsets_[i]; }
  uint32_t root() const { return root_; }
  const std::string& rule_name(uint32_t rule) const { return rules_[rule].name; }
  // Fewest UTF-8 bytes that complete the elements from `pos` to the end of
  // its alternative.
  uint32_t rest_min_bytes(uint32_t pos) const { return rest_min_bytes_[pos]; }
  // Fewest UTF-8 bytes of any code point in charset i.
  uint32_t charset_min_bytes(uint32_t i) const { return charset_min_bytes_[i]; }

 private:
  friend class GrammarCompiler;
  struct Rule {
    std::string name;
    std::vector<uint32_t> alts;
  };
  std::string source_;
  std::vector<Element> elements_;
  std::vector<Rule> rules_;
  std::vector<std::vector<CodeRange>> charsets_;
  std::vector<uint32_t> rest_min_bytes_;
  std::vector<uint32_t> charset_min_bytes_;
  uint32_t root_ = 0;
};

// Drives input through a Grammar. States are small integers valid for the
// lifetime of the matcher; kDead means the input can no longer be completed.
// Every state other than kDead can be completed to a sentence (the grammar
// compiler rejects rules without finite derivations).
class GrammarMatcher {
 public:
  static constexpr int32_t kDead = -1;

  // `max_states` bounds the state table (each state costs about 1 KiB plus its
  // stacks); Next() throws haip::Error (kUnprocessable) when a grammar needs
  // more, or when one state would hold more than 4096 parse stacks (a grammar
  // too ambiguous to constrain decoding).
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar, size_t max_states = 1 << 16);

  const Grammar& grammar() const { return *grammar_; }

  // ---- the current position ----
  int32_t state() const { return current_; }
  // Consumes `bytes` when the grammar allows all of them and returns true;
  // otherwise returns false and leaves the position unchanged.
  bool Advance(std::string_view bytes);
  // Moves to `state` (one returned by Next or state() of this matcher).
  void Reset(int32_t state) { current_ = state; }
  void Restart() { current_ = initial_; }
  // The complete input so far is a sentence.
  bool IsAccepting() const { return Accepting(current_); }
  // Some non-empty continuation exists.
  bool CanContinue() const { return CanContinue(current_); }
  // Fewest further bytes that make the input a sentence (0 when accepting).
  uint32_t MinBytesToAccept() const { return MinBytesToAccept(current_); }

  // ---- the automaton, for walks that try many inputs from one state ----
  int32_t initial_state() const { return initial_; }
  // The state after reading `byte` in `state` (kDead allowed: stays kDead).
  int32_t Next(int32_t state, uint8_t byte);
  bool Accepting(int32_t state) const;
  bool CanContinue(int32_t state) const;
  uint32_t MinBytesToAccept(int32_t state) const;
  size_t state_count() const { return states_.size(); }

 private:
  struct StackNode {
    uint32_t pos;     // element position: a terminal on top, a continuation below
    uint32_t parent;  // stack node id; 0 is the empty stack
  };
  struct State {
    std::vector<uint32_t> stacks;  // sorted stack node ids
    // A UTF-8 sequence in progress: code points [lo, hi] are still possible
    // and `need` continuation bytes are missing; `value` holds the bits so far.
    uint32_t need = 0;
    uint32_t value = 0;
    uint32_t lo = 0, hi = 0;
    bool accepting = false;
    uint32_t min_bytes = 0;
    std::unique_ptr<int32_t[]> next;  // 256 entries, kUnknown until computed
  };
  static constexpr int32_t kUnknown = -2;

  uint32_t InternNode(uint32_t pos, uint32_t parent);
  const std::vector<uint32_t>& Expand(uint32_t node);
  void ExpandInto(uint32_t node, std::vector<uint32_t>& out, int depth);
  int32_t InternState(std::vector<uint32_t> stacks, uint32_t need, uint32_t value, uint32_t lo,
                      uint32_t hi);
  int32_t Compute(int32_t state, uint8_t byte);
  int32_t AdvanceCodePoint(const State& s, uint32_t cp);
  bool AnyTopIntersects(const State& s, uint32_t lo, uint32_t hi) const;
  uint32_t StackMinBytes(uint32_t node);

  std::shared_ptr<const Grammar> grammar_;
  size_t max_states_;
  std::vector<StackNode> nodes_;
  std::unordered_map<uint64_t, uint32_t> node_ids_;
  std::vector<std::vector<uint32_t>> expanded_;  // per node; empty = not yet
  std::vector<uint8_t> expanded_done_;
  std::vector<uint32_t> node_min_bytes_;  // per node; UINT32_MAX = not yet
  std::vector<State> states_;
  std::unordered_map<std::string, int32_t> state_ids_;
  int32_t initial_ = kDead;
  int32_t current_ = kDead;
};

}  // namespace haip::infer
