#include "decode_testing.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>
#include <set>

#include "infer/gguf.h"
#include "infer/sampler.h"

namespace haip::infer::testing {

using OJson = nlohmann::ordered_json;
using Json = nlohmann::json;

std::string SharedModelsDir() {
  std::string dir = std::string(HAIP_SHARED) + "/models";
  return std::filesystem::is_directory(dir) ? dir : "";
}

// ---------------------------------------------------------------- vocabularies

namespace {

const std::vector<uint32_t>& ByteToCodePoint() {
  static const std::vector<uint32_t> map = [] {
    std::vector<uint32_t> m(256);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      m[b] = printable ? b : 256 + extra++;
    }
    return m;
  }();
  return map;
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

// Code points of valid UTF-8 (the validator only sees parsed JSON strings).
std::u32string CodePoints(const std::string& s) {
  std::u32string out;
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

}  // namespace

std::string Gpt2Encode(const std::string& bytes) {
  std::string out;
  for (unsigned char b : bytes) out += Utf8(ByteToCodePoint()[b]);
  return out;
}

std::string Gpt2Decode(const std::string& text) {
  static const std::vector<int> inverse = [] {
    std::vector<int> inv(512, -1);
    for (uint32_t b = 0; b < 256; ++b) inv[ByteToCodePoint()[b]] = static_cast<int>(b);
    return inv;
  }();
  std::string out;
  for (char32_t cp : CodePoints(text)) {
    if (cp < inverse.size() && inverse[cp] >= 0) {
      out += static_cast<char>(inverse[cp]);
    } else {
      out += Utf8(cp);
    }
  }
  return out;
}

std::shared_ptr<const DecodeVocab> LoadGgufVocab(const std::string& path) {
  GgufFile f = GgufFile::Open(path);
  const GgufArray& tokens = f.GetArray("tokenizer.ggml.tokens");
  std::vector<int64_t> types;
  if (f.Has("tokenizer.ggml.token_type")) types = f.GetArray("tokenizer.ggml.token_type").ints;
  std::vector<std::string> bytes;
  std::vector<bool> special;
  for (size_t i = 0; i < tokens.strings.size(); ++i) {
    int64_t type = i < types.size() ? types[i] : 1;
    const std::string& s = tokens.strings[i];
    // Control and unused tokens, and the "[PAD<n>]" entries that pad Qwen's
    // vocabulary to the embedding size (user-defined, never emitted).
    bool pad = type == 4 && s.rfind("[PAD", 0) == 0 && s.back() == ']';
    special.push_back(type == 3 || type == 5 || pad);
    if (type == 4) {
      bytes.push_back(s);  // user-defined: the text itself
    } else if (type == 6 && s.size() == 6 && s.rfind("<0x", 0) == 0) {
      bytes.push_back(std::string(1, static_cast<char>(std::stoi(s.substr(3, 2), nullptr, 16))));
    } else {
      bytes.push_back(Gpt2Decode(s));
    }
  }
  std::vector<int32_t> eos;
  for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"}) {
    int64_t id = f.GetIntOr(key, -1);
    if (id >= 0 && std::find(eos.begin(), eos.end(), id) == eos.end())
      eos.push_back(static_cast<int32_t>(id));
  }
  return std::make_shared<DecodeVocab>(std::move(bytes), std::move(special), std::move(eos));
}

std::shared_ptr<const DecodeVocab> SyntheticVocab() {
  std::vector<std::string> t;
  for (int b = 0; b < 256; ++b) t.push_back(std::string(1, static_cast<char>(b)));
  for (const char* p :
       {"{",      "}",   "[",     "]",    "\"",   ":",       ",",      "\":",  "\",",
        "\"}",    "{\"", "\":\"", "\": ", " \"",  "\n",      "  ",     "    ", "\n  ",
        "\n    ", "},",  "],",    "[{",   "}]",   "true",    "false",  "null", "-",
        ".",      "e",   "E",     "+",    "\\n",  "\\\"",    "\\u00",  "\\\\", "\\t",
        "T",      "Z",   ":00",   "-01-", "-02-", "2024",    "1999",   "2000", "0000",
        "ab",     "abc", "foo",   "bar",  "baz",  "\"foo\"", "\"bar\""}) {
    t.push_back(p);
  }
  for (int i = 0; i < 100; ++i) t.push_back(std::to_string(i));
  for (int i = 100; i < 1000; i += 37) t.push_back(std::to_string(i));
  for (const char* w : {"name",   "value", "id",   "age",  "tags",  "note", "hello",   "world",
                        "the",    "a",     "date", "type", "items", "data", "patient", "code",
                        "status", "x",     "y",    "z",    "quote", "line", "key",     "node",
                        "kids",   "v",     "d",    "Foo",  "Bar",   "A",    "B",       "C"}) {
    t.push_back(w);
    t.push_back(std::string(" ") + w);
    t.push_back(std::string("\"") + w);
    t.push_back(std::string(w) + "\"");
  }
  for (const char* u : {"中", "文", "中文", "日本", "é", "ü", "ñ", "ï", "😀", "患者", "ünï"})
    t.push_back(u);
  // Pieces of UTF-8 sequences: 中 = E4 B8 AD, 😀 = F0 9F 98 80.
  for (const char* u : {"\xE4\xB8", "\xAD", "\xF0\x9F", "\x98\x80", "\xB8\xAD", "a\xE4"})
    t.push_back(u);
  std::vector<bool> special(t.size(), false);
  t.push_back("<|endoftext|>");
  special.push_back(true);
  int32_t eos = static_cast<int32_t>(t.size()) - 1;
  t.push_back("<|im_start|>");
  special.push_back(true);
  t.push_back("");  // an empty token is never produced
  special.push_back(false);
  return std::make_shared<DecodeVocab>(std::move(t), std::move(special), std::vector<int32_t>{eos});
}

// ---------------------------------------------------------------- random schemas

namespace {

class SchemaGen {
 public:
  explicit SchemaGen(std::mt19937_64& rng) : rng_(rng) {}

