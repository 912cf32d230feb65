// Stop strings across token boundaries, with holdback for streaming.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "infer/stop_strings.h"

namespace haip::infer {
namespace {

// Feeds `pieces` and returns what was released, and whether it stopped.
std::pair<std::string, bool> FeedAll(StopStringMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  bool stopped = false;
  for (const auto& p : pieces) {
    auto r = m.Feed(p);
    out += r.text;
    if (r.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) out += m.Flush();
  return {out, stopped};
}

TEST(StopStrings, StopInsideOnePiece) {
  StopStringMatcher m({"END"});
  auto r = m.Feed("hello END world");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "hello ");
  EXPECT_EQ(r.stop_index, 0);
  EXPECT_TRUE(m.Feed("more").stopped);
  EXPECT_EQ(m.Flush(), "");
}

TEST(StopStrings, StopAcrossPiecesIsHeldBackUntilDecided) {
  StopStringMatcher m({"</answer>"});
  auto r = m.Feed("The result is 4</");
  EXPECT_EQ(r.text, "The result is 4");
  EXPECT_EQ(m.held(), 2u);
  r = m.Feed("ans");
  EXPECT_EQ(r.text, "");
  r = m.Feed("wer> trailing");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "");
}

TEST(StopStrings, AFalseStartIsReleased) {
  StopStringMatcher m({"</answer>"});
  auto r = m.Feed("a </an");
  EXPECT_EQ(r.text, "a ");
  r = m.Feed("d b");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.text, "</and b");
  EXPECT_EQ(m.Flush(), "");
}

TEST(StopStrings, FlushReleasesAPartialMatchAtTheEnd) {
  StopStringMatcher m({"###"});
  EXPECT_EQ(m.Feed("x ##").text, "x ");
  EXPECT_EQ(m.Flush(), "##");
}

TEST(StopStrings, EarliestOfSeveralWinsAndReportsItsIndex) {
  StopStringMatcher m({"", "world", "lo w"});
  auto r = m.Feed("hello world");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "hel");
  EXPECT_EQ(r.stop_index, 2);
}

TEST(StopStrings, OverlappingPrefixes) {
  // "aab" must be found after "aa" + "aab" pieces, where the first "a" is a
  // false start.
  StopStringMatcher m({"aab"});
  auto [out, stopped] = FeedAll(m, {"xa", "a", "aab", "tail"});
  EXPECT_TRUE(stopped);
  EXPECT_EQ(out, "xaa");
}

TEST(StopStrings, HoldsBackIncompleteUtf8) {
  StopStringMatcher m({});
  // 中 = E4 B8 AD split over three pieces.
  EXPECT_EQ(m.Feed("a\xE4").text, "a");
  EXPECT_EQ(m.Feed("\xB8").text, "");
  EXPECT_EQ(m.Feed("\xAD!").text, "\xE4\xB8\xAD!");
  StopStringMatcher raw({}, /*hold_incomplete_utf8=*/false);
  EXPECT_EQ(raw.Feed("a\xE4").text, "a\xE4");
}

TEST(StopStrings, RandomSplitsAgreeWithFindingTheStopInTheWholeText) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> stops = {"STOP", "\n\n", "</s>", "ss"};
  const std::string alphabet = "STOP\n</s>ab ";
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text;
    int len = std::uniform_int_distribution<int>(0, 30)(rng);
    for (int i = 0; i < len; ++i)
      text += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    // Expected: text up to the earliest stop occurrence.
    size_t cut = std::string::npos;
    for (const auto& s : stops) cut = std::min(cut, text.find(s));
    std::vector<std::string> pieces;
    for (size_t i = 0; i < text.size();) {
      size_t n = std::uniform_int_distribution<size_t>(1, 4)(rng);
      pieces.push_back(text.substr(i, n));
      i += n;
    }
    StopStringMatcher m(stops);
    auto [out, stopped] = FeedAll(m, pieces);
    ASSERT_EQ(stopped, cut != std::string::npos) << text;
    ASSERT_EQ(out, cut == std::string::npos ? text : text.substr(0, cut)) << text;
  }
}

}  // namespace
}  // namespace haip::infer
