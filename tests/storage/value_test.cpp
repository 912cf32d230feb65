#include "testing/error_code.h"
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "core/error.h"
#include "storage/database.h"

namespace haip::storage {
namespace {

using haip::testing::CodeOf;

TEST(ValueTest, ConstructsEachAlternative) {
  EXPECT_TRUE(Value().IsNull());
  EXPECT_TRUE(Value(nullptr).IsNull());
  EXPECT_EQ(Value(7).AsInt(), 7);
  EXPECT_EQ(Value(int64_t{-9}).AsInt(), -9);
  EXPECT_EQ(Value(true).AsInt(), 1);
  EXPECT_EQ(Value(false).AsInt(), 0);
  EXPECT_EQ(Value(0.25).AsDouble(), 0.25);
  EXPECT_EQ(Value("c").AsText(), "c");
  EXPECT_EQ(Value(std::string_view("sv")).AsText(), "sv");
  EXPECT_EQ(Value(Bytes{"b"}).AsBytes(), Bytes{"b"});
  EXPECT_TRUE(Value(std::optional<int>()).IsNull());
  EXPECT_EQ(Value(std::optional<std::string>("o")).AsText(), "o");
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_NE(Value(Bytes{"x"}), Value("x"));
}

TEST(ValueTest, ConvertsBetweenNumbersAndNumericText) {
  EXPECT_EQ(Value(3).AsDouble(), 3.0);
  EXPECT_EQ(Value(42.0).AsInt(), 42);
  EXPECT_EQ(Value(-1e18).AsInt(), -1000000000000000000);
  EXPECT_EQ(Value("42").AsInt(), 42);
  EXPECT_EQ(Value("-9223372036854775808").AsInt(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value("2.5").AsDouble(), 2.5);
  EXPECT_EQ(CodeOf([] { Value(2.5).AsInt(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value(9.3e18).AsInt(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value("4x").AsInt(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value("").AsInt(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value("99999999999999999999").AsInt(); }), ErrorCode::kInternal);
}

TEST(ValueTest, WrongTypeIsInternal) {
  EXPECT_EQ(CodeOf([] { Value().AsInt(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value(Bytes{"1"}).AsInt(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value(1).AsText(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value("x").AsBytes(); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { Value(Bytes{}).AsDouble(); }), ErrorCode::kInternal);
}

TEST(ValueTest, OptionalReadsMapNullToNullopt) {
  EXPECT_EQ(Value().AsOptionalInt(), std::nullopt);
  EXPECT_EQ(Value().AsOptionalText(), std::nullopt);
  EXPECT_EQ(Value(5).AsOptionalInt(), 5);
  EXPECT_EQ(Value("t").AsOptionalText(), "t");
}

}  // namespace
}  // namespace haip::storage
