// A minimal streaming JSON writer that appends to a caller-owned string.
// The generator emits millions of small documents; building them through a DOM
// (nlohmann) costs an allocation per node, so resources are written directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace haip::synth {

// Appends `s` as a JSON string literal (quotes included), escaping as RFC 8259
// requires. UTF-8 passes through unchanged.
void AppendJsonString(std::string& out, std::string_view s);
// Appends `v` rounded to `decimals` fraction digits, e.g. 7.25 with 1 -> "7.3".
// Rounding uses llround on the scaled value, so it is deterministic.
void AppendDecimal(std::string& out, double v, int decimals);
void AppendInt(std::string& out, int64_t v);
// Standard base64 with padding (FHIR base64Binary).
void AppendBase64(std::string& out, std::string_view bytes);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() {
    Separate();
    out_ += '{';
    Push();
  }
  void EndObject() {
    --depth_;
    out_ += '}';
  }
  void BeginArray() {
    Separate();
    out_ += '[';
    Push();
  }
  void EndArray() {
    --depth_;
    out_ += ']';
  }
  // Keys are always literals from this module and never need escaping.
  void Key(std::string_view key) {
    Comma();
    out_ += '"';
    out_ += key;
    out_ += "\":";
    after_key_ = true;
  }
  void String(std::string_view s) {
    Separate();
    AppendJsonString(out_, s);
  }
  // A string known to contain only [A-Za-z0-9./:+-] characters (ids, codes,
  // timestamps), assembled from parts without a temporary.
  void PlainString(std::string_view a, std::string_view b = {}, std::string_view c = {},
                   std::string_view d = {});
  void Int(int64_t v) {
    Separate();
    AppendInt(out_, v);
  }
  void Decimal(double v, int decimals) {
    Separate();
    AppendDecimal(out_, v, decimals);
  }
  void Bool(bool b) {
    Separate();
    out_ += b ? "true" : "false";
  }
  // Begins a string value whose content the caller appends to out() directly
  // (used for base64 and timestamps); must be closed with EndRawString().
  void BeginRawString() {
    Separate();
    out_ += '"';
  }
  void EndRawString() { out_ += '"'; }
  std::string& out() { return out_; }

  void KV(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }

 private:
  static constexpr int kMaxDepth = 32;
  void Push() {
    ++depth_;
    has_item_[depth_] = false;
  }
  void Comma() {
    if (depth_ > 0) {
      if (has_item_[depth_]) out_ += ',';
      has_item_[depth_] = true;
    }
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    Comma();
  }

  std::string& out_;
  int depth_ = 0;
  bool after_key_ = false;
  bool has_item_[kMaxDepth + 1] = {};
};

}  // namespace haip::synth
