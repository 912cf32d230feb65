// Grammar parsing and matching, and token masks (checked against a plain
// per-token walk).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "decode_testing.h"
#include "infer/grammar.h"
#include "infer/grammar_constraint.h"

namespace haip::infer {
namespace {

bool Matches(const std::string& grammar, const std::string& text) {
  return Grammar::Parse(grammar)->Matches(text);
}

std::string ParseError(const std::string& grammar) {
  try {
    Grammar::Parse(grammar);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadRequest);
    return e.what();
  }
  return "";
}

TEST(Grammar, LiteralsClassesAndAlternatives) {
  std::string g = R"(
    # a greeting
    root ::= greeting " " name
    greeting ::= "hello" | "hi"
    name ::= [A-Z] [a-z]*
  )";
  EXPECT_TRUE(Matches(g, "hello World"));
  EXPECT_TRUE(Matches(g, "hi X"));
  EXPECT_FALSE(Matches(g, "hi x"));
  EXPECT_FALSE(Matches(g, "hello"));
  EXPECT_FALSE(Matches(g, "hello World!"));
}

TEST(Grammar, Repetitions) {
  EXPECT_TRUE(Matches("root ::= \"a\"{2,3}", "aa"));
  EXPECT_TRUE(Matches("root ::= \"a\"{2,3}", "aaa"));
  EXPECT_FALSE(Matches("root ::= \"a\"{2,3}", "a"));
  EXPECT_FALSE(Matches("root ::= \"a\"{2,3}", "aaaa"));
  EXPECT_TRUE(Matches("root ::= \"ab\"{2}", "abab"));
  EXPECT_TRUE(Matches("root ::= [0-9]{3,}", "12345"));
  EXPECT_FALSE(Matches("root ::= [0-9]{3,}", "12"));
  EXPECT_TRUE(Matches("root ::= \"x\"+ \"y\"?", "xxx"));
  EXPECT_TRUE(Matches("root ::= (\"a\" | \"b\" \"c\")*", "abcbca"));
  EXPECT_FALSE(Matches("root ::= (\"a\" | \"b\" \"c\")*", "ab"));
  EXPECT_TRUE(Matches("root ::= \"\" ", ""));
}

