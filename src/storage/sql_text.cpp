#include "storage/sql_text.h"

#include <cstddef>

namespace haip::storage {
namespace {

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// End of a quoted section closed by `quote`, where a doubled quote stands for
// itself and, in E'...' strings, a backslash escapes the next byte.
size_t SkipQuoted(std::string_view sql, size_t i, char quote, bool backslash_escapes) {
  for (size_t j = i + 1; j < sql.size(); ++j) {
    if (backslash_escapes && sql[j] == '\\') {
      ++j;
    } else if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        ++j;
      } else {
        return j + 1;
      }
    }
  }
  return sql.size();
}

// If a literal, quoted identifier, comment or dollar-quoted body starts at i,
// returns the index just past it (the end of the text when unterminated);
// otherwise returns i.
size_t SkipNonCode(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  const char c = sql[i];
  const char next = i + 1 < n ? sql[i + 1] : '\0';
  switch (c) {
    case '\'': {
      const bool escape_string =
          i > 0 && (sql[i - 1] == 'e' || sql[i - 1] == 'E') && (i < 2 || !IsIdentChar(sql[i - 2]));
      return SkipQuoted(sql, i, '\'', escape_string);
    }
    case '"':
    case '`':
      return SkipQuoted(sql, i, c, false);
    case '-':
      if (next != '-') return i;
      {
        size_t end = sql.find('\n', i + 2);
        return end == std::string_view::npos ? n : end + 1;
      }
    case '/': {
      if (next != '*') return i;
      // PostgreSQL block comments nest.
      int depth = 0;
      for (size_t j = i; j < n; ++j) {
        if (sql[j] == '/' && j + 1 < n && sql[j + 1] == '*') {
          ++depth;
          ++j;
        } else if (sql[j] == '*' && j + 1 < n && sql[j + 1] == '/') {
          ++j;
          if (--depth == 0) return j + 1;
        }
      }
      return n;
    }
    case '$': {
      // $tag$ ... $tag$, where the tag is empty or an identifier; `$1` and
      // identifiers containing `$` are not quotes.
      if (i > 0 && IsIdentChar(sql[i - 1])) return i;
      size_t j = i + 1;
      while (j < n && IsIdentChar(sql[j])) ++j;
      if (j >= n || sql[j] != '$') return i;
      if (j > i + 1 && sql[i + 1] >= '0' && sql[i + 1] <= '9') return i;
      std::string_view delimiter = sql.substr(i, j + 1 - i);
      size_t end = sql.find(delimiter, j + 1);
      return end == std::string_view::npos ? n : end + delimiter.size();
    }
    default:
      return i;
  }
}

bool HasCode(std::string_view sql) {
  for (size_t i = 0; i < sql.size();) {
    size_t skipped = SkipNonCode(sql, i);
    if (skipped != i) {
      // Literals and quoted identifiers are code; comments are not.
      if (sql[i] != '-' && sql[i] != '/') return true;
      i = skipped;
      continue;
    }
    if (!IsSpace(sql[i])) return true;
    ++i;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

NumberedSql NumberPlaceholders(std::string_view sql) {
  NumberedSql out;
  if (sql.find('?') == std::string_view::npos) {
    out.sql = std::string(sql);
    return out;
  }
  out.sql.reserve(sql.size() + 16);
  for (size_t i = 0; i < sql.size();) {
    size_t skipped = SkipNonCode(sql, i);
    if (skipped != i) {
      out.sql.append(sql.substr(i, skipped - i));
      i = skipped;
    } else if (sql[i] == '?') {
      out.sql += '$';
      out.sql += std::to_string(++out.placeholders);
      ++i;
    } else {
      out.sql += sql[i++];
    }
  }
  return out;
}

std::vector<std::string_view> SplitStatements(std::string_view script) {
  std::vector<std::string_view> statements;
  size_t start = 0;
  auto flush = [&](size_t end) {
    std::string_view statement = Trim(script.substr(start, end - start));
    if (HasCode(statement)) statements.push_back(statement);
    start = end + 1;
  };
  for (size_t i = 0; i < script.size();) {
    size_t skipped = SkipNonCode(script, i);
    if (skipped != i) {
      i = skipped;
    } else {
      if (script[i] == ';') flush(i);
      ++i;
    }
  }
  if (start < script.size()) flush(script.size());
  return statements;
}

std::string SqlExcerpt(std::string_view sql) {
  constexpr size_t kMax = 100;
  sql = Trim(sql);
  if (sql.size() <= kMax) return std::string(sql);
  size_t cut = kMax;
  // Back up over UTF-8 continuation bytes so a character is never split.
  while (cut > 0 && (static_cast<unsigned char>(sql[cut]) & 0xC0) == 0x80) --cut;
  return std::string(sql.substr(0, cut)) + "...";
}

}  // namespace haip::storage
