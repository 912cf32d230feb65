#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

#include "core/error.h"
#include "storage/database.h"

namespace haip::storage {
namespace {

const char* TypeName(const Value::Variant& v) {
  switch (v.index()) {
    case 0:
      return "null";
    case 1:
      return "an integer";
    case 2:
      return "a double";
    case 3:
      return "text";
    default:
      return "bytes";
  }
}

[[noreturn]] void WrongType(const Value::Variant& v, const char* wanted) {
  throw Error(ErrorCode::kInternal,
              std::string("storage: value is ") + TypeName(v) + ", not " + wanted);
}

// Parses the whole of `text` as T, or returns false.
template <typename T>
bool ParseWhole(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

}  // namespace

int64_t Value::AsInt() const {
  if (const auto* i = std::get_if<int64_t>(&v_)) return *i;
  if (const auto* d = std::get_if<double>(&v_)) {
    // 2^63 is exactly representable; anything at or above it does not fit.
    if (std::trunc(*d) == *d && *d >= -9223372036854775808.0 && *d < 9223372036854775808.0) {
      return static_cast<int64_t>(*d);
    }
    throw Error(ErrorCode::kInternal,
                "storage: double " + std::to_string(*d) + " is not an integer in the 64-bit range");
  }
  if (const auto* s = std::get_if<std::string>(&v_)) {
    int64_t parsed = 0;
    if (ParseWhole(*s, parsed)) return parsed;
    throw Error(ErrorCode::kInternal, "storage: text is not an integer");
  }
  WrongType(v_, "an integer");
}

double Value::AsDouble() const {
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&v_)) {
    double parsed = 0;
    if (ParseWhole(*s, parsed)) return parsed;
    throw Error(ErrorCode::kInternal, "storage: text is not a number");
  }
  WrongType(v_, "a double");
}

const std::string& Value::AsText() const {
  if (const auto* s = std::get_if<std::string>(&v_)) return *s;
  WrongType(v_, "text");
}

const Bytes& Value::AsBytes() const {
  if (const auto* b = std::get_if<Bytes>(&v_)) return *b;
  WrongType(v_, "bytes");
}

std::optional<int64_t> Value::AsOptionalInt() const {
  if (IsNull()) return std::nullopt;
  return AsInt();
}

std::optional<std::string> Value::AsOptionalText() const {
  if (IsNull()) return std::nullopt;
  return AsText();
}

}  // namespace haip::storage