TEST(Grammar, NegatedClassesEscapesAndUnicode) {
  std::string g = R"(root ::= "\"" [^"\\\n]* "\"")";
  EXPECT_TRUE(Matches(g, "\"caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80\""));
  EXPECT_FALSE(Matches(g, "\"a\nb\""));
  EXPECT_FALSE(Matches(g, "\"a\\b\""));
  EXPECT_TRUE(Matches("root ::= [\\u4e00-\\u9fff]+", "\xE4\xB8\xAD\xE6\x96\x87"));
  EXPECT_FALSE(Matches("root ::= [\\u4e00-\\u9fff]+", "abc"));
  EXPECT_TRUE(Matches("root ::= \"\\x41\\u00e9\\U0001F600\"", "A\xC3\xA9\xF0\x9F\x98\x80"));
  EXPECT_TRUE(Matches("root ::= .", "\xF0\x9F\x98\x80"));
  EXPECT_FALSE(Matches("root ::= .", "ab"));
  // Invalid UTF-8 never matches, not even "any character".
  EXPECT_FALSE(Matches("root ::= .*", "\xC0\x80"));
  EXPECT_FALSE(Matches("root ::= .*", "\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(Matches("root ::= .*", "\xFF"));
}

TEST(Grammar, RecursionThroughRules) {
  std::string g = R"(
    root ::= list
    list ::= "[" (item ("," item)*)? "]"
    item ::= [0-9]+ | list
  )";
  EXPECT_TRUE(Matches(g, "[1,[2,[3,[]]],4]"));
  EXPECT_FALSE(Matches(g, "[1,[2]"));
  EXPECT_FALSE(Matches(g, "[1,]"));
}

TEST(Grammar, ErrorsNameTheProblem) {
  EXPECT_NE(ParseError("root ::= foo").find("undefined rule 'foo'"), std::string::npos);
  EXPECT_NE(ParseError("start ::= \"a\"").find("no rule named 'root'"), std::string::npos);
  EXPECT_NE(ParseError("root ::= \"a\"\nroot ::= \"b\"").find("defined twice"), std::string::npos);
  EXPECT_NE(ParseError("root ::= root \"a\" | \"b\"").find("left-recursive"), std::string::npos);
  EXPECT_NE(ParseError("root ::= a \"x\"\na ::= \"y\"? root | \"z\"").find("left-recursive"),
            std::string::npos);
  EXPECT_NE(ParseError("root ::= (\"a\"?)*").find("left-recursive"), std::string::npos);
  EXPECT_NE(ParseError("root ::= \"a\" root").find("never finish"), std::string::npos);
  EXPECT_NE(ParseError("root ::= \"abc").find("line 1"), std::string::npos);
  EXPECT_NE(ParseError("root ::=\n  [a-").find("line 2"), std::string::npos);
  EXPECT_NE(ParseError("root ::= [z-a]").find("out of order"), std::string::npos);
  EXPECT_NE(ParseError("root ::= \"a\"{3,2}").find("n < m"), std::string::npos);
  EXPECT_NE(ParseError("root ::= \"a\"{200000}").find("over"), std::string::npos);
  EXPECT_NE(ParseError("root ::= \"a\" )").find("unbalanced"), std::string::npos);
  EXPECT_NE(ParseError("").find("no rules"), std::string::npos);
}

TEST(GrammarMatcher, AcceptingContinuingAndDistance) {
  auto g = Grammar::Parse("root ::= \"ab\" [0-9]{0,2} | \"abcdef\"");
  GrammarMatcher m(g);
  EXPECT_FALSE(m.IsAccepting());
  EXPECT_EQ(m.MinBytesToAccept(), 2u);
  EXPECT_TRUE(m.Advance("ab"));
  EXPECT_TRUE(m.IsAccepting());
  EXPECT_TRUE(m.CanContinue());
  EXPECT_FALSE(m.Advance("x"));  // rejected, position unchanged
  EXPECT_TRUE(m.Advance("c"));
  EXPECT_EQ(m.MinBytesToAccept(), 3u);
  EXPECT_TRUE(m.Advance("def"));
  EXPECT_TRUE(m.IsAccepting());
  EXPECT_FALSE(m.CanContinue());
}

TEST(GrammarMatcher, PartialUtf8IsTrackedByteByByte) {
  auto g = Grammar::Parse("root ::= [\\u4e00-\\u4e2f] \"!\"");
  GrammarMatcher m(g);
  int32_t s = m.initial_state();
  s = m.Next(s, 0xE4);  // lead byte of U+4xxx
  ASSERT_NE(s, GrammarMatcher::kDead);
  EXPECT_EQ(m.MinBytesToAccept(s), 3u);
  EXPECT_NE(m.Next(s, 0xB8), GrammarMatcher::kDead);  // U+4E00..U+4E3F intersects the class
  EXPECT_EQ(m.Next(s, 0xB9), GrammarMatcher::kDead);  // U+4E40.. does not
  EXPECT_EQ(m.Next(m.initial_state(), 0xE5), GrammarMatcher::kDead);
  int32_t done = m.Next(m.Next(s, 0xB8), 0xAD);  // U+4E2D
  ASSERT_NE(done, GrammarMatcher::kDead);
  EXPECT_NE(m.Next(done, '!'), GrammarMatcher::kDead);
}

// A plain reference: a token is allowed when its bytes can be read from the
// current state.
TokenMask NaiveMask(const std::shared_ptr<const Grammar>& g, const DecodeVocab& vocab,
                    const std::string& prefix) {
  GrammarMatcher m(g);
  EXPECT_TRUE(m.Advance(prefix));
  TokenMask mask(vocab.size());
  for (int32_t t = 0; t < vocab.size(); ++t) {
    if (vocab.is_eos(t)) {
      if (m.IsAccepting()) mask.Set(t);
      continue;
    }
    if (vocab.is_special(t) || vocab.bytes(t).empty()) continue;
    int32_t s = m.state();
    for (char c : vocab.bytes(t)) s = m.Next(s, static_cast<uint8_t>(c));
    if (s != GrammarMatcher::kDead) mask.Set(t);
  }
  return mask;
}

TEST(GrammarConstraint, MasksMatchAPerTokenWalk) {
  auto vocab = testing::SyntheticVocab();
  auto g = Grammar::Parse(R"(
    root ::= "{" ws "\"name\"" ws ":" ws str ws "," ws "\"n\"" ws ":" ws num ws "}"
    str ::= "\"" [^"\\]{0,8} "\""
    num ::= "-"? [0-9]+
    ws ::= [ \n]?
  )");
  std::mt19937_64 rng(5);
  for (int run = 0; run < 20; ++run) {
    GrammarConstraint c(g, vocab);
    std::string text;
    TokenMask mask;
    for (int step = 0; step < 60 && !c.IsFinished(); ++step) {
      c.FillMask(&mask);
      TokenMask naive = NaiveMask(g, *vocab, text);
      ASSERT_EQ(mask.words(), naive.words()) << "after '" << text << "'";
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < vocab->size(); ++t) {
        if (mask.Test(t)) allowed.push_back(t);
      }
      ASSERT_FALSE(allowed.empty());
      int32_t t = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
      EXPECT_TRUE(c.Allows(t));
      c.Accept(t);
      if (vocab->is_eos(t)) break;
      text += vocab->bytes(t);
    }
  }
}

TEST(GrammarConstraint, EosOnlyWhenTheGrammarAccepts) {
  auto vocab = testing::SyntheticVocab();
  int32_t eos = vocab->eos_ids()[0];
  auto g = Grammar::Parse("root ::= [0-9]+");
  GrammarConstraint c(g, vocab);
  TokenMask mask;
  c.FillMask(&mask);
  EXPECT_FALSE(mask.Test(eos));
  EXPECT_FALSE(c.Allows(eos));
  EXPECT_THROW(c.Accept(eos), Error);
  c.Accept(static_cast<int32_t>('5'));  // single-byte tokens have the byte's id
  c.FillMask(&mask);
  EXPECT_TRUE(mask.Test(eos));
  EXPECT_TRUE(mask.Test(static_cast<int32_t>('6')));
  EXPECT_FALSE(c.IsFinished());
  c.Accept(eos);
  EXPECT_TRUE(c.IsFinished());
}

TEST(GrammarConstraint, SpecialTokensAreNeverProducedAndEosEnds) {
  std::vector<std::string> bytes = {"1", "2", "12", "<|eot|>", "<|tool|>", "a"};
  std::vector<bool> special = {false, false, false, true, true, false};
  auto vocab = std::make_shared<DecodeVocab>(bytes, special, std::vector<int32_t>{3});
  auto g = Grammar::Parse("root ::= [0-9]+");
  GrammarConstraint c(g, vocab);
  TokenMask mask;
  c.FillMask(&mask);
  EXPECT_TRUE(mask.Test(0));
  EXPECT_TRUE(mask.Test(2));
  EXPECT_FALSE(mask.Test(3));
  EXPECT_FALSE(mask.Test(4));
  EXPECT_FALSE(mask.Test(5));
  c.Accept(2);
  c.FillMask(&mask);
  EXPECT_TRUE(mask.Test(3));
  EXPECT_FALSE(mask.Test(4));
  c.Accept(3);
  EXPECT_TRUE(c.IsFinished());
  c.FillMask(&mask);
  EXPECT_FALSE(mask.Any());
  c.Reset();
  EXPECT_FALSE(c.IsFinished());
}

TEST(GrammarConstraint, MasksAreCachedPerState) {
  auto vocab = testing::SyntheticVocab();
  auto g = Grammar::Parse("root ::= \"\\\"\" [a-z ]* \"\\\"\"");
  GrammarConstraint c(g, vocab);
  TokenMask first, again;
  c.Accept(static_cast<int32_t>('"'));
  c.FillMask(&first);
  for (const char* w : {"a", "b", "c"}) {
    c.Accept(static_cast<int32_t>(w[0]));
    c.FillMask(&again);
    EXPECT_EQ(first.words(), again.words());
  }
  EXPECT_EQ(c.cache_misses(), 1u);
  EXPECT_EQ(c.cache_hits(), 3u);
}

TEST(GrammarConstraint, FinishingMaskAlwaysGetsCloserToTheEnd) {
  auto vocab = testing::SyntheticVocab();
  auto g = Grammar::Parse(R"(
    root ::= "[" item ("," item)* "]"
    item ::= "\"" [a-z]* "\"" | "{" "\"k\":" item "}"
  )");
  std::mt19937_64 rng(9);
  for (int run = 0; run < 30; ++run) {
    GrammarConstraint c(g, vocab);
    TokenMask mask;
    // Wander freely, then finish.
    for (int i = 0; i < 15; ++i) {
      c.FillMask(&mask);
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < vocab->size(); ++t) {
        if (mask.Test(t) && !vocab->is_eos(t)) allowed.push_back(t);
      }
      if (allowed.empty()) break;
      c.Accept(allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)]);
    }
    int budget = static_cast<int>(c.MinBytesToFinish());
    int steps = 0;
    while (!c.IsFinished() && !c.IsAccepting()) {
      uint32_t before = c.MinBytesToFinish();
      c.FillFinishingMask(&mask);
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < vocab->size(); ++t) {
        if (mask.Test(t)) allowed.push_back(t);
      }
      ASSERT_FALSE(allowed.empty());
      c.Accept(allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)]);
      EXPECT_LT(c.MinBytesToFinish(), before);
      ++steps;
    }
    EXPECT_LE(steps, budget);
    EXPECT_EQ(c.MinBytesToFinish(), 0u);
  }
}

TEST(GrammarConstraint, RejectsTokensOutsideTheGrammar) {
  auto vocab = testing::SyntheticVocab();
  GrammarConstraint c(Grammar::Parse("root ::= \"true\""), vocab);
  EXPECT_FALSE(c.Allows(static_cast<int32_t>('x')));
  try {
    c.Accept(static_cast<int32_t>('x'));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not allowed"), std::string::npos);
  }
}

TEST(DecodeVocab, RejectsInconsistentInput) {
  EXPECT_THROW(DecodeVocab({"a", "b"}, {true}, {}), Error);
  EXPECT_THROW(DecodeVocab({"a", "b"}, {}, {2}), Error);
}

TEST(DecodeVocab, Gpt2ByteMapRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(testing::Gpt2Decode(testing::Gpt2Encode(all)), all);
  EXPECT_EQ(testing::Gpt2Encode(" hello\n"), "\xC4\xA0hello\xC4\x8A");  // Ġhello Ċ
}

}  // namespace
}  // namespace haip::infer
