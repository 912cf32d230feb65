// JSON Schema -> grammar text (grammar.h syntax), so that constrained
// decoding can only produce JSON that validates against the schema: for
// `response_format: json_schema`, for `json_object` (any JSON object), and for
// tool calls (`{"name": ..., "arguments": <the tool's parameter schema>}`).
//
// The supported subset is listed in docs/infer-decoding.md. In short: type
// (and unions), properties / required / additionalProperties, enum, const,
// items, minItems / maxItems, minLength / maxLength, pattern (regex_grammar.h),
// format date / time / date-time / uuid, minimum / maximum / exclusive bounds
// (exact for integers; for numbers a safe subset of the range), anyOf, oneOf
// (as anyOf: give it disjoint branches), allOf (merged), $ref into the same
// document ($defs, definitions, "#"), true / false schemas.
//
// The grammar writes each value one way a model naturally would: object
// properties in schema order, required ones always, optional ones when the
// model chooses; extra properties only when additionalProperties is true or a
// schema (an absent additionalProperties allows none); integers up to 18
// digits; numbers with up to 16 fraction digits and a 1-2 digit exponent;
// strings with any JSON escapes (no lone surrogates). Every sentence of the
// grammar is valid JSON and validates against the schema.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace haip::infer {

struct JsonGrammarOptions {
  // Schema keywords the converter cannot enforce (multipleOf, uniqueItems,
  // not, if/then/else, patternProperties, minProperties, prefixItems, ...)
  // are errors (haip::Error kUnprocessable) when strict, ignored otherwise.
  bool strict = true;
  // Allow a space, or a newline and up to 24 spaces or tabs of indentation,
  // around punctuation; false writes compact JSON only.
  bool whitespace = true;
};

// Grammar text for JSON that validates against `schema`. A schema passed as
// text keeps its property order; a parsed haip::Json has its keys sorted.
// Throws haip::Error: kBadRequest for schema text that does not parse or is
// not a schema, kUnprocessable for schemas outside the supported subset or
// that no value satisfies.
std::string JsonSchemaToGrammar(const nlohmann::ordered_json& schema,
                                const JsonGrammarOptions& options = {});
std::string JsonSchemaToGrammar(std::string_view schema_text,
                                const JsonGrammarOptions& options = {});

// Grammar text for any JSON value; with object_only, for a JSON object (what
// `response_format: {"type": "json_object"}` promises).
std::string AnyJsonGrammar(bool object_only = true, const JsonGrammarOptions& options = {});

struct ToolGrammarSpec {
  std::string name;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();  // a JSON Schema
};

struct ToolCallGrammarOptions {
  JsonGrammarOptions json;
  // Each call is written as prefix + {"name": "...", "<arguments_key>": {...}}
  // + suffix; e.g. Qwen's "<tool_call>\n" and "\n</tool_call>".
  std::string prefix;
  std::string suffix;
  std::string arguments_key = "arguments";  // Llama 3.1 uses "parameters"
  // Calls in one reply (at least 1), joined by `separator`.
  int max_calls = 1;
  std::string separator = "\n";
};

// Grammar text for one to max_calls calls of the given tools. Throws
// haip::Error (kBadRequest) for no tools, an empty or repeated name, or
// max_calls < 1, and as JsonSchemaToGrammar for a tool's parameters.
std::string ToolCallGrammar(const std::vector<ToolGrammarSpec>& tools,
                            const ToolCallGrammarOptions& options = {});

}  // namespace haip::infer
