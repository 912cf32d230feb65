#include "infer/json_schema_grammar.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"
#include "infer/regex_grammar.h"

namespace haip::infer {
namespace {

using OJson = nlohmann::ordered_json;
using Ranges = std::vector<Grammar::CodeRange>;

constexpr int kMaxDigits = 18;
constexpr int64_t kMaxMagnitude = 999999999999999999;  // 18 digits
constexpr uint32_t kMaxRepeat = 100000;
constexpr int kMaxDepth = 64;

[[noreturn]] void Unprocessable(const std::string& what) {
  throw Error(ErrorCode::kUnprocessable, "JSON schema: " + what);
}
[[noreturn]] void BadSchema(const std::string& what) {
  throw Error(ErrorCode::kBadRequest, "JSON schema: " + what);
}

const std::set<std::string>& Annotations() {
  static const std::set<std::string> s{
      "title",           "description",   "default",       "examples",
      "$comment",        "$schema",       "$id",           "$anchor",
      "deprecated",      "readOnly",      "writeOnly",     "contentMediaType",
      "contentEncoding", "nullable",      "$defs",         "definitions",
      "strict",          "discriminator", "externalDocs",  "xml",
      "example",         "$vocabulary",   "$dynamicAnchor"};
  return s;
}

const std::set<std::string>& Unsupported() {
  static const std::set<std::string> s{"multipleOf",
                                       "uniqueItems",
                                       "contains",
                                       "minContains",
                                       "maxContains",
                                       "prefixItems",
                                       "additionalItems",
                                       "unevaluatedItems",
                                       "unevaluatedProperties",
                                       "patternProperties",
                                       "propertyNames",
                                       "minProperties",
                                       "maxProperties",
                                       "dependentRequired",
                                       "dependentSchemas",
                                       "dependencies",
                                       "not",
                                       "if",
                                       "then",
                                       "else",
                                       "$dynamicRef",
                                       "$recursiveRef"};
  return s;
}

std::string Lit(std::string_view s) { return GbnfLiteral(s); }

// Joins non-empty parts with spaces.
std::string Seq(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::string Alts(const std::vector<std::string>& parts) {
  if (parts.size() == 1) return parts[0];
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += " | ";
    out += parts[i];
  }
  return out + ")";
}

// ---- integer ranges as digit patterns ----

std::string SameLength(const std::string& x, const std::string& y) {
  size_t n = x.size();
  if (x == y) return Lit(x);
  if (n == 1) return "[" + x + "-" + y + "]";
  if (x[0] == y[0]) return Lit(x.substr(0, 1)) + " " + SameLength(x.substr(1), y.substr(1));
  std::string zeros(n - 1, '0'), nines(n - 1, '9');
  std::vector<std::string> parts;
  char start = x[0], end = y[0];
  if (x.substr(1) != zeros) {
    parts.push_back(Lit(x.substr(0, 1)) + " " + SameLength(x.substr(1), nines));
    ++start;
  }
  bool high = y.substr(1) != nines;
  if (high) --end;
  if (start <= end) {
    std::string cls = start == end ? Lit(std::string(1, start))
                                   : "[" + std::string(1, start) + "-" + std::string(1, end) + "]";
    parts.push_back(cls + " [0-9]{" + std::to_string(n - 1) + "}");
  }
  if (high) parts.push_back(Lit(y.substr(0, 1)) + " " + SameLength(zeros, y.substr(1)));
  return Alts(parts);
}

int DigitCount(int64_t v) { return static_cast<int>(std::to_string(v).size()); }

int64_t Pow10(int e) {
  int64_t v = 1;
  while (e-- > 0) v *= 10;
  return v;
}

// Decimal magnitudes (no sign, no leading zeros) in [a, b], 0 <= a.
std::vector<std::string> MagnitudeRange(int64_t a, int64_t b) {
  std::vector<std::string> alts;
  if (a == 0) {
    alts.push_back("\"0\"");
    a = 1;
  }
  if (b < a) return alts;
  int la = DigitCount(a), lb = DigitCount(b);
  if (la == lb) {
    alts.push_back(SameLength(std::to_string(a), std::to_string(b)));
    return alts;
  }
  alts.push_back(SameLength(std::to_string(a), std::to_string(Pow10(la) - 1)));
  if (lb - la >= 2) {
    // Every number of la+1 .. lb-1 digits.
    alts.push_back("[1-9] [0-9]{" + std::to_string(la) + "," + std::to_string(lb - 2) + "}");
  }
  alts.push_back(SameLength(std::to_string(Pow10(lb - 1)), std::to_string(b)));
  return alts;
}

// Integers in [lo, hi] (clamped to 18 digits); nullopt when none.
std::optional<std::string> IntegerRange(int64_t lo, int64_t hi) {
  lo = std::max(lo, -kMaxMagnitude);
  hi = std::min(hi, kMaxMagnitude);
  if (lo > hi) return std::nullopt;
  std::vector<std::string> parts;
  if (hi >= 0) {
    auto m = MagnitudeRange(std::max<int64_t>(lo, 0), hi);
    parts.insert(parts.end(), m.begin(), m.end());
  }
  if (lo < 0) {
    auto m = MagnitudeRange(hi < 0 ? -hi : 1, -lo);
    if (!m.empty()) parts.push_back("\"-\" " + Alts(m));
  }
  if (parts.empty()) return std::nullopt;
  return Alts(parts);
}

// ---- schema reading helpers ----

std::string TypeName(const OJson& v) {
  switch (v.type()) {
    case OJson::value_t::null:
      return "null";
    case OJson::value_t::boolean:
      return "boolean";
    case OJson::value_t::number_integer:
    case OJson::value_t::number_unsigned:
      return "integer";
    case OJson::value_t::number_float:
      return std::floor(v.get<double>()) == v.get<double>() ? "integer" : "number";
    case OJson::value_t::string:
      return "string";
    case OJson::value_t::array:
      return "array";
    case OJson::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

bool ValueHasType(const OJson& v, const std::string& type) {
  std::string t = TypeName(v);
  return t == type || (type == "number" && t == "integer");
}

std::vector<std::string> TypesOf(const OJson& schema) {
  std::vector<std::string> out;
  if (!schema.contains("type")) return out;
  const OJson& t = schema["type"];
  static const std::set<std::string> known{"null",   "boolean", "integer", "number",
                                           "string", "array",   "object"};
  auto add = [&](const OJson& v) {
    if (!v.is_string() || !known.count(v.get<std::string>())) BadSchema("unknown type " + v.dump());
    out.push_back(v.get<std::string>());
  };
  if (t.is_array()) {
    for (const auto& v : t) add(v);
    if (out.empty()) Unprocessable("an empty type list allows no value");
  } else {
    add(t);
  }
  return out;
}

uint32_t Count(const OJson& schema, const char* key, uint32_t fallback) {
  if (!schema.contains(key)) return fallback;
  const OJson& v = schema[key];
  if (!v.is_number_integer() &&
      !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
    BadSchema(std::string(key) + " must be a non-negative integer");
  }
  double d = v.get<double>();
  if (d < 0) BadSchema(std::string(key) + " must be a non-negative integer");
  return d > kMaxRepeat ? kMaxRepeat + 1 : static_cast<uint32_t>(d);
}

struct Bound {
  bool has = false;
  bool exclusive = false;
  bool integer = false;  // value given as a JSON integer (exact in `ivalue`)
  int64_t ivalue = 0;
  double value = 0;
};

Bound ReadBound(const OJson& v, bool exclusive) {
  if (!v.is_number()) BadSchema("numeric bounds must be numbers");
  Bound b;
  b.has = true;
  b.exclusive = exclusive;
  b.value = v.get<double>();
  if (v.is_number_integer() || v.is_number_unsigned()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      b.value = v.get<double>();
    } else {
      b.integer = true;
      b.ivalue = v.get<int64_t>();
    }
  }
  return b;
}

// The tighter of minimum / exclusiveMinimum (or maximum / exclusiveMaximum).
Bound Tighter(const Bound& a, const Bound& b, bool lower) {
  if (!a.has) return b;
  if (!b.has) return a;
  if (a.value != b.value) return (a.value > b.value) == lower ? a : b;
  return a.exclusive ? a : b;
}

Bound LowerBound(const OJson& s) {
  Bound b;
  if (s.contains("minimum")) b = ReadBound(s["minimum"], false);
  if (s.contains("exclusiveMinimum")) {
    const OJson& e = s["exclusiveMinimum"];
    if (e.is_boolean()) {
      if (e.get<bool>() && b.has) b.exclusive = true;  // draft 4
    } else {
      b = Tighter(b, ReadBound(e, true), true);
    }
  }
  return b;
}

Bound UpperBound(const OJson& s) {
  Bound b;
  if (s.contains("maximum")) b = ReadBound(s["maximum"], false);
  if (s.contains("exclusiveMaximum")) {
    const OJson& e = s["exclusiveMaximum"];
    if (e.is_boolean()) {
      if (e.get<bool>() && b.has) b.exclusive = true;
    } else {
      b = Tighter(b, ReadBound(e, true), false);
    }
  }
  return b;
}

constexpr double kMagnitudeLimit = 1e18;

// Smallest integer allowed by a lower bound; nullopt when unbounded.
std::optional<int64_t> IntegerFloor(const Bound& b) {
  if (!b.has) return std::nullopt;
  if (b.integer) return b.exclusive ? b.ivalue + 1 : b.ivalue;
  if (b.value <= -kMagnitudeLimit) return std::nullopt;
  if (b.value >= kMagnitudeLimit)
    Unprocessable("minimum beyond the 18-digit integers the grammar writes");
  double c = b.exclusive ? std::floor(b.value) + 1 : std::ceil(b.value);
  return static_cast<int64_t>(c);
}

std::optional<int64_t> IntegerCeil(const Bound& b) {
  if (!b.has) return std::nullopt;
  if (b.integer) return b.exclusive ? b.ivalue - 1 : b.ivalue;
  if (b.value >= kMagnitudeLimit) return std::nullopt;
  if (b.value <= -kMagnitudeLimit)
    Unprocessable("maximum beyond the 18-digit integers the grammar writes");
  double c = b.exclusive ? std::ceil(b.value) - 1 : std::floor(b.value);
  return static_cast<int64_t>(c);
}

std::vector<uint32_t> CodePoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    uint32_t v = n == 0 ? c : c & (n == 1 ? 0x1F : n == 2 ? 0x0F : 0x07);
    for (int k = 1; k <= n && i + static_cast<size_t>(k) < s.size(); ++k) {
      v = (v << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    }
    out.push_back(v);
    i += static_cast<size_t>(n) + 1;
  }
  return out;
}

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// ---- the converter ----

class Converter {
 public:
  explicit Converter(const JsonGrammarOptions& options) : options_(options) {}

