// Locating ../shared/data/dicom and reading its manifest.csv.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace haip::lake::dicom::testdata {

inline std::filesystem::path DataDir() { return HAIP_DICOM_DATA_DIR; }

inline bool Present() { return std::filesystem::exists(DataDir() / "manifest.csv"); }

inline std::string ReadBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// One CSV line, with "quoted, fields".
inline std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

// file name -> column -> value
inline std::map<std::string, std::map<std::string, std::string>> Manifest() {
  std::ifstream in(DataDir() / "manifest.csv");
  std::string line;
  std::getline(in, line);
  auto header = SplitCsv(line);
  std::map<std::string, std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto fields = SplitCsv(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
    rows[row["file"]] = row;
  }
  return rows;
}

}  // namespace haip::lake::dicom::testdata

#define HAIP_REQUIRE_DICOM_DATA()                                                      \
  do {                                                                                 \
    if (!haip::lake::dicom::testdata::Present()) GTEST_SKIP() << "../shared/data/dicom not present"; \
  } while (0)
