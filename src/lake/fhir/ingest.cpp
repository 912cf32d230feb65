#include "lake/fhir/ingest.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace haip::lake {

namespace fs = std::filesystem;

std::vector<storage::Migration> FhirIngest::Migrations() {
  return {{1, "ingest progress per file", R"SQL(
CREATE TABLE lake_ingest_file (
  path TEXT PRIMARY KEY,
  size ${BIGINT} NOT NULL,
  mtime ${BIGINT} NOT NULL,
  lines_done ${BIGINT} NOT NULL DEFAULT 0,
  done INTEGER NOT NULL DEFAULT 0
);
)SQL"}};
}

FhirIngest::FhirIngest(FhirStore& store, storage::Database& db) : store_(store), db_(db) {}

namespace {
bool IsDataFile(const fs::path& p) {
  std::string name = p.filename().string();
  for (const char* ext : {".ndjson", ".json", ".ndjson.gz", ".json.gz", ".jsonl", ".jsonl.gz"}) {
    std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

void AddError(IngestReport& report, std::string message) {
  if (report.errors.size() < 100) report.errors.push_back(std::move(message));
}

void Count(IngestReport& report, const WriteOutcome& w) {
  if (w.unchanged) {
    ++report.unchanged;
  } else {
    ++report.written;
  }
  ++report.by_type[w.resource.value("resourceType", std::string("?"))];
}
}  // namespace

std::vector<std::string> FhirIngest::ExpandPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        if (e.is_regular_file() && IsDataFile(e.path())) found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      out.push_back(p);
    } else {
      throw Error(ErrorCode::kNotFound, "no such file or folder: " + p);
    }
  }
  return out;
}

std::string FhirIngest::ReadFile(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files unchanged too
  if (!f) throw Error(ErrorCode::kBadRequest, "cannot open " + path);
  gzbuffer(f, 1 << 20);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  std::string error = (n < 0 && msg) ? msg : "";
  gzclose(f);
  if (n < 0) throw Error(ErrorCode::kBadRequest, "cannot read " + path + ": " + error);
  return out;
}

void FhirIngest::IngestDocument(const std::string& text, const std::string& name, size_t skip_lines,
                                const std::function<void(size_t)>& committed, IngestReport& report,
                                const IngestOptions& options) {
  auto handled = [&] {
    if (options.progress) options.progress(report.written + report.unchanged + report.rejected);
  };
  size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first == std::string::npos) return;
  // A document that parses as one JSON value is a Bundle or a single
  // resource; otherwise it is NDJSON.
  Json whole = Json::parse(text, nullptr, false);
  if (!whole.is_discarded() && whole.is_object()) {
    if (whole.value("resourceType", std::string()) == "Bundle" &&
        (whole.value("type", std::string()) == "transaction" || whole.value("type", std::string()) == "batch")) {
      try {
        Json tx = whole;
        tx["type"] = "transaction";  // ingest is all or nothing per bundle
        std::vector<WriteOutcome> outcomes;
        store_.ProcessBundle(tx, "", true, &outcomes);
        for (const auto& w : outcomes) Count(report, w);
      } catch (const FhirError& e) {
        report.rejected += whole.value("entry", Json::array()).size();
        AddError(report, name + ": " + e.what());
      }
      handled();
      return;
    }
    std::vector<Json> resources;
    if (whole.value("resourceType", std::string()) == "Bundle") {  // collection, searchset, ...
      for (const auto& e : whole.value("entry", Json::array())) {
        if (e.contains("resource")) resources.push_back(e["resource"]);
      }
    } else {
      resources.push_back(std::move(whole));
    }
    for (size_t i = 0; i < resources.size(); ++i) {
      try {
        for (const auto& w : store_.WriteMany({resources[i]})) Count(report, w);
      } catch (const Error& e) {
        ++report.rejected;
        AddError(report, name + ": entry " + std::to_string(i) + ": " + e.what());
      }
    }
    handled();
    return;
  }

  // NDJSON: batches of lines, each committed together; a batch with a bad
  // line is retried line by line so only the bad lines are rejected.
  std::vector<std::pair<size_t, Json>> batch;
  auto flush = [&](size_t line_no) {
    if (batch.empty()) return;
    std::vector<Json> resources;
    for (auto& [_, r] : batch) resources.push_back(r);
    try {
      for (const auto& w : store_.WriteMany(std::move(resources))) Count(report, w);
    } catch (const Error&) {
      for (auto& [ln, r] : batch) {
        try {
          for (const auto& w : store_.WriteMany({r})) Count(report, w);
        } catch (const Error& e) {
          ++report.rejected;
          AddError(report, name + ":" + std::to_string(ln) + ": " + e.what());
        }
      }
    }
    batch.clear();
    if (committed) committed(line_no);
    handled();
  };
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line_no <= skip_lines) continue;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    Json r = Json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object()) {
      ++report.rejected;
      AddError(report, name + ":" + std::to_string(line_no) + ": not a JSON object");
      continue;
    }
    batch.emplace_back(line_no, std::move(r));
    if (batch.size() >= options.batch_size) flush(line_no);
  }
  flush(line_no);
}

IngestReport FhirIngest::IngestPaths(const std::vector<std::string>& paths, const IngestOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  IngestReport report;
  for (const auto& file : ExpandPaths(paths)) {
    struct stat st {};
    stat(file.c_str(), &st);
    std::string key = fs::weakly_canonical(file).string();
    int64_t size = st.st_size, mtime = static_cast<int64_t>(st.st_mtime);
    auto prior = db_.Query("SELECT size, mtime, lines_done, done FROM lake_ingest_file WHERE path = ?", {key});
    size_t skip = 0;
    if (!prior.empty() && prior.rows[0][0].AsInt() == size && prior.rows[0][1].AsInt() == mtime) {
      if (prior.rows[0][3].AsInt() != 0) {
        ++report.files_skipped;
        continue;
      }
      skip = static_cast<size_t>(prior.rows[0][2].AsInt());
    } else {
      db_.Execute("DELETE FROM lake_ingest_file WHERE path = ?", {key});
      db_.Execute("INSERT INTO lake_ingest_file (path, size, mtime, lines_done, done) VALUES (?, ?, ?, 0, 0)", {key, size, mtime});
    }
    ++report.files;
    std::string text = ReadFile(file);
    uint64_t rejected_before = report.rejected;
    IngestDocument(text, file, skip,
                   [&](size_t line) { db_.Execute("UPDATE lake_ingest_file SET lines_done = ? WHERE path = ?", {static_cast<int64_t>(line), key}); },
                   report, options);
    // A file with rejected content is not marked done, so fixing and
    // re-running it retries (accepted resources are unchanged no-ops).
    if (report.rejected == rejected_before) db_.Execute("UPDATE lake_ingest_file SET done = 1 WHERE path = ?", {key});
  }
  // After a large load the planner's statistics are stale; refresh them so
  // searches keep choosing the selective index.
  if (report.written > 10000) db_.ExecuteScript("ANALYZE");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

IngestReport FhirIngest::IngestText(const std::string& text, const std::string& name, const IngestOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  IngestReport report;
  report.files = 1;
  IngestDocument(text, name, 0, {}, report, options);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace haip::lake
