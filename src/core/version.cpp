#include "core/version.h"

namespace haip {
std::string_view Version() { return HAIP_VERSION; }
std::string_view GitCommit() { return HAIP_GIT_COMMIT; }
}  // namespace haip
