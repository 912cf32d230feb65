#include "lake/fhir/ingest.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

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

void Count(IngestReport& report, const WriteOutcome& w, const std::string& type) {
  if (w.unchanged) {
    ++report.unchanged;
  } else {
    ++report.written;
  }
  ++report.by_type[type];
}

void Count(IngestReport& report, const WriteOutcome& w) { Count(report, w, w.resource.value("resourceType", std::string("?"))); }
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

  // NDJSON: batches of lines. Worker threads parse, validate, hash,
  // serialise and index each batch (no database); this thread writes the
  // batches in order, one transaction each, so the resume position is exact.
  struct Line {
    size_t line_no;
    std::string_view text;
  };
  std::vector<std::vector<Line>> batches;
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
    if (batches.empty() || batches.back().size() >= std::max<size_t>(1, options.batch_size)) batches.emplace_back();
    batches.back().push_back({line_no, line});
  }
  const size_t last_line = line_no;
  if (batches.empty()) {
    if (committed && last_line > skip_lines) committed(last_line);
    return;
  }

  struct Prepared {
    std::vector<PreparedWrite> writes;
    std::vector<size_t> write_lines;
    std::vector<std::pair<size_t, std::string>> errors;  // line, message
  };
  std::vector<Prepared> prepared(batches.size());
  std::vector<char> ready(batches.size(), 0);
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0, writing = 0;
  bool stop = false;
  // Workers stay at most this many batches ahead of the writer (memory bound).
  size_t threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, batches.size());
  const size_t max_ahead = 2 * threads + 1;

  auto work = [&] {
    for (;;) {
      size_t b;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || next >= batches.size() || next < writing + max_ahead; });
        if (stop || next >= batches.size()) return;
        b = next++;
      }
      Prepared p;
      for (const auto& line : batches[b]) {
        Json r = Json::parse(line.text, nullptr, false);
        if (r.is_discarded() || !r.is_object()) {
          p.errors.emplace_back(line.line_no, "not a JSON object");
          continue;
        }
        try {
          auto& w = p.writes.emplace_back(FhirStore::PrepareBulk(std::move(r)));
          // The writer needs the parsed resource only for observers; freeing
          // it here keeps that work off the single writing thread.
          if (!store_.HasWriteObservers(w.type)) w.resource = Json();
          p.write_lines.push_back(line.line_no);
        } catch (const Error& e) {
          p.errors.emplace_back(line.line_no, e.what());
        }
      }
      std::lock_guard lock(mu);
      prepared[b] = std::move(p);
      ready[b] = 1;
      cv.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (size_t i = 0; i < threads; ++i) workers.emplace_back(work);
  auto finish = [&] {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& w : workers) w.join();
  };

  try {
    for (size_t b = 0; b < batches.size(); ++b) {
      Prepared p;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return ready[b] != 0; });
        p = std::move(prepared[b]);
        writing = b + 1;
      }
      cv.notify_all();
      for (auto& [ln, message] : p.errors) {
        ++report.rejected;
        AddError(report, name + ":" + std::to_string(ln) + ": " + message);
      }
      if (!p.writes.empty()) {
        try {
          auto outcomes = store_.WriteBatch(p.writes, false);
          for (size_t i = 0; i < outcomes.size(); ++i) Count(report, outcomes[i], p.writes[i].type);
        } catch (const Error&) {
          // Something in the batch failed in the database: write one by one
          // so only the failing lines are rejected.
          for (size_t i = 0; i < p.writes.size(); ++i) {
            try {
              for (const auto& w : store_.WriteBatch({p.writes[i]}, false)) Count(report, w, p.writes[i].type);
            } catch (const Error& e) {
              ++report.rejected;
              AddError(report, name + ":" + std::to_string(p.write_lines[i]) + ": " + e.what());
            }
          }
        }
      }
      if (committed) committed(b + 1 == batches.size() ? last_line : batches[b].back().line_no);
      handled();
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
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
