// JSON Schema -> grammar: each supported keyword accepts what the schema
// allows (as the grammar writes it) and rejects what it forbids; unsupported
// schemas give clear errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "infer/grammar.h"
#include "infer/json_schema_grammar.h"
#include "infer/regex_grammar.h"

namespace haip::infer {
namespace {

std::shared_ptr<const Grammar> FromSchema(const std::string& schema, JsonGrammarOptions o = {}) {
  return Grammar::Parse(JsonSchemaToGrammar(std::string_view(schema), o));
}

void ExpectAccepts(const std::string& schema, const std::vector<std::string>& good,
                   const std::vector<std::string>& bad) {
  auto g = FromSchema(schema);
  for (const auto& t : good)
    EXPECT_TRUE(g->Matches(t)) << schema << " should accept " << t << "\n" << g->source();
  for (const auto& t : bad)
    EXPECT_FALSE(g->Matches(t)) << schema << " should reject " << t << "\n" << g->source();
}

ErrorCode ErrorOf(const std::string& schema, JsonGrammarOptions o = {}) {
  try {
    FromSchema(schema, o);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;
}

TEST(JsonSchemaGrammar, Primitives) {
  ExpectAccepts(R"({"type":"integer"})", {"0", "-12", "123456789012345678"},
                {"01", "1.5", "+1", "1234567890123456789", "\"1\""});
  ExpectAccepts(R"({"type":"number"})", {"0", "-1.25", "3e10", "2.5E-3"},
                {".5", "1.", "1e", "--1"});
  ExpectAccepts(R"({"type":"boolean"})", {"true", "false"}, {"True", "1"});
  ExpectAccepts(R"({"type":"null"})", {"null"}, {"nil", ""});
  ExpectAccepts(
      R"({"type":"string"})",
      {R"("")", R"("a b")", R"("\"\\\/\n\u00e9")", "\"\xE4\xB8\xAD\"", R"("\ud83d\ude00")"},
      {R"("a)", "\"a\nb\"", R"("\x")", R"("\ud83d")", R"("\ude00")"});
  ExpectAccepts(R"({"type":["string","null"]})", {"null", "\"x\""}, {"1"});
  ExpectAccepts(R"({})", {"1", "{\"a\": [true, null]}", "\"s\""}, {"{", "tru"});
  ExpectAccepts(R"(true)", {"[]"}, {"]"});
}

TEST(JsonSchemaGrammar, ObjectsRequiredOptionalAndOrder) {
  std::string s = R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},
                       "c":{"type":"boolean"}},"required":["b"],"additionalProperties":false})";
  ExpectAccepts(s,
                {R"({"b":"x"})", R"({"a":1,"b":"x"})", R"({"a": 1, "b": "x", "c": true})",
                 "{\n  \"b\": \"x\"\n}"},
                {R"({})", R"({"a":1})", R"({"b":"x","a":1})", R"({"b":"x","d":1})", R"({"b":"x",})",
                 R"({"a":1,,"b":"x"})"});
  // All optional: the empty object and any subset in order.
  ExpectAccepts(R"({"type":"object","properties":{"a":{"type":"null"},"b":{"type":"null"}}})",
                {"{}", R"({"a":null})", R"({"b":null})", R"({"a":null,"b":null})"},
                {R"({"b":null,"a":null})"});
}

TEST(JsonSchemaGrammar, AdditionalProperties) {
  // true: extra keys after the declared ones, never a declared key again.
  std::string s = R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],
                      "additionalProperties":true})";
  ExpectAccepts(s, {R"({"id":1})", R"({"id":1,"x":[1]})", R"({"id":1,"i":2,"idx":3,"":4})"},
                {R"({"id":1,"id":2})", R"({"x":1})"});
  // A schema for the extras.
  ExpectAccepts(R"({"type":"object","additionalProperties":{"type":"integer"}})",
                {R"({})", R"({"k":1,"j":2})"}, {R"({"k":"v"})"});
  // A required name without a property schema takes any value.
  ExpectAccepts(R"({"type":"object","required":["z"],"additionalProperties":true})",
                {R"({"z":[]})"}, {R"({})"});
}