  OJson Root() {
    OJson s = P(0.7) ? Object(0) : Any(0);
    if (!defs_.empty()) {
      if (!s.is_object()) s = OJson{{"allOf", OJson::array({s})}};
      s["$defs"] = defs_;
    }
    return s;
  }

 private:
  int R(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool P(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  OJson Any(int depth) {
    if (depth >= 3) return Primitive();
    switch (R(20)) {
      case 0:
      case 1:
      case 2:
        return Object(depth);
      case 3:
      case 4:
        return Array(depth);
      case 5:
        return AnyOf(depth);
      case 6:
        return OneOf(depth);
      case 7:
        return AllOf(depth);
      case 8:
        return Ref(depth);
      case 9:
        return Union();
      case 10:
        return R(3) == 0 ? OJson(true) : OJson::object();
      case 11:
        return OJson{{"minimum", R(50)}, {"maximum", 60 + R(50)}};  // no type: numbers only
      default:
        return Primitive();
    }
  }

  OJson Primitive() {
    switch (R(9)) {
      case 0:
      case 1:
        return String();
      case 2:
      case 3:
        return Integer();
      case 4:
        return Number();
      case 5:
        return OJson{{"type", "boolean"}};
      case 6:
        return OJson{{"type", "null"}};
      case 7:
        return Enum();
      default:
        return Const();
    }
  }

  OJson Value() {
    static const std::vector<OJson> pool = {
        1,         2.5,     -3,           "a",   "b c",           "ünï",
        "quote\"", nullptr, true,         false, OJson{{"k", 1}}, OJson::array({1, "x"}),
        0,         "",      "line\nbreak"};
    return pool[static_cast<size_t>(R(static_cast<int>(pool.size())))];
  }

  OJson Enum() {
    OJson values = OJson::array();
    int n = 1 + R(4);
    for (int i = 0; i < n; ++i) {
      OJson v = Value();
      if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
    }
    return OJson{{"enum", values}};
  }

  OJson Const() { return OJson{{"const", Value()}}; }

  OJson String() {
    OJson s{{"type", "string"}};
    int kind = R(4);
    if (kind == 1) {
      int min = R(4);
      if (P(0.8)) s["minLength"] = min;
      if (P(0.8)) s["maxLength"] = min + R(8);
    } else if (kind == 2) {
      static const char* formats[] = {"date", "time", "date-time", "uuid", "email"};
      s["format"] = formats[R(5)];
    } else if (kind == 3) {
      s["pattern"] = Pattern();
    }
    return s;
  }

  std::string Pattern() {
    static const std::vector<std::string> fixed = {
        "^[a-z]{2,5}$",
        "^\\d{3}-\\d{4}$",
        "^[A-Z][a-z]*( [A-Z][a-z]*)?$",
        "^(foo|bar|baz)+$",
        "^[^a-z]{1,3}$",
        "ab",
        "\\d+",
        "^x",
        "y$",
        "^[\\w.-]+@[\\w-]+\\.[a-z]{2,3}$",
        "^(\\+|-)?\\d{1,3}(\\.\\d{1,2})?$",
        "^.{2,4}$",
        "^\"[^\"]*\"$",
        "^(?:[0-9a-f]{2}:){2}[0-9a-f]{2}$",
        "^中{1,2}文?$",
    };
    if (P(0.5)) return fixed[static_cast<size_t>(R(static_cast<int>(fixed.size())))];
    static const std::vector<std::string> atoms = {"[a-c]", "\\d",    "x",    "(ab|c)", "[^0-9]",
                                                   ".",     "[A-Z_]", "\\\\", "\\.",    "é"};
    static const std::vector<std::string> quants = {"", "", "?", "*", "+", "{1,3}", "{2}"};
    std::string p = P(0.8) ? "^" : "";
    int n = 1 + R(4);
    for (int i = 0; i < n; ++i) {
      p += atoms[static_cast<size_t>(R(static_cast<int>(atoms.size())))];
      p += quants[static_cast<size_t>(R(static_cast<int>(quants.size())))];
    }
    if (P(0.8)) p += "$";
    return p;
  }

  OJson Integer() {
    OJson s{{"type", "integer"}};
    int a = R(2001) - 1000;
    switch (R(7)) {
      case 0:
        s["minimum"] = a;
        break;
      case 1:
        s["maximum"] = a;
        break;
      case 2:
        s["minimum"] = a;
        s["maximum"] = a + R(500);
        break;
      case 3:
        s["exclusiveMinimum"] = a;
        s["exclusiveMaximum"] = a + 2 + R(100);
        break;
      case 4:
        s["minimum"] = int64_t{1000000000000} + R(1000);
        s["maximum"] = int64_t{1000000002000};
        break;
      case 5:
        s["minimum"] = a + 0.5;
        s["maximum"] = a + 10.5;
        break;
      default:
        break;
    }
    return s;
  }

  OJson Number() {
    OJson s{{"type", "number"}};
    switch (R(5)) {
      case 0:
        s["minimum"] = -R(100) - 0.5;
        s["maximum"] = R(1000) + 0.25;
        break;
      case 1:
        s["exclusiveMinimum"] = 0;
        break;
      case 2:
        s["maximum"] = -1.5;
        break;
      case 3:
        s["exclusiveMinimum"] = -2;
        s["exclusiveMaximum"] = 2;
        break;
      default:
        break;
    }
    return s;
  }

  OJson Union() {
    switch (R(3)) {
      case 0:
        return OJson{{"type", OJson::array({"string", "null"})}, {"maxLength", 5}};
      case 1:
        return OJson{{"type", OJson::array({"integer", "string"})}};
      default:
        return OJson{{"type", OJson::array({"boolean", "number", "null"})}};
    }
  }

  std::vector<std::string> Names(int n) {
    static const std::vector<std::string> pool = {
        "id",  "name", "age", "tags",        "note",      "a b",  "quote\"d", "ünï",
        "x-1", "日本", "",    "back\\slash", "new\nline", "data", "code",     "status"};
    std::vector<std::string> all = pool;
    std::shuffle(all.begin(), all.end(), rng_);
    all.resize(static_cast<size_t>(n));
    return all;
  }

  OJson Object(int depth, bool allow_additional = true) {
    OJson s{{"type", "object"}};
    OJson props = OJson::object();
    OJson required = OJson::array();
    for (const auto& name : Names(R(5))) {
      props[name] = Any(depth + 1);
      if (P(0.5)) required.push_back(name);
    }
    s["properties"] = props;
    if (!required.empty()) s["required"] = required;
    if (allow_additional) {
      int k = R(20);
      if (k < 13) {
        s["additionalProperties"] = false;
      } else if (k < 16) {
        // absent: extras allowed by the schema, never written by the grammar
      } else if (k < 18) {
        s["additionalProperties"] = true;
      } else {
        s["additionalProperties"] = Primitive();
      }
    }
    return s;
  }

  OJson Array(int depth) {
    OJson s{{"type", "array"}};
    if (P(0.85)) s["items"] = Any(depth + 1);
    int min = 0;
    if (P(0.5)) s["minItems"] = min = R(3);
    if (P(0.6)) s["maxItems"] = min + R(4);
    return s;
  }

  OJson AnyOf(int depth) {
    OJson branches = OJson::array();
    int n = 2 + R(2);
    for (int i = 0; i < n; ++i) branches.push_back(Any(depth + 1));
    return OJson{{"anyOf", branches}};
  }

  // Branches of different JSON types, so exactly one can match.
  OJson OneOf(int depth) {
    std::vector<int> kinds = {0, 1, 2, 3, 4, 5};
    std::shuffle(kinds.begin(), kinds.end(), rng_);
    OJson branches = OJson::array();
    int n = 2 + R(2);
    for (int i = 0; i < n; ++i) {
      switch (kinds[static_cast<size_t>(i)]) {
        case 0:
          branches.push_back(String());
          break;
        case 1:
          branches.push_back(Integer());
          break;
        case 2:
          branches.push_back(OJson{{"type", "boolean"}});
          break;
        case 3:
          branches.push_back(OJson{{"type", "null"}});
          break;
        case 4:
          branches.push_back(Array(depth + 1));
          break;
        default:
          branches.push_back(Object(depth + 1));
          break;
      }
    }
    return OJson{{"oneOf", branches}};
  }

  OJson AllOf(int depth) {
    if (P(0.5)) {
      int a = R(100);
      OJson lo = OJson::object(), hi = OJson::object();
      lo["type"] = "integer";
      lo["minimum"] = a;
      hi["maximum"] = a + R(100);
      OJson out = OJson::object();
      out["allOf"] = OJson::array({lo, hi});
      return out;
    }
    // Two objects with different properties and no additionalProperties.
    std::vector<std::string> names = Names(4);
    OJson x = Object(depth + 1, false), y = Object(depth + 1, false);
    x["properties"] = {{names[0], Primitive()}, {names[1], Primitive()}};
    y["properties"] = {{names[2], Primitive()}, {names[3], Primitive()}};
    x["required"] = OJson::array({OJson(names[0])});
    y["required"] = OJson::array();
    if (P(0.5)) y["required"].push_back(names[3]);
    OJson out = OJson::object();
    out["allOf"] = OJson::array({x, y});
    return out;
  }

  OJson Ref(int depth) {
    if (P(0.4)) {
      if (!defs_.contains("node")) {
        OJson kids = OJson::object();
        kids["type"] = "array";
        kids["items"] = OJson{{"$ref", "#/$defs/node"}};
        kids["maxItems"] = 2;
        OJson node = OJson::object();
        node["type"] = "object";
        node["properties"] = OJson::object();
        node["properties"]["v"] = OJson{{"type", "integer"}};
        node["properties"]["kids"] = kids;
        node["required"] = OJson::array({OJson("v")});
        node["additionalProperties"] = false;
        defs_["node"] = node;
      }
      return OJson{{"$ref", "#/$defs/node"}};
    }
    OJson target = Any(depth + 1);
    std::string name = "d" + std::to_string(defs_.size());
    defs_[name] = target;
    return OJson{{"$ref", "#/$defs/" + name}};
  }

  std::mt19937_64& rng_;
  OJson defs_ = OJson::object();
};

}  // namespace

OJson RandomSchema(std::mt19937_64& rng) { return SchemaGen(rng).Root(); }

// ---------------------------------------------------------------- validation

namespace {

bool IsInteger(const Json& v) {
  return v.is_number_integer() ||
         (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
}

bool HasType(const Json& v, const std::string& t) {
  if (t == "null") return v.is_null();
  if (t == "boolean") return v.is_boolean();
  if (t == "integer") return v.is_number() && IsInteger(v);
  if (t == "number") return v.is_number();
  if (t == "string") return v.is_string();
  if (t == "array") return v.is_array();
  if (t == "object") return v.is_object();
  return false;
}

bool Digits(const std::string& s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int Num(const std::string& s, size_t at, size_t n) { return std::stoi(s.substr(at, n)); }

bool ValidDate(const std::string& s, size_t at) {
  if (!Digits(s, at, 4) || s[at + 4] != '-' || !Digits(s, at + 5, 2) || s[at + 7] != '-' ||
      !Digits(s, at + 8, 2)) {
    return false;
  }
  int y = Num(s, at, 4), m = Num(s, at + 5, 2), d = Num(s, at + 8, 2);
  if (m < 1 || m > 12 || d < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = days[m - 1] + (m == 2 && leap ? 1 : 0);
  return d <= max;
}

// HH:MM:SS[.frac](Z|+HH:MM|-HH:MM) from `at` to the end.
bool ValidTime(const std::string& s, size_t at) {
  if (!Digits(s, at, 2) || s.size() < at + 8 || s[at + 2] != ':' || !Digits(s, at + 3, 2) ||
      s[at + 5] != ':' || !Digits(s, at + 6, 2)) {
    return false;
  }
  if (Num(s, at, 2) > 23 || Num(s, at + 3, 2) > 59 || Num(s, at + 6, 2) > 60) return false;
  size_t i = at + 8;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) return i + 1 == s.size();
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    return s.size() == i + 6 && Digits(s, i + 1, 2) && s[i + 3] == ':' && Digits(s, i + 4, 2) &&
           Num(s, i + 1, 2) <= 23 && Num(s, i + 4, 2) <= 59;
  }
  return false;
}

bool ValidFormat(const std::string& s, const std::string& format) {
  if (format == "date") return s.size() == 10 && ValidDate(s, 0);
  if (format == "time") return ValidTime(s, 0);
  if (format == "date-time")
    return s.size() > 11 && ValidDate(s, 0) && (s[10] == 'T' || s[10] == 't') && ValidTime(s, 11);
  if (format == "uuid") {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < 36; ++i) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (s[i] == '-')) return false;
      if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  }
  return true;  // other formats are annotations
}

class Validator {
 public:
  explicit Validator(const OJson& root) : root_(root) {}

