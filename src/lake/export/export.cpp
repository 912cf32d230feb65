#include "lake/export/export.h"

#include <filesystem>
#include <fstream>

#include "core/clock.h"
#include "core/log.h"

namespace haip::lake {

namespace fs = std::filesystem;

namespace {
// Keyset paging over one type's current resources, honouring the request.
class TypeScan {
 public:
  TypeScan(storage::Database& db, const ExportRequest& req, std::string type) : db_(db), req_(req), type_(std::move(type)) {}

  // Next page of bodies; empty when done.
  std::vector<std::string> Next() {
    std::string sql = "SELECT r.id, r.body FROM fhir_resource r WHERE r.type = ? AND r.deleted = 0 AND r.id > ?";
    storage::Params p{type_, last_id_};
    if (req_.since) {
      sql += " AND r.last_updated >= ?";
      p.emplace_back(*req_.since);
    }
    if (req_.patient_compartment) sql += " AND r.patient <> ''";
    if (req_.patients) {
      std::string in;
      for (const auto& id : *req_.patients) {
        in += in.empty() ? "?" : ", ?";
        p.emplace_back(id);
      }
      sql += in.empty() ? " AND 1 = 0" : " AND r.patient IN (" + in + ")";
    }
    if (!req_.filter.sql.empty()) {
      sql += " AND (" + req_.filter.sql + ")";
      for (const auto& fp : req_.filter.params) p.push_back(fp);
    }
    sql += " ORDER BY r.id LIMIT 1000";
    auto res = db_.Query(sql, p);
    std::vector<std::string> out;
    for (auto& row : res.rows) {
      last_id_ = row[0].AsText();
      out.push_back(row[1].AsText());
    }
    return out;
  }

 private:
  storage::Database& db_;
  const ExportRequest& req_;
  std::string type_;
  std::string last_id_;
};
}  // namespace

ExportResult RunExport(storage::Database& db, const ExportRequest& req, const std::string& out_dir,
                       const deid::Deidentifier* deid, const std::function<bool(uint64_t)>& progress) {
  if (req.deid && !deid) throw Error(ErrorCode::kInternal, "de-identified export without a de-identifier");
  ExportResult result;
  result.transaction_time = clock::NowMillis();
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw Error(ErrorCode::kUnavailable, "cannot create " + out_dir + ": " + ec.message());

  std::vector<std::string> types = req.types;
  if (types.empty()) {
    for (const auto& r : db.Query("SELECT DISTINCT type FROM fhir_resource WHERE deleted = 0 ORDER BY type").rows) {
      types.push_back(r[0].AsText());
    }
  }
  // De-identification learns every patient (and practitioner) first, so
  // their names are scrubbed from all notes, whoever's notes they are.
  if (req.deid) {
    for (const char* t : {"Patient", "Practitioner", "RelatedPerson"}) {
      ExportRequest all = req;
      all.types = {t};
      TypeScan scan(db, all, t);
      for (auto page = scan.Next(); !page.empty(); page = scan.Next()) {
        for (const auto& body : page) const_cast<deid::Deidentifier*>(deid)->Learn(Json::parse(body));
      }
    }
    result.deid_profile = deid->ProfileDescription();
  }
  uint64_t written = 0;
  for (const auto& type : types) {
    TypeScan scan(db, req, type);
    std::string file = type + ".ndjson";
    std::string tmp = (fs::path(out_dir) / (file + ".part")).string();
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::kUnavailable, "cannot write " + tmp);
    uint64_t count = 0;
    for (auto page = scan.Next(); !page.empty(); page = scan.Next()) {
      for (const auto& body : page) {
        if (req.deid) {
          out << deid->Apply(Json::parse(body)).dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
        } else {
          out << body << '\n';
        }
        ++count;
        ++written;
      }
      if (progress && !progress(written)) {
        out.close();
        fs::remove(tmp, ec);
        throw Error(ErrorCode::kConflict, "cancelled");
      }
    }
    out.close();
    if (!out) throw Error(ErrorCode::kUnavailable, "cannot write " + tmp);
    if (count == 0) {
      fs::remove(tmp, ec);
      continue;
    }
    fs::rename(tmp, fs::path(out_dir) / file);
    result.outputs.push_back({type, file, count});
  }
  return result;
}

Json ExportRequestToJson(const ExportRequest& r) {
  Json j = {{"types", r.types}, {"patient_compartment", r.patient_compartment}, {"deid", r.deid}, {"purpose", r.purpose},
            {"filter_sql", r.filter.sql}, {"filter_params", Json::array()}};
  for (const auto& p : r.filter.params) j["filter_params"].push_back(p.AsText());
  if (r.since) j["since"] = *r.since;
  if (r.patients) j["patients"] = *r.patients;
  return j;
}

ExportRequest ExportRequestFromJson(const Json& j) {
  ExportRequest r;
  r.types = j.value("types", std::vector<std::string>{});
  r.patient_compartment = j.value("patient_compartment", false);
  r.deid = j.value("deid", false);
  r.purpose = j.value("purpose", std::string("unspecified"));
  r.filter.sql = j.value("filter_sql", std::string());
  for (const auto& p : j.value("filter_params", Json::array())) r.filter.params.emplace_back(p.get<std::string>());
  if (j.contains("since")) r.since = j["since"].get<int64_t>();
  if (j.contains("patients")) r.patients = j["patients"].get<std::vector<std::string>>();
  return r;
}

