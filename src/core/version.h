#pragma once

#include <string_view>

namespace haip {
std::string_view Version();
std::string_view GitCommit();
}  // namespace haip
