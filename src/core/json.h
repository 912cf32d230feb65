// JSON for API bodies and configuration documents (nlohmann/json). Bulk
// parsing of clinical data uses simdjson inside the modules that need it.
#pragma once

#include <nlohmann/json.hpp>

namespace haip {
using Json = nlohmann::json;
}  // namespace haip