  void SetDocument(const OJson* document, std::string ns) {
    document_ = document;
    ns_ = std::move(ns);
  }

  std::string Ws() { return options_.whitespace ? Primitive("ws") : ""; }

  // Adds a rule; identical bodies share one.
  std::string AddRule(std::string_view hint, const std::string& body) {
    auto it = by_body_.find(body);
    if (it != by_body_.end()) return it->second;
    std::string name = FreshName(hint);
    rules_.emplace_back(name, body);
    by_body_.emplace(body, name);
    return name;
  }

  std::string Primitive(const std::string& name) {
    if (primitives_.count(name)) return name;
    primitives_.insert(name);
    names_.insert(name);
    std::string w = options_.whitespace ? "ws" : "";
    std::string body;
    if (name == "ws") {
      body = "( \" \" | \"\\n\" [ \\t]{0,24} )?";
    } else if (name == "hex") {
      body = "[0-9a-fA-F]";
    } else if (name == "char") {
      Primitive("hex");
      body =
          "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" ( [0-9a-cA-CefEF] hex hex hex "
          "| [dD] [0-7] hex hex "
          "| [dD] [89abAB] hex hex \"\\\\u\" [dD] [c-fC-F] hex hex ) )";
    } else if (name == "string") {
      Primitive("char");
      body = "\"\\\"\" char* \"\\\"\"";
    } else if (name == "integer") {
      body = "\"-\"? ( \"0\" | [1-9] [0-9]{0," + std::to_string(kMaxDigits - 1) + "} )";
    } else if (name == "number") {
      body = "\"-\"? ( \"0\" | [1-9] [0-9]{0," + std::to_string(kMaxDigits - 1) +
             "} ) ( \".\" [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )?";
    } else if (name == "boolean") {
      body = "\"true\" | \"false\"";
    } else if (name == "null") {
      body = "\"null\"";
    } else if (name == "value") {
      for (const char* p : {"object", "array", "string", "number", "boolean", "null"}) Primitive(p);
      body = "object | array | string | number | boolean | null";
    } else if (name == "object") {
      Primitive("member");
      if (!w.empty()) Primitive("ws");
      body = Seq({"\"{\"", w, "( member (", w, "\",\"", w, "member )*", w, ")? \"}\""});
    } else if (name == "member") {
      Primitive("string");
      Primitive("value");
      body = Seq({"string", w, "\":\"", w, "value"});
    } else if (name == "array") {
      Primitive("value");
      body = Seq({"\"[\"", w, "( value (", w, "\",\"", w, "value )*", w, ")? \"]\""});
    } else if (name == "date") {
      body =
          "[0-9]{4} \"-\" ( ( \"0\" [13578] | \"1\" [02] ) \"-\" ( \"0\" [1-9] | [12] [0-9] | "
          "\"3\" [01] ) "
          "| ( \"0\" [469] | \"11\" ) \"-\" ( \"0\" [1-9] | [12] [0-9] | \"30\" ) "
          "| \"02-\" ( \"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8] ) ) "
          "| ( [0-9]{2} ( \"0\" [48] | [2468] [048] | [13579] [26] ) | ( \"0\" [048] | [2468] "
          "[048] | [13579] [26] ) "
          "\"00\" ) \"-02-29\"";
    } else if (name == "time") {
      body =
          "( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{1,9} )? "
          "( \"Z\" | [+-] ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )";
    } else if (name == "date-time") {
      Primitive("date");
      Primitive("time");
      body = "date \"T\" time";
    } else if (name == "uuid") {
      Primitive("hex");
      body = "hex{8} \"-\" hex{4} \"-\" hex{4} \"-\" hex{4} \"-\" hex{12}";
    } else {
      throw Error(ErrorCode::kInternal, "JSON schema grammar: no primitive " + name);
    }
    primitive_rules_.emplace_back(name, body);
    return name;
  }

  std::string Text(const std::string& root_expr) const {
    std::string out = "root ::= " + root_expr + "\n";
    for (const auto& [n, b] : rules_) out += n + " ::= " + b + "\n";
    for (const auto& [n, b] : primitive_rules_) out += n + " ::= " + b + "\n";
    return out;
  }

  std::string Visit(const OJson& schema, const std::string& hint, int depth = 0) {
    if (depth > kMaxDepth)
      Unprocessable("nested or referenced too deeply (over " + std::to_string(kMaxDepth) + ")");
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) Unprocessable("the schema false allows no value");
      return Primitive("value");
    }
    if (!schema.is_object())
      BadSchema("a schema must be an object or a boolean, not " + schema.dump());
    CheckKeywords(schema);