  bool Check(const Json& v, const OJson& s, const std::string& path, std::string* why,
             int depth = 0) {
    auto fail = [&](const std::string& what) {
      if (why) *why = path + ": " + what;
      return false;
    };
    if (depth > 200) return fail("schema recursion too deep");
    if (s.is_boolean()) return s.get<bool>() ? true : fail("schema false");
    if (s.contains("$ref")) {
      std::string ref = s["$ref"].get<std::string>();
      const OJson& target = root_.at(OJson::json_pointer(ref.substr(1)));
      if (!Check(v, target, path, why, depth + 1)) return false;
    }
    if (s.contains("type")) {
      const OJson& t = s["type"];
      bool ok = false;
      if (t.is_array()) {
        for (const auto& x : t) ok = ok || HasType(v, x.get<std::string>());
      } else {
        ok = HasType(v, t.get<std::string>());
      }
      if (!ok) return fail("type " + t.dump() + " does not match " + v.dump());
    }
    if (s.contains("enum")) {
      bool ok = false;
      for (const auto& e : s["enum"]) ok = ok || Json::parse(e.dump()) == v;
      if (!ok) return fail(v.dump() + " not in enum " + s["enum"].dump());
    }
    if (s.contains("const") && Json::parse(s["const"].dump()) != v)
      return fail(v.dump() + " != const");
    if (v.is_number()) {
      double x = v.get<double>();
      if (s.contains("minimum") && x < s["minimum"].get<double>()) return fail("below minimum");
      if (s.contains("maximum") && x > s["maximum"].get<double>()) return fail("above maximum");
      if (s.contains("exclusiveMinimum") && s["exclusiveMinimum"].is_number() &&
          x <= s["exclusiveMinimum"].get<double>()) {
        return fail("not above exclusiveMinimum");
      }
      if (s.contains("exclusiveMaximum") && s["exclusiveMaximum"].is_number() &&
          x >= s["exclusiveMaximum"].get<double>()) {
        return fail("not below exclusiveMaximum");
      }
    }
    if (v.is_string()) {
      const std::string& str = v.get_ref<const std::string&>();
      std::u32string cps = CodePoints(str);
      if (s.contains("minLength") && cps.size() < s["minLength"].get<size_t>())
        return fail("shorter than minLength");
      if (s.contains("maxLength") && cps.size() > s["maxLength"].get<size_t>())
        return fail("longer than maxLength");
      if (s.contains("pattern")) {
        std::wstring ws(cps.begin(), cps.end());
        std::u32string pcp = CodePoints(s["pattern"].get<std::string>());
        std::wregex re(std::wstring(pcp.begin(), pcp.end()), std::regex::ECMAScript);
        if (!std::regex_search(ws, re))
          return fail(v.dump() + " does not match pattern " + s["pattern"].dump());
      }
      if (s.contains("format") && !ValidFormat(str, s["format"].get<std::string>())) {
        return fail(v.dump() + " is not a valid " + s["format"].get<std::string>());
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>())
        return fail("fewer than minItems");
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>())
        return fail("more than maxItems");
      if (s.contains("items")) {
        for (size_t i = 0; i < v.size(); ++i) {
          if (!Check(v[i], s["items"], path + "/" + std::to_string(i), why, depth + 1))
            return false;
        }
      }
    }
    if (v.is_object()) {
      if (s.contains("required")) {
        for (const auto& r : s["required"]) {
          if (!v.contains(r.get<std::string>())) return fail("missing required " + r.dump());
        }
      }
      for (const auto& [key, value] : v.items()) {
        if (s.contains("properties") && s["properties"].contains(key)) {
          if (!Check(value, s["properties"][key], path + "/" + key, why, depth + 1)) return false;
        } else if (s.contains("additionalProperties")) {
          if (!Check(value, s["additionalProperties"], path + "/" + key, why, depth + 1)) {
            return fail("additional property '" + key + "' not allowed");
          }
        }
      }
    }
    if (s.contains("allOf")) {
      for (const auto& sub : s["allOf"]) {
        if (!Check(v, sub, path, why, depth + 1)) return false;
      }
    }
    if (s.contains("anyOf")) {
      bool ok = false;
      for (const auto& sub : s["anyOf"]) ok = ok || Check(v, sub, path, nullptr, depth + 1);
      if (!ok) return fail("no anyOf branch matches " + v.dump());
    }
    if (s.contains("oneOf")) {
      int n = 0;
      for (const auto& sub : s["oneOf"]) n += Check(v, sub, path, nullptr, depth + 1) ? 1 : 0;
      if (n != 1) return fail(std::to_string(n) + " oneOf branches match " + v.dump());
    }
    return true;
  }

