#include <string_view>

#include "storage/database.h"
#include "storage/sql_text.h"

namespace haip::storage {

void Session::ExecuteScript(std::string_view sql) {
  for (std::string_view statement : SplitStatements(sql)) Execute(statement);
}

}  // namespace haip::storage