    if (schema.contains("$ref")) {
      OJson rest = WithoutAnnotations(schema);
      rest.erase("$ref");
      if (rest.empty()) return RefRule(RefString(schema["$ref"]), depth);
      OJson target = Resolve(RefString(schema["$ref"]));
      return Visit(Merge(target, rest, depth), hint, depth + 1);
    }
    if (schema.contains("allOf")) {
      const OJson& all = schema["allOf"];
      if (!all.is_array() || all.empty()) BadSchema("allOf must be a non-empty array");
      OJson merged = schema;
      merged.erase("allOf");
      for (const auto& sub : all) merged = Merge(merged, sub, depth);
      return Visit(merged, hint, depth + 1);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!schema.contains(key)) continue;
      const OJson& branches = schema[key];
      if (!branches.is_array() || branches.empty())
        BadSchema(std::string(key) + " must be a non-empty array");
      OJson rest = schema;
      rest.erase(key);
      bool has_rest = !WithoutAnnotations(rest).empty();
      std::vector<std::string> alts;
      int i = 0;
      for (const auto& b : branches) {
        std::string h = hint + "-" + std::to_string(i++);
        alts.push_back(Visit(has_rest ? Merge(rest, b, depth) : b, h, depth + 1));
      }
      return AddRule(hint, JoinAlts(alts));
    }

