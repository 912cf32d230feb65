// Unit tests of the generator's building blocks.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "synth/dates.h"
#include "synth/generator.h"
#include "synth/json_writer.h"
#include "synth/model.h"
#include "synth/rng.h"
#include "synth/tables.h"
#include "test_util.h"

namespace haip::synth {
namespace {

TEST(IdCard, CheckCharacterMatchesPublishedExamples) {
  // The example number printed in GB 11643-1999 and two other well-known ones.
  EXPECT_EQ(IdCardCheckChar("11010519491231002"), 'X');
  EXPECT_EQ(IdCardCheckChar("44052418800101001"), '4');
  EXPECT_EQ(IdCardCheckChar("34052419800101001"), 'X');
  EXPECT_TRUE(IsValidIdCard("11010519491231002X"));
  EXPECT_TRUE(IsValidIdCard("440524188001010014"));
  EXPECT_FALSE(IsValidIdCard("440524188001010015"));
  EXPECT_FALSE(IsValidIdCard("11010519491231002"));
}

TEST(IdCard, RejectsMalformedInput) {
  EXPECT_EQ(IdCardCheckChar("1101051949123100"), '\0');
  EXPECT_EQ(IdCardCheckChar("1101051949123100A"), '\0');
  EXPECT_FALSE(IsValidIdCard("11010519491231002x"));
  EXPECT_FALSE(IsValidIdCard(""));
}

TEST(IdCard, EveryCheckValueIsReachable) {
  std::set<char> seen;
  for (int i = 0; i < 200; ++i) {
    std::string first17 = "11010519900101" + std::to_string(100 + i);
    seen.insert(IdCardCheckChar(first17));
  }
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_TRUE(seen.count('X'));
}

TEST(JsonWriter, EscapesStrings) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\te\x01 心内科");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001 心内科\"");
}

TEST(JsonWriter, FormatsDecimalsDeterministically) {
  std::string out;
  AppendDecimal(out, 7.25, 1);
  out += ' ';
  AppendDecimal(out, 0.004, 3);
  out += ' ';
  AppendDecimal(out, 12.0, 2);
  out += ' ';
  AppendDecimal(out, 99.5, 0);
  out += ' ';
  AppendDecimal(out, -1.05, 1);
  EXPECT_EQ(out, "7.3 0.004 12.00 100 -1.1");
}

TEST(JsonWriter, Base64MatchesRfc4648Vectors) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    std::string out;
    AppendBase64(out, plain[i]);
    EXPECT_EQ(out, coded[i]);
    EXPECT_EQ(testing::Base64Decode(out), plain[i]);
  }
}

TEST(JsonWriter, ManagesCommasInNestedStructures) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.KV("a", "x");
  w.Key("b");
  w.BeginArray();
  w.Int(1);
  w.BeginObject();
  w.EndObject();
  w.Bool(false);
  w.EndArray();
  w.Key("c");
  w.Decimal(1.5, 1);
  w.EndObject();
  EXPECT_EQ(out, R"({"a":"x","b":[1,{},false],"c":1.5})");
  EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(Dates, CivilConversionRoundTrips) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  for (int64_t d = -40000; d < 40000; d += 37) {
    CivilDate c = CivilFromDays(d);
    EXPECT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  std::string s;
  AppendDateTime(s, DaysFromCivil(2024, 2, 29) * kMinutesPerDay + 9 * 60 + 5);
  EXPECT_EQ(s, "2024-02-29T09:05:00+08:00");
  EXPECT_EQ(AgeYears(DaysFromCivil(1990, 5, 10), DaysFromCivil(2024, 5, 9)), 33);
  EXPECT_EQ(AgeYears(DaysFromCivil(1990, 5, 10), DaysFromCivil(2024, 5, 10)), 34);
}

TEST(Rng, IsReproducibleAndUniformEnough) {
  Rng a(42), b(42), c(43);
  int same = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    same += x == c.Next();
  }
  EXPECT_EQ(same, 0);
  // Golden values pin the generator: a change here would silently change
  // every data set generated from a given seed, on this or another platform.
  Rng g(1);
  EXPECT_EQ(g.Next(), 0xf9d20113ec80c6d5ULL);
  EXPECT_EQ(g.Next(), 0xd16e236e5cdc6563ULL);
  EXPECT_EQ(g.Next(), 0x68a40f278366062aULL);
  EXPECT_EQ(Mix(1, 2), 0x310cad76f495a159ULL);
  EXPECT_EQ(Rng(7).Normal(0, 1), 0.30216904256198085);
  Rng d(7);
  int buckets[10] = {};
  for (int i = 0; i < 100000; ++i) ++buckets[d.Below(10)];
  for (int n : buckets) {
    EXPECT_GT(n, 9500);
    EXPECT_LT(n, 10500);
  }
  double sum = 0, sq = 0;
  for (int i = 0; i < 100000; ++i) {
    double x = d.Normal(5, 2);
    sum += x;
    sq += (x - 5) * (x - 5);
  }
  EXPECT_NEAR(sum / 100000, 5, 0.05);
  EXPECT_NEAR(sq / 100000, 4, 0.1);
}

TEST(Tables, RegionCodesAreUniqueSixDigitCodes) {
  std::set<std::string> codes;
  for (const Region& r : Regions()) {
    std::string code = r.code;
    EXPECT_EQ(code.size(), 6u) << code;
    EXPECT_TRUE(codes.insert(code).second) << "duplicate " << code;
  }
}

TEST(Tables, MeasurementsHaveLoincAndUcum) {
  for (const MeasureDef& m : kLabs) {
    EXPECT_NE(std::string(m.loinc).find('-'), std::string::npos) << m.name;
    EXPECT_FALSE(std::string(m.ucum).empty()) << m.name;
    EXPECT_TRUE(m.has_low || m.has_high) << m.name;
  }
}

TEST(IdentitySpace, AssignsDistinctIdentities) {
  IdentitySpace space(99, DaysFromCivil(2024, 6, 1));
  EXPECT_GT(space.capacity(), 100'000'000u);
  std::set<std::tuple<int64_t, size_t, int>> seen;
  int male = 0;
  for (uint64_t i = 0; i < 20000; ++i) {
    IdentitySpace::Identity id = space.Assign(i);
    EXPECT_TRUE(seen.insert({id.birth_day, id.region, id.sequence}).second);
    EXPECT_GE(id.sequence, 1);
    EXPECT_LE(id.sequence, 996);
    EXPECT_LT(id.region, Regions().size());
    int age = AgeYears(id.birth_day, DaysFromCivil(2024, 6, 1));
    EXPECT_GE(age, 16);
    EXPECT_LE(age, 95);
    male += id.sequence % 2;
  }
  EXPECT_NEAR(male / 20000.0, 0.5, 0.03);
}

}  // namespace
}  // namespace haip::synth
