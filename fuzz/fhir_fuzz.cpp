// FHIR JSON reader: arbitrary bytes parsed as a resource (or NDJSON lines),
// validated and indexed as the store does before writing. Must never crash;
// rejection through the validator's issues is the expected path.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "lake/fhir/search_params.h"
#include "lake/fhir/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto check = [](std::string_view doc) {
    haip::Json r = haip::Json::parse(doc, nullptr, false);
    if (r.is_discarded()) return;
    auto issues = haip::lake::ValidateResource(r, "fuzz");
    if (issues.empty()) {
      auto rows = haip::lake::ExtractIndex(r);
      for (const auto& d : rows.dates) {
        if (d.lo > d.hi) __builtin_trap();  // a range must not be inverted
      }
    }
    (void)haip::lake::MakeOperationOutcome(issues).dump(-1, ' ', false, haip::Json::error_handler_t::replace);
  };
  check(text);
  // The same bytes as NDJSON.
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    check(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  haip::lake::DateRange(text.substr(0, 64));
  return 0;
}