    std::vector<std::string> types = TypesOf(schema);
    if (schema.contains("const") || schema.contains("enum")) return EnumRule(schema, types, hint);
    if (types.empty()) types = InferTypes(schema);
    if (types.empty()) return Primitive("value");
    std::vector<std::string> alts;
    for (const auto& t : types)
      alts.push_back(VisitType(schema, t, types.size() > 1 ? hint + "-" + t : hint, depth));
    if (alts.size() == 1) return alts[0];
    return AddRule(hint, JoinAlts(alts));
  }

 private:
  static std::string JoinAlts(const std::vector<std::string>& alts) {
    std::string out;
    for (size_t i = 0; i < alts.size(); ++i) {
      if (i) out += " | ";
      out += alts[i];
    }
    return out;
  }

  std::string FreshName(std::string_view hint) {
    std::string base;
    for (char c : hint) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      char out = ok ? c : '-';
      if (out == '-' && (base.empty() || base.back() == '-')) continue;
      base += out;
      if (base.size() >= 40) break;
    }
    while (!base.empty() && base.back() == '-') base.pop_back();
    if (base.empty()) base = "r";
    static const std::set<std::string> reserved{
        "root",  "ws",     "hex",   "char",   "string", "integer", "number",    "boolean", "null",
        "value", "object", "array", "member", "date",   "time",    "date-time", "uuid"};
    std::string name = base;
    for (int i = 2; names_.count(name) || reserved.count(name); ++i)
      name = base + "-" + std::to_string(i);
    names_.insert(name);
    return name;
  }

  void CheckKeywords(const OJson& schema) const {
    if (!options_.strict) return;
    for (const auto& [key, value] : schema.items()) {
      if (Unsupported().count(key)) Unprocessable("keyword '" + key + "' is not supported");
      if (key == "items" && value.is_array())
        Unprocessable("tuple form of 'items' is not supported");
      if (key == "anyOf" && schema.contains("oneOf"))
        Unprocessable("anyOf together with oneOf is not supported");
    }
  }

  static OJson WithoutAnnotations(const OJson& schema) {
    OJson out = OJson::object();
    for (const auto& [key, value] : schema.items()) {
      if (!Annotations().count(key)) out[key] = value;
    }
    return out;
  }

  static std::string RefString(const OJson& ref) {
    if (!ref.is_string()) BadSchema("$ref must be a string");
    return ref.get<std::string>();
  }

  OJson Resolve(const std::string& ref) const {
    if (ref.empty() || ref[0] != '#')
      Unprocessable("only references within the schema (\"#...\") are supported: " + ref);
    std::string pointer;
    for (size_t i = 1; i < ref.size(); ++i) {
      auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
      if (ref[i] == '%' && i + 2 < ref.size() && hex(ref[i + 1]) && hex(ref[i + 2])) {
        pointer += static_cast<char>(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        pointer += ref[i];
      }
    }
    try {
      return document_->at(OJson::json_pointer(pointer));
    } catch (const nlohmann::json::exception&) {
      BadSchema("$ref " + ref + " points to nothing in the schema");
    }
  }

  std::string RefRule(const std::string& ref, int depth) {
    std::string key = ns_ + ref;
    auto it = refs_.find(key);
    if (it != refs_.end()) return it->second;
    std::string hint = ref == "#" ? "root-ref" : ref.substr(ref.rfind('/') + 1);
    std::string name = FreshName(ns_ + hint);
    refs_.emplace(key, name);
    OJson target = Resolve(ref);
    std::string expr = Visit(target, name, depth + 1);
    rules_.emplace_back(name, expr);
    return name;
  }

  std::vector<std::string> InferTypes(const OJson& s) const {
    std::vector<std::string> t;
    auto any = [&](std::initializer_list<const char*> keys) {
      return std::any_of(keys.begin(), keys.end(), [&](const char* k) { return s.contains(k); });
    };
    if (any({"properties", "required", "additionalProperties"})) t.push_back("object");
    if (any({"items", "minItems", "maxItems"})) t.push_back("array");
    if (any({"minLength", "maxLength", "pattern", "format"})) t.push_back("string");
    if (any({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})) t.push_back("number");
    return t;
  }

  std::string EnumRule(const OJson& schema, const std::vector<std::string>& types,
                       const std::string& hint) {
    std::vector<OJson> values;
    if (schema.contains("const")) {
      values.push_back(schema["const"]);
      if (schema.contains("enum")) {
        const OJson& e = schema["enum"];
        if (!e.is_array() || std::find(e.begin(), e.end(), values[0]) == e.end()) {
          Unprocessable("const " + values[0].dump() + " is not in enum");
        }
      }
    } else {
      const OJson& e = schema["enum"];
      if (!e.is_array()) BadSchema("enum must be an array");
      for (const auto& v : e) values.push_back(v);
    }
    std::vector<std::string> alts;
    for (const auto& v : values) {
      if (!types.empty() && std::none_of(types.begin(), types.end(), [&](const std::string& t) {
            return ValueHasType(v, t);
          })) {
        continue;
      }
      alts.push_back(Lit(v.dump()));
    }
    if (alts.empty()) Unprocessable("no enum or const value has the schema's type");
    return AddRule(hint, JoinAlts(alts));
  }

  std::string VisitType(const OJson& s, const std::string& type, const std::string& hint,
                        int depth) {
    if (type == "null") return Primitive("null");
    if (type == "boolean") return Primitive("boolean");
    if (type == "integer") return IntegerRule(s, hint);
    if (type == "number") return NumberRule(s, hint);
    if (type == "string") return StringRule(s, hint);
    if (type == "array") return ArrayRule(s, hint, depth);
    return ObjectRule(s, hint, depth);
  }

  std::string IntegerRule(const OJson& s, const std::string& hint) {
    Bound lo = LowerBound(s), hi = UpperBound(s);
    if (!lo.has && !hi.has) return Primitive("integer");
    auto a = IntegerFloor(lo), b = IntegerCeil(hi);
    auto expr = IntegerRange(a.value_or(-kMaxMagnitude), b.value_or(kMaxMagnitude));
    if (!expr) Unprocessable("no integer lies within minimum/maximum");
    return AddRule(hint, *expr);
  }

  std::string NumberRule(const OJson& s, const std::string& hint) {
    Bound lo = LowerBound(s), hi = UpperBound(s);
    if (!lo.has && !hi.has) return Primitive("number");
    std::vector<std::string> parts;
    // Integers in range, written without a fraction.
    auto a = IntegerFloor(lo), b = IntegerCeil(hi);
    if (auto ints = IntegerRange(a.value_or(-kMaxMagnitude), b.value_or(kMaxMagnitude)))
      parts.push_back(*ints);
    // I.F with F ending in a non-zero digit lies strictly between I and I+1,
    // so I >= ceil(lo) and I + 1 <= floor(hi) keep it in range either way.
    std::string frac = "\".\" [0-9]{0,15} [1-9]";
    auto ceil_of = [](const Bound& x) -> double { return std::ceil(x.value); };
    auto floor_of = [](const Bound& x) -> double { return std::floor(x.value); };
    auto clamp = [](double v) -> int64_t {
      if (v >= 1e18) return kMaxMagnitude;
      if (v <= -1e18) return -kMaxMagnitude;
      return static_cast<int64_t>(v);
    };
    {
      int64_t from = lo.has ? std::max<int64_t>(0, clamp(ceil_of(lo))) : 0;
      int64_t to = hi.has ? clamp(floor_of(hi) - 1) : kMaxMagnitude;
      if (from <= to) parts.push_back(Alts(MagnitudeRange(from, to)) + " " + frac);
    }
    {
      // -(I.F) lies strictly between -(I+1) and -I.
      int64_t from = hi.has ? std::max<int64_t>(0, clamp(std::ceil(-hi.value))) : 0;
      int64_t to = lo.has ? clamp(std::floor(-lo.value) - 1) : kMaxMagnitude;
      if (from <= to) parts.push_back("\"-\" " + Alts(MagnitudeRange(from, to)) + " " + frac);
    }
    if (parts.empty()) Unprocessable("no number the grammar can write lies within minimum/maximum");
    return AddRule(hint, JoinAlts(parts));
  }

  std::string StringRule(const OJson& s, const std::string& hint) {
    bool has_len = s.contains("minLength") || s.contains("maxLength");
    std::string format;
    if (s.contains("format")) {
      if (!s["format"].is_string()) BadSchema("format must be a string");
      format = s["format"].get<std::string>();
    }
    static const std::set<std::string> formats{"date", "time", "date-time", "uuid"};
    std::string q = "\"\\\"\"";
    if (formats.count(format)) {
      if (options_.strict && (has_len || s.contains("pattern"))) {
        Unprocessable("format '" + format +
                      "' together with pattern or minLength/maxLength is not supported");
      }
      return AddRule(hint, q + " " + Primitive(format) + " " + q);
    }
    if (s.contains("pattern")) {
      if (options_.strict && has_len)
        Unprocessable("pattern together with minLength/maxLength is not supported");
      if (!s["pattern"].is_string()) BadSchema("pattern must be a string");
      Primitive("char");
      std::string content = RegexToJsonContentGbnf(
          s["pattern"].get<std::string>(), "char",
          [this](std::string_view h, const std::string& body) { return AddRule(h, body); });
      return AddRule(hint, q + " " + content + " " + q);
    }
    if (!has_len) return Primitive("string");
    uint32_t min = Count(s, "minLength", 0);
    uint32_t max = Count(s, "maxLength", UINT32_MAX);
    if (min > kMaxRepeat) Unprocessable("minLength over " + std::to_string(kMaxRepeat));
    if (max < min) Unprocessable("maxLength below minLength");
    Primitive("char");
    std::string rep = max == UINT32_MAX ? "{" + std::to_string(min) + ",}"
                                        : "{" + std::to_string(min) + "," +
                                              std::to_string(std::min(max, kMaxRepeat)) + "}";
    return AddRule(hint, q + " char" + rep + " " + q);
  }

  std::string ArrayRule(const OJson& s, const std::string& hint, int depth) {
    std::string item = s.contains("items") && !s["items"].is_array()
                           ? Visit(s["items"], hint + "-item", depth + 1)
                           : Primitive("value");
    uint32_t min = Count(s, "minItems", 0);
    uint32_t max = Count(s, "maxItems", UINT32_MAX);
    if (min > kMaxRepeat) Unprocessable("minItems over " + std::to_string(kMaxRepeat));
    if (max < min) Unprocessable("maxItems below minItems");
    std::string w = Ws();
    if (max == 0) return AddRule(hint, Seq({"\"[\"", w, "\"]\""}));
    uint32_t tail_min = min == 0 ? 0 : min - 1;
    std::string tail_rep = max == UINT32_MAX
                               ? "{" + std::to_string(tail_min) + ",}"
                               : "{" + std::to_string(tail_min) + "," +
                                     std::to_string(std::min(max, kMaxRepeat) - 1) + "}";
    std::string list = Seq({item, "(", w, "\",\"", w, item, ")" + tail_rep});
    if (tail_rep == "{0,0}") list = item;
    if (min == 0) return AddRule(hint, Seq({"\"[\"", w, "(", list, w, ")? \"]\""}));
    return AddRule(hint, Seq({"\"[\"", w, list, w, "\"]\""}));
  }

  // Keys of extra properties: raw characters only, never one of `declared`.
  std::string ExtraKeyRule(const std::vector<std::string>& declared, const std::string& hint) {
    Ranges key_chars = {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0xD7FF}, {0xE000, 0x10FFFF}};
    std::string kc = AddRule("key-char", GbnfCharClass(key_chars));
    struct TrieNode {
      std::map<uint32_t, size_t> kids;
      bool terminal = false;
    };
    std::vector<TrieNode> trie(1);
    for (const auto& key : declared) {
      auto cps = CodePoints(key);
      bool plain = std::all_of(cps.begin(), cps.end(),
                               [](uint32_t c) { return c >= 0x20 && c != '"' && c != '\\'; });
      if (!plain) continue;  // an escaped key can never equal a raw one
      size_t n = 0;
      for (uint32_t c : cps) {
        auto it = trie[n].kids.find(c);
        if (it == trie[n].kids.end()) {
          trie.push_back({});
          it = trie[n].kids.emplace(c, trie.size() - 1).first;
        }
        n = it->second;
      }
      trie[n].terminal = true;
    }
    // rest(n): the characters after reaching trie node n that do not finish
    // on a declared key.
    std::function<std::string(size_t)> rest = [&](size_t n) -> std::string {
      std::vector<std::string> alts;
      if (!trie[n].terminal) alts.push_back("\"\"");
      Ranges others;
      uint32_t next = 0;
      for (const auto& [c, child] : trie[n].kids) {
        alts.push_back(Lit(Utf8(c)) + " " + rest(child));
        if (c > next) others.push_back({next, c - 1});
        next = c + 1;
      }
      others.push_back({next, 0x10FFFF});
      Ranges allowed;
      for (const auto& o : others) {
        for (const auto& k : key_chars) {
          uint32_t lo = std::max(o.lo, k.lo), hi = std::min(o.hi, k.hi);
          if (lo <= hi) allowed.push_back({lo, hi});
        }
      }
      if (!allowed.empty()) alts.push_back(GbnfCharClass(allowed) + " " + kc + "*");
      return AddRule(hint + "-key", JoinAlts(alts));
    };
    return AddRule(hint + "-key", "\"\\\"\" " + rest(0) + " \"\\\"\"");
  }

  std::string ObjectRule(const OJson& s, const std::string& hint, int depth) {
    struct Prop {
      std::string key;
      OJson schema;
      bool required = false;
    };
    std::vector<Prop> props;
    if (s.contains("properties")) {
      if (!s["properties"].is_object()) BadSchema("properties must be an object");
      for (const auto& [k, v] : s["properties"].items()) props.push_back({k, v, false});
    }
    OJson additional =
        s.contains("additionalProperties") ? s["additionalProperties"] : OJson(false);
    if (!additional.is_boolean() && !additional.is_object())
      BadSchema("additionalProperties must be a schema");
    bool extras = !(additional.is_boolean() && !additional.get<bool>());
    if (s.contains("required")) {
      if (!s["required"].is_array()) BadSchema("required must be an array of names");
      for (const auto& r : s["required"]) {
        if (!r.is_string()) BadSchema("required must be an array of names");
        std::string key = r.get<std::string>();
        auto it =
            std::find_if(props.begin(), props.end(), [&](const Prop& p) { return p.key == key; });
        if (it != props.end()) {
          it->required = true;
          continue;
        }
        bool explicit_false = s.contains("additionalProperties") &&
                              s["additionalProperties"].is_boolean() &&
                              !s["additionalProperties"].get<bool>();
        if (explicit_false)
          Unprocessable("required property '" + key + "' is not allowed by additionalProperties");
        props.push_back({key, additional.is_object() ? additional : OJson(true), true});
      }
    }
    std::string w = Ws();
    std::string comma = Seq({w, "\",\"", w});
    std::vector<std::string> kv;
    for (const auto& p : props) {
      std::string value = Visit(p.schema, hint + "-" + p.key, depth + 1);
      kv.push_back(AddRule(hint + "-" + p.key + "-kv",
                           Seq({Lit(OJson(p.key).dump()), w, "\":\"", w, value})));
    }
    std::string extra_kv;
    if (extras) {
      std::vector<std::string> declared;
      for (const auto& p : props) declared.push_back(p.key);
      std::string key = ExtraKeyRule(declared, hint + "-extra");
      std::string value = additional.is_object() ? Visit(additional, hint + "-extra", depth + 1)
                                                 : Primitive("value");
      extra_kv = AddRule(hint + "-extra-kv", Seq({key, w, "\":\"", w, value}));
    }
    // after[i]: the rest of the members from i on when one was written
    // already; first[i]: the same when none was (empty when none is possible).
    size_t n = props.size();
    std::vector<std::string> first(n + 1), after(n + 1);
    after[n] = extras ? AddRule(hint + "-rest", "( " + comma + " " + extra_kv + " )*") : "";
    first[n] = extras ? AddRule(hint + "-rest", Seq({extra_kv, after[n]})) : "";
    for (size_t i = n; i-- > 0;) {
      std::string with = Seq({comma, kv[i], after[i + 1]});
      std::string a = props[i].required ? with
                                        : (after[i + 1].empty() ? "( " + with + " )?"
                                                                : with + " | " + after[i + 1]);
      after[i] = AddRule(hint + "-rest", a);
      std::string start = Seq({kv[i], after[i + 1]});
      std::string f =
          props[i].required || first[i + 1].empty() ? start : start + " | " + first[i + 1];
      first[i] = AddRule(hint + "-rest", f);
    }
    bool any_required =
        std::any_of(props.begin(), props.end(), [](const Prop& p) { return p.required; });
    if (first[0].empty()) return AddRule(hint, Seq({"\"{\"", w, "\"}\""}));
    if (any_required) return AddRule(hint, Seq({"\"{\"", w, first[0], w, "\"}\""}));
    return AddRule(hint, Seq({"\"{\"", w, "(", first[0], w, ")? \"}\""}));
  }

  // ---- allOf ----

  OJson Merge(const OJson& a_in, const OJson& b_in, int depth) {
    if (depth > kMaxDepth) Unprocessable("allOf nested or referenced too deeply");
    auto resolve = [&](const OJson& x) -> OJson {
      if (x.is_boolean()) {
        if (!x.get<bool>()) Unprocessable("allOf with the schema false allows no value");
        return OJson::object();
      }
      if (!x.is_object()) BadSchema("a schema must be an object or a boolean");
      OJson out = x;
      int guard = 0;
      while (out.contains("$ref")) {
        if (++guard > kMaxDepth) Unprocessable("$ref chain too long");
        OJson target = Resolve(RefString(out["$ref"]));
        out.erase("$ref");
        out = Merge(target, out, depth + 1);
      }
      if (out.contains("allOf")) {
        OJson all = out["allOf"];
        out.erase("allOf");
        for (const auto& sub : all) out = Merge(out, sub, depth + 1);
      }
      return out;
    };
    OJson a = resolve(a_in), b = resolve(b_in);
    CheckKeywords(a);
    CheckKeywords(b);
    OJson out = a;
    for (const auto& [key, bv] : b.items()) {
      if (Annotations().count(key)) continue;
      if (!out.contains(key)) {
        out[key] = bv;
        continue;
      }
      const OJson av = out[key];
      if (av == bv) continue;
      if (key == "type") {
        std::vector<std::string> ta = TypesOf(a), tb = TypesOf(b), both;
        for (const auto& x : ta) {
          for (const auto& y : tb) {
            if (x == y || (x == "integer" && y == "number"))
              both.push_back(x);
            else if (x == "number" && y == "integer")
              both.push_back(y);
          }
        }
        if (both.empty()) Unprocessable("allOf: no type satisfies every branch");
        OJson t = OJson::array();
        for (const auto& x : both) {
          if (std::find(t.begin(), t.end(), x) == t.end()) t.push_back(x);
        }
        out["type"] = t.size() == 1 ? t[0] : t;
      } else if (key == "properties") {
        for (const auto& [pk, pv] : bv.items()) {
          out["properties"][pk] = av.contains(pk) ? Merge(av[pk], pv, depth + 1) : pv;
        }
      } else if (key == "required") {
        for (const auto& r : bv) {
          if (std::find(out["required"].begin(), out["required"].end(), r) ==
              out["required"].end()) {
            out["required"].push_back(r);
          }
        }
      } else if (key == "additionalProperties") {
        if ((av.is_boolean() && !av.get<bool>()) || (bv.is_boolean() && !bv.get<bool>())) {
          out[key] = false;
        } else if (av.is_boolean()) {
          out[key] = bv;
        } else if (!bv.is_boolean()) {
          out[key] = Merge(av, bv, depth + 1);
        }
      } else if (key == "minimum" || key == "minLength" || key == "minItems" ||
                 (key == "exclusiveMinimum" && av.is_number() && bv.is_number())) {
        out[key] = av.get<double>() >= bv.get<double>() ? av : bv;
      } else if (key == "maximum" || key == "maxLength" || key == "maxItems" ||
                 (key == "exclusiveMaximum" && av.is_number() && bv.is_number())) {
        out[key] = av.get<double>() <= bv.get<double>() ? av : bv;
      } else if (key == "enum") {
        OJson both = OJson::array();
        for (const auto& v : av) {
          if (std::find(bv.begin(), bv.end(), v) != bv.end()) both.push_back(v);
        }
        if (both.empty()) Unprocessable("allOf: no enum value satisfies every branch");
        out[key] = both;
      } else if (key == "items") {
        out[key] = Merge(av, bv, depth + 1);
      } else if (key == "const") {
        Unprocessable("allOf: different const values");
      } else if (Unsupported().count(key) || key == "pattern" || key == "format" ||
                 key == "anyOf" || key == "oneOf" || key == "exclusiveMinimum" ||
                 key == "exclusiveMaximum") {
        Unprocessable("allOf: branches with different '" + key + "' cannot be merged");
      }
    }
    // additionalProperties: false in one branch limits the other branch's
    // properties to its own; a schema there applies to the other's extras.
    auto restrict = [&](const OJson& limiter, const OJson& other) {
      if (!limiter.contains("additionalProperties")) return;
      const OJson& ap = limiter["additionalProperties"];
      if (!other.contains("properties")) return;
      for (const auto& [pk, pv] : other["properties"].items()) {
        bool declared = limiter.contains("properties") && limiter["properties"].contains(pk);
        if (declared) continue;
        if (ap.is_boolean() && !ap.get<bool>()) {
          bool required = out.contains("required") &&
                          std::find(out["required"].begin(), out["required"].end(), pk) !=
                              out["required"].end();
          if (required)
            Unprocessable("allOf: required property '" + pk + "' is not allowed by another branch");
          out["properties"].erase(pk);
        } else if (ap.is_object()) {
          out["properties"][pk] = Merge(out["properties"][pk], ap, depth + 1);
        }
      }
    };
    restrict(a, b);
    restrict(b, a);
    return out;
  }

  JsonGrammarOptions options_;
  const OJson* document_ = nullptr;
  std::string ns_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::vector<std::pair<std::string, std::string>> primitive_rules_;
  std::map<std::string, std::string> by_body_;
  std::set<std::string> names_;
  std::set<std::string> primitives_;
  std::map<std::string, std::string> refs_;
};

}  // namespace