TEST(JsonSchemaGrammar, Arrays) {
  ExpectAccepts(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})",
                {"[1]", "[1,2,3]", "[ 1 , 2 ]"}, {"[]", "[1,2,3,4]", "[1,]", "[\"a\"]"});
  ExpectAccepts(R"({"type":"array","maxItems":0})", {"[]"}, {"[1]"});
  ExpectAccepts(R"({"type":"array","minItems":2})", {"[1,\"a\"]", "[1,2,3,4,5]"}, {"[1]"});
}

TEST(JsonSchemaGrammar, StringLengthsCountCharactersNotBytes) {
  ExpectAccepts(R"({"type":"string","minLength":2,"maxLength":3})",
                {R"("ab")", "\"\xE4\xB8\xAD\xE6\x96\x87\"", R"("\n\t")", R"("a\u00e9")",
                 R"("\ud83d\ude00a")"},
                {R"("a")", R"("abcd")", "\"\xF0\x9F\x98\x80\""});
}

TEST(JsonSchemaGrammar, EnumAndConst) {
  ExpectAccepts(R"({"enum":["red","green",1,null,{"a":[1]}]})",
                {R"("red")", R"("green")", "1", "null", R"({"a":[1]})"},
                {R"("blue")", "2", R"({"a":[2]})"});
  ExpectAccepts(R"({"type":"string","enum":["x",1]})", {R"("x")"}, {"1"});
  ExpectAccepts(R"({"const":"quote\"d"})", {R"("quote\"d")"}, {R"("quoted")"});
}

TEST(JsonSchemaGrammar, IntegerRanges) {
  auto check = [](int64_t lo, int64_t hi) {
    std::string s = R"({"type":"integer","minimum":)" + std::to_string(lo) + R"(,"maximum":)" +
                    std::to_string(hi) + "}";
    auto g = FromSchema(s);
    for (int64_t v = lo - 30; v <= hi + 30; ++v) {
      ASSERT_EQ(g->Matches(std::to_string(v)), v >= lo && v <= hi) << s << " value " << v;
    }
  };
  check(0, 0);
  check(-5, 5);
  check(7, 123);
  check(-250, -13);
  check(95, 1050);
  check(-1001, 999);
  ExpectAccepts(R"({"type":"integer","exclusiveMinimum":3,"exclusiveMaximum":6})", {"4", "5"},
                {"3", "6"});
  ExpectAccepts(R"({"type":"integer","minimum":2.5,"maximum":4.5})", {"3", "4"}, {"2", "5"});
  ExpectAccepts(R"({"type":"integer","minimum":100})", {"100", "5000", "999999999999999999"},
                {"99", "-1"});
  ExpectAccepts(R"({"type":"integer","maximum":-10})", {"-10", "-999"}, {"-9", "0"});
  EXPECT_EQ(ErrorOf(R"({"type":"integer","minimum":5,"maximum":4})"), ErrorCode::kUnprocessable);
}

TEST(JsonSchemaGrammar, NumberRangesStayInside) {
  ExpectAccepts(R"({"type":"number","minimum":-1.5,"maximum":2.25})",
                {"-1", "0", "2", "0.5", "1.99", "-0.75"}, {"-2", "3", "2.5", "-1.75", "1e1"});
  ExpectAccepts(R"({"type":"number","exclusiveMinimum":0})", {"1", "0.5", "12.25"},
                {"0", "-0.5", "0.0"});
  EXPECT_EQ(ErrorOf(R"({"type":"number","minimum":0.1,"maximum":0.2})"), ErrorCode::kUnprocessable);
}

TEST(JsonSchemaGrammar, Formats) {
  ExpectAccepts(R"({"type":"string","format":"date"})",
                {R"("2024-02-29")", R"("2023-12-31")", R"("2000-02-29")"},
                {R"("2023-02-29")", R"("1900-02-29")", R"("2024-13-01")", R"("2024-04-31")",
                 R"("24-01-01")"});
  ExpectAccepts(
      R"({"type":"string","format":"date-time"})",
      {R"("2024-05-01T13:45:00Z")", R"("2024-05-01T13:45:00.123+08:00")"},
      {R"("2024-05-01 13:45:00Z")", R"("2024-05-01T24:00:00Z")", R"("2024-05-01T13:45:00")"});
  ExpectAccepts(R"({"type":"string","format":"uuid"})",
                {R"("123e4567-e89b-12d3-a456-426614174000")"},
                {R"("123e4567e89b12d3a456426614174000")"});
  ExpectAccepts(R"({"type":"string","format":"email"})", {R"("anything")"}, {});  // an annotation
}