 private:
  const OJson& root_;
};

}  // namespace

bool ValidateJson(const Json& instance, const OJson& schema, std::string* why) {
  return Validator(schema).Check(instance, schema, "$", why);
}

// ---------------------------------------------------------------- generation

Generation GenerateConstrained(const std::shared_ptr<const Grammar>& grammar,
                               const std::shared_ptr<const DecodeVocab>& vocab, uint64_t seed,
                               int free_tokens, const LogitsSource& logits) {
  GrammarConstraint constraint(grammar, vocab);
  SamplingParams params;
  params.seed = seed;
  Sampler sampler(params, vocab->size());
  TokenMask mask;
  Generation g;
  std::vector<int32_t> generated;
  int limit = free_tokens + static_cast<int>(constraint.MinBytesToFinish()) + 10000;
  for (int step = 0; step < limit; ++step) {
    if (step < free_tokens) {
      constraint.FillMask(&mask);
    } else {
      g.used_finishing = true;
      constraint.FillFinishingMask(&mask);
    }
    int32_t token = sampler.Sample(logits(generated), &mask).token;
    constraint.Accept(token);
    sampler.Accept(token);
    generated.push_back(token);
    ++g.tokens;
    if (vocab->is_eos(token)) break;
    g.text += vocab->bytes(token);
    if (constraint.IsFinished()) break;
  }
  g.finished = constraint.IsFinished();
  return g;
}

Generation GenerateWithRandomLogits(const std::shared_ptr<const Grammar>& grammar,
                                    const std::shared_ptr<const DecodeVocab>& vocab, uint64_t seed,
                                    int free_tokens) {
  // One pool of random logits; each step reads a window at a random offset.
  static const std::vector<float> pool = [] {
    std::mt19937_64 r(12345);
    std::uniform_real_distribution<float> d(0.0f, 8.0f);
    std::vector<float> p(size_t{1} << 22);
    for (auto& x : p) x = d(r);
    return p;
  }();
  std::mt19937_64 rng(seed ^ 0x9E3779B97F4A7C15ull);
  size_t window = static_cast<size_t>(vocab->size());
  return GenerateConstrained(grammar, vocab, seed, free_tokens, [&](const std::vector<int32_t>&) {
    size_t offset = std::uniform_int_distribution<size_t>(0, pool.size() - window)(rng);
    return std::span<const float>(pool.data() + offset, window);
  });
}

}  // namespace haip::infer::testing