std::string JsonSchemaToGrammar(const nlohmann::ordered_json& schema,
                                const JsonGrammarOptions& options) {
  Converter c(options);
  c.SetDocument(&schema, "");
  std::string root = c.Visit(schema, "value");
  return c.Text(root);
}

std::string JsonSchemaToGrammar(std::string_view schema_text, const JsonGrammarOptions& options) {
  OJson schema;
  try {
    schema = OJson::parse(schema_text);
  } catch (const nlohmann::json::exception& e) {
    BadSchema(std::string("not valid JSON: ") + e.what());
  }
  return JsonSchemaToGrammar(schema, options);
}

std::string AnyJsonGrammar(bool object_only, const JsonGrammarOptions& options) {
  Converter c(options);
  std::string root = c.Primitive(object_only ? "object" : "value");
  return c.Text(root);
}

std::string ToolCallGrammar(const std::vector<ToolGrammarSpec>& tools,
                            const ToolCallGrammarOptions& options) {
  if (tools.empty()) throw Error(ErrorCode::kBadRequest, "tool call grammar: no tools");
  if (options.max_calls < 1)
    throw Error(ErrorCode::kBadRequest, "tool call grammar: max_calls must be at least 1");
  std::set<std::string> seen;
  Converter c(options.json);
  std::string w = c.Ws();
  std::vector<std::string> calls;
  for (const auto& tool : tools) {
    if (tool.name.empty())
      throw Error(ErrorCode::kBadRequest, "tool call grammar: a tool without a name");
    if (!seen.insert(tool.name).second) {
      throw Error(ErrorCode::kBadRequest,
                  "tool call grammar: tool '" + tool.name + "' listed twice");
    }
    c.SetDocument(&tool.parameters, "tool-" + tool.name + "-");
    std::string args = c.Visit(tool.parameters, "tool-" + tool.name + "-args");
    calls.push_back(c.AddRule(
        "tool-" + tool.name,
        Seq({"\"{\"", w, Lit("\"name\""), w, "\":\"", w, Lit(OJson(tool.name).dump()), w, "\",\"",
             w, Lit(OJson(options.arguments_key).dump()), w, "\":\"", w, args, w, "\"}\""})));
  }
  std::string call =
      c.AddRule("tool-call", Seq({options.prefix.empty() ? "" : Lit(options.prefix), Alts(calls),
                                  options.suffix.empty() ? "" : Lit(options.suffix)}));
  std::string root = call;
  if (options.max_calls > 1) {
    root = Seq({call, "(", options.separator.empty() ? "" : Lit(options.separator), call,
                ")" + std::string("{0,") + std::to_string(options.max_calls - 1) + "}"});
  }
  return c.Text(root);
}

}  // namespace haip::infer