TEST(JsonSchemaGrammar, Patterns) {
  ExpectAccepts(R"({"type":"string","pattern":"^[A-Z]{2}\\d{3}$"})", {R"("AB123")"},
                {R"("AB12")", R"("ab123")"});
  // Unanchored: a search.
  ExpectAccepts(R"({"type":"string","pattern":"ab+c"})", {R"("abc")", R"("xxabbbcyy")"},
                {R"("ac")"});
  // Characters JSON must escape are written escaped.
  ExpectAccepts(R"({"type":"string","pattern":"^\"[^\"]*\"$"})", {R"("\"hi\"")"}, {R"(""hi"")"});
  ExpectAccepts(R"({"type":"string","pattern":"^a\\\\b\\nc$"})", {R"("a\\b\nc")"}, {R"("a\b\nc")"});
  ExpectAccepts(R"({"type":"string","pattern":"^(?:foo|ba[rz])+$"})", {R"("foobaz")"},
                {R"("fooba")"});
  ExpectAccepts(R"({"type":"string","pattern":"^.$"})", {R"("x")", "\"\xE4\xB8\xAD\""},
                {R"("\n")", R"("xy")"});
  for (const char* bad :
       {R"x({"type":"string","pattern":"(a)\\1"})x", R"x({"type":"string","pattern":"a(?=b)"})x",
        R"x({"type":"string","pattern":"\\bword"})x", R"x({"type":"string","pattern":"a^b"})x",
        R"x({"type":"string","pattern":"(a*)*"})x", R"x({"type":"string","pattern":"[z-a]"})x"}) {
    EXPECT_EQ(ErrorOf(bad), ErrorCode::kUnprocessable) << bad;
  }
}

TEST(JsonSchemaGrammar, Combinators) {
  ExpectAccepts(R"({"anyOf":[{"type":"integer"},{"type":"string","maxLength":1}]})",
                {"5", R"("x")"}, {R"("xy")", "true"});
  ExpectAccepts(R"({"oneOf":[{"type":"boolean"},{"type":"null"}]})", {"true", "null"}, {"0"});
  // allOf merges objects and tightens bounds.
  ExpectAccepts(
      R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
                             {"properties":{"b":{"type":"integer","minimum":0}},"required":["b"]}]})",
      {R"({"a":1,"b":2})"}, {R"({"a":1})", R"({"a":1,"b":-1})"});
  ExpectAccepts(R"({"allOf":[{"type":"integer","minimum":3},{"maximum":5}]})", {"3", "5"},
                {"2", "6"});
  // Siblings of anyOf apply to every branch.
  ExpectAccepts(
      R"({"type":"object","properties":{"k":{"type":"integer"}},"additionalProperties":false,
                    "anyOf":[{"required":["k"]}]})",
      {R"({"k":1})"}, {R"({})"});
  // additionalProperties false in one branch keeps the other's extras out.
  EXPECT_EQ(ErrorOf(R"({"allOf":[{"properties":{"a":{}},"additionalProperties":false},
                                 {"properties":{"b":{}},"required":["b"]}]})"),
            ErrorCode::kUnprocessable);
}