std::vector<storage::Migration> ExportJobs::Migrations() {
  return {{1, "export jobs", R"SQL(
CREATE TABLE lake_export_job (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  status TEXT NOT NULL,
  request TEXT NOT NULL,
  plan TEXT NOT NULL,
  created ${BIGINT} NOT NULL,
  finished ${BIGINT},
  manifest TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
)SQL"}};
}

ExportJobs::ExportJobs(storage::Database& db, std::string root, std::string deid_key_path)
    : db_(db), root_(std::move(root)), deid_key_path_(std::move(deid_key_path)) {
  for (const auto& r : db_.Query("SELECT id, plan FROM lake_export_job WHERE status IN ('queued', 'running') ORDER BY created").rows) {
    queue_.emplace_back(r[0].AsText(), ExportRequestFromJson(Json::parse(r[1].AsText())));
  }
  worker_ = std::thread([this] { Loop(); });
}

ExportJobs::~ExportJobs() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cancel_running_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

std::string ExportJobs::Submit(const std::string& owner, const ExportRequest& request, Json request_json) {
  std::string id = NewResourceId();
  db_.Execute("INSERT INTO lake_export_job (id, owner, status, request, plan, created) VALUES (?, ?, 'queued', ?, ?, ?)",
              {id, owner, request_json.dump(), ExportRequestToJson(request).dump(), clock::NowMillis()});
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(id, request);
  }
  cv_.notify_one();
  return id;
}

std::optional<ExportJob> ExportJobs::Get(const std::string& id) const {
  auto res = db_.Query("SELECT id, owner, status, request, created, finished, manifest, error FROM lake_export_job WHERE id = ?", {id});
  if (res.empty()) return std::nullopt;
  const auto& r = res.rows[0];
  ExportJob j;
  j.id = r[0].AsText();
  j.owner = r[1].AsText();
  j.status = r[2].AsText();
  j.request = Json::parse(r[3].AsText());
  j.created = r[4].AsInt();
  j.finished = r[5].AsOptionalInt();
  if (!r[6].AsText().empty()) j.manifest = Json::parse(r[6].AsText());
  j.error = r[7].AsText();
  std::lock_guard lock(mu_);
  if (running_ == id) j.progress = running_progress_.load();
  return j;
}

bool ExportJobs::Cancel(const std::string& id) {
  int64_t changed = db_.Execute("UPDATE lake_export_job SET status = 'cancelled', finished = ? WHERE id = ? AND status IN ('queued', 'running', 'done')",
                                {clock::NowMillis(), id});
  {
    std::lock_guard lock(mu_);
    std::erase_if(queue_, [&](const auto& q) { return q.first == id; });
    if (running_ == id) cancel_running_ = true;
  }
  std::error_code ec;
  fs::remove_all(fs::path(root_) / id, ec);
  return changed > 0;
}

std::optional<std::string> ExportJobs::FilePath(const std::string& id, const std::string& file) const {
  auto job = Get(id);
  if (!job || job->status != "done") return std::nullopt;
  // Only names the manifest lists, so no path can be smuggled in.
  for (const auto& o : job->manifest.value("output", Json::array())) {
    std::string url = o.value("url", std::string());
    if (url.size() >= file.size() + 1 && url.compare(url.size() - file.size(), file.size(), file) == 0 &&
        url[url.size() - file.size() - 1] == '/') {
      return (fs::path(root_) / id / file).string();
    }
  }
  return std::nullopt;
}

void ExportJobs::Loop() {
  for (;;) {
    std::pair<std::string, ExportRequest> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      running_ = job.first;
      cancel_running_ = false;
      running_progress_ = 0;
    }
    const std::string& id = job.first;
    db_.Execute("UPDATE lake_export_job SET status = 'running' WHERE id = ? AND status = 'queued'", {id});
    std::string out_dir = (fs::path(root_) / id).string();
    try {
      std::unique_ptr<deid::Deidentifier> deid;
      if (job.second.deid) deid = std::make_unique<deid::Deidentifier>(deid::LoadOrCreateKey(deid_key_path_));
      auto result = RunExport(db_, job.second, out_dir, deid.get(), [&](uint64_t n) {
        running_progress_ = n;
        return !cancel_running_.load();
      });
      Json manifest = {{"transactionTime", clock::FormatIso8601(result.transaction_time)},
                       {"requiresAccessToken", true},
                       {"output", Json::array()},
                       {"error", Json::array()}};
      auto stored = Get(id);
      if (stored) manifest["request"] = stored->request.value("url", std::string());
      for (const auto& o : result.outputs) {
        manifest["output"].push_back({{"type", o.type}, {"url", "/fhir/$export-file/" + id + "/" + o.file}, {"count", o.count}});
      }
      if (!result.deid_profile.is_null()) manifest["extension"] = {{"deidentification", result.deid_profile}};
      db_.Execute("UPDATE lake_export_job SET status = 'done', finished = ?, manifest = ? WHERE id = ? AND status = 'running'",
                  {clock::NowMillis(), manifest.dump(), id});
    } catch (const std::exception& e) {
      spdlog::warn("export job {} stopped: {}", id, e.what());
      db_.Execute("UPDATE lake_export_job SET status = CASE WHEN status = 'cancelled' THEN status ELSE 'failed' END, "
                  "finished = ?, error = ? WHERE id = ?",
                  {clock::NowMillis(), std::string(e.what()), id});
    }
    std::lock_guard lock(mu_);
    running_.clear();
  }
}

}  // namespace haip::lake
