// Lexical helpers shared by the backends: finding `?` placeholders and `;`
// separators outside string literals, quoted identifiers, comments and
// PostgreSQL dollar quotes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace haip::storage {

struct NumberedSql {
  std::string sql;       // `?` replaced by $1..$n
  int placeholders = 0;  // n
};

// Rewrites `?` placeholders to PostgreSQL's $1..$n.
NumberedSql NumberPlaceholders(std::string_view sql);

// Splits a script on `;` into statements, trimmed, dropping those that hold
// nothing but whitespace and comments.
std::vector<std::string_view> SplitStatements(std::string_view script);

// The start of a statement for error messages: at most 100 bytes, cut on a
// UTF-8 character boundary, "..." appended when cut.
std::string SqlExcerpt(std::string_view sql);

}  // namespace haip::storage