TEST(JsonSchemaGrammar, RefsAndRecursion) {
  std::string s = R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
      "kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"],"additionalProperties":false}},
      "$ref":"#/$defs/node"})";
  ExpectAccepts(s, {R"({"v":1})", R"({"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4}]})"},
                {R"({"v":1,"kids":[{}]})"});
  ExpectAccepts(
      R"({"definitions":{"s":{"type":"string"}},"type":"array","items":{"$ref":"#/definitions/s"}})",
      {R"(["a","b"])"}, {"[1]"});
  EXPECT_EQ(ErrorOf(R"({"$ref":"#/$defs/missing"})"), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorOf(R"({"$ref":"https://example.com/s.json"})"), ErrorCode::kUnprocessable);
  // A reference to itself with nothing in between never finishes.
  EXPECT_EQ(ErrorOf(R"({"$ref":"#"})"), ErrorCode::kBadRequest);
}

TEST(JsonSchemaGrammar, UnsupportedKeywordsAreErrorsWhenStrict) {
  for (const char* s :
       {R"({"type":"integer","multipleOf":3})", R"({"type":"array","uniqueItems":true})",
        R"({"not":{"type":"null"}})", R"({"type":"object","minProperties":1})",
        R"({"type":"array","items":[{"type":"integer"}]})",
        R"({"type":"string","pattern":"a","maxLength":3})"}) {
    EXPECT_EQ(ErrorOf(s), ErrorCode::kUnprocessable) << s;
    JsonGrammarOptions lax;
    lax.strict = false;
    EXPECT_NO_THROW(FromSchema(s, lax)) << s;
  }
  EXPECT_EQ(ErrorOf("{not json"), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorOf(R"({"type":"strin"})"), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorOf("false"), ErrorCode::kUnprocessable);
  EXPECT_EQ(ErrorOf(R"({"type":"string","enum":[1,2]})"), ErrorCode::kUnprocessable);
}

TEST(JsonSchemaGrammar, CompactWhitespace) {
  JsonGrammarOptions compact;
  compact.whitespace = false;
  auto g = FromSchema(R"({"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]})",
                      compact);
  EXPECT_TRUE(g->Matches(R"({"a":1})"));
  EXPECT_FALSE(g->Matches(R"({"a": 1})"));
}

TEST(JsonSchemaGrammar, AnyJson) {
  auto obj = Grammar::Parse(AnyJsonGrammar(true));
  EXPECT_TRUE(obj->Matches(R"({"a": [1, 2.5e3, "x", {"b": null}], "c": false})"));
  EXPECT_FALSE(obj->Matches("[1]"));
  EXPECT_FALSE(obj->Matches(R"({"a": 1,})"));
  auto any = Grammar::Parse(AnyJsonGrammar(false));
  EXPECT_TRUE(any->Matches("[1]"));
  EXPECT_TRUE(any->Matches("\"s\""));
}

TEST(JsonSchemaGrammar, ToolCalls) {
  std::vector<ToolGrammarSpec> tools = {
      {"get_weather",
       nlohmann::ordered_json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},
                                                         "required":["city"],"additionalProperties":false})")},
      {"now", nlohmann::ordered_json::parse(R"({"type":"object","properties":{}})")},
  };
  ToolCallGrammarOptions o;
  o.prefix = "<tool_call>\n";
  o.suffix = "\n</tool_call>";
  o.max_calls = 2;
  auto g = Grammar::Parse(ToolCallGrammar(tools, o));
  EXPECT_TRUE(
      g->Matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                 "\"Paris\"}}\n</tool_call>"));
  EXPECT_TRUE(
      g->Matches("<tool_call>\n{\"name\":\"now\",\"arguments\":{}}\n</tool_call>\n"
                 "<tool_call>\n{\"name\":\"now\",\"arguments\":{}}\n</tool_call>"));
  EXPECT_FALSE(
      g->Matches("<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{}}\n</tool_call>"));
  EXPECT_FALSE(g->Matches("<tool_call>\n{\"name\":\"other\",\"arguments\":{}}\n</tool_call>"));
  EXPECT_THROW(ToolCallGrammar({}, o), Error);
  EXPECT_THROW(ToolCallGrammar({tools[0], tools[0]}, o), Error);
}

TEST(RegexGrammar, JsonEncodedCharacterSets) {
  // Only '"' and a control character: both escaped.
  std::string e = JsonEncodedCharsGbnf({{'\n', '\n'}, {'"', '"'}});
  auto g = Grammar::Parse("root ::= " + e);
  EXPECT_TRUE(g->Matches("\\n"));
  EXPECT_TRUE(g->Matches("\\u000a"));
  EXPECT_TRUE(g->Matches("\\u000A"));
  EXPECT_TRUE(g->Matches("\\\""));
  EXPECT_FALSE(g->Matches("\""));
  EXPECT_FALSE(g->Matches("\n"));
}

}  // namespace
}  // namespace haip::infer
