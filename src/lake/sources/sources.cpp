#include "lake/sources/sources.h"

#include <algorithm>

#include "core/log.h"
#include "lake/dicom/dicom.h"
#include "lake/fhir/ingest.h"
#include "lake/hl7v2/ack.h"
#include "lake/hl7v2/message.h"

namespace haip::lake {

namespace fs = std::filesystem;

Hl7Ingestor::Hl7Ingestor(FhirStore& store, BlobStore& blobs) : store_(store), blobs_(blobs) {}

namespace {
// A Patient from a message that is not the demographic authority is written
// only when the lake has none, so an ORU never overwrites the ADT's details.
std::vector<Json> WithoutKnownPatients(FhirStore& store, std::vector<Json> resources) {
  std::vector<Json> out;
  for (auto& r : resources) {
    if (r.value("resourceType", std::string()) == "Patient") {
      try {
        store.Read("Patient", r["id"].get<std::string>());
        continue;  // exists
      } catch (const Error&) {
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}
}  // namespace

Hl7Outcome Hl7Ingestor::Handle(const std::string& raw) {
  Hl7Outcome out;
  hl7v2::MappingResult m = hl7v2::MapRawToFhir(raw);
  out.message_type = m.message_type;
  out.control_id = m.control_id;
  if (m.ack == hl7v2::AckCode::kAA) {
    try {
      std::vector<Json> resources = m.demographics_authoritative ? m.resources : WithoutKnownPatients(store_, m.resources);
      for (const auto& r : resources) {
        if (r.value("resourceType", std::string()) == "Patient") out.patient = "Patient/" + r["id"].get<std::string>();
      }
      blobs_.Put(raw);
      store_.WriteMany(resources);
      // A40: the merged record is marked inactive and linked to the survivor.
      for (const auto& merge : m.merges) {
        Json survivor = store_.Read("Patient", merge.surviving_patient_id);
        // A merged record the lake never saw still gets its forwarding stub,
        // so later messages naming the old identifier find the survivor.
        Json merged = {{"resourceType", "Patient"}, {"id", merge.merged_patient_id}};
        try {
          merged = store_.Read("Patient", merge.merged_patient_id);
        } catch (const FhirError& e) {
          if (e.code() != ErrorCode::kNotFound) throw;
        }
        merged["active"] = false;
        merged["link"] = Json::array({{{"other", {{"reference", "Patient/" + merge.surviving_patient_id}}}, {"type", "replaced-by"}}});
        Json links = survivor.value("link", Json::array());
        links.push_back({{"other", {{"reference", "Patient/" + merge.merged_patient_id}}}, {"type", "replaces"}});
        survivor["link"] = links;
        store_.WriteMany({merged, survivor});
        out.patient = "Patient/" + merge.surviving_patient_id;
      }
      out.resources = resources.size();
    } catch (const Error& e) {
      m.ack = hl7v2::AckCode::kAE;
      m.error = e.what();
    }
  }
  out.ack = m.ack;
  out.error = m.error;
  out.ack_message = hl7v2::AckFor(raw, m);
  return out;
}

namespace {
// Files named on the command line are taken as they are; in folders, files
// that are evidently something else (documentation, tables) are skipped.
std::vector<std::string> ExpandFolders(const std::vector<std::string>& paths) {
  static const std::vector<std::string> skip = {".md", ".csv", ".json", ".xml", ".html", ".pdf", ".png", ".jpg"};
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p)) {
        if (!e.is_regular_file()) continue;
        std::string ext = e.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
        if (std::find(skip.begin(), skip.end(), ext) != skip.end() || e.path().filename().string().front() == '.') continue;
        found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      throw Error(ErrorCode::kNotFound, "no such file or folder: " + p);
    }
  }
  return files;
}
}  // namespace

SourceReport IngestHl7Files(Hl7Ingestor& ingestor, const std::vector<std::string>& paths) {
  SourceReport report;
  std::vector<std::string> files = ExpandFolders(paths);
  for (const auto& f : files) {
    std::string text = FhirIngest::ReadFile(f);
    size_t n = 0;
    for (const auto& raw : hl7v2::SplitMessages(text)) {
      ++n;
      auto o = ingestor.Handle(raw);
      if (o.ack == hl7v2::AckCode::kAA) {
        ++report.accepted;
        report.resources += o.resources;
        ++report.by_type[o.message_type.empty() ? "?" : o.message_type];
      } else {
        ++report.rejected;
        if (report.errors.size() < 100) {
          report.errors.push_back(f + " message " + std::to_string(n) + ": " + std::string(hl7v2::AckCodeName(o.ack)) + " " + o.error);
        }
      }
    }
  }
  return report;
}

SourceReport IngestDicomFiles(FhirStore& store, BlobStore& blobs, const std::vector<std::string>& paths) {
  std::vector<std::string> files = ExpandFolders(paths);
  std::vector<fs::path> ps(files.begin(), files.end());
  dicom::IngestResult r = dicom::IngestFiles(ps, blobs);
  SourceReport report;
  report.accepted = r.instances.size();
  report.rejected = r.errors.size();
  report.errors = r.errors;
  std::vector<Json> resources = WithoutKnownPatients(store, r.patients);
  for (const auto& s : r.studies) resources.push_back(s);
  if (!resources.empty()) {
    for (const auto& w : store.WriteMany(resources)) ++report.by_type[w.resource["resourceType"].get<std::string>()];
  }
  report.resources = resources.size();
  return report;
}

std::vector<storage::Migration> OrthancFollower::Migrations() {
  return {{1, "positions in external feeds", R"SQL(
CREATE TABLE lake_feed_cursor (
  name TEXT PRIMARY KEY,
  cursor ${BIGINT} NOT NULL
);
)SQL"}};
}

OrthancFollower::OrthancFollower(FhirStore& store, storage::Database& db, dicom::OrthancOptions options)
    : store_(store), db_(db), name_("orthanc:" + options.base_url), connector_(options) {
  auto res = db_.Query("SELECT cursor FROM lake_feed_cursor WHERE name = ?", {name_});
  if (!res.empty()) connector_.set_cursor(res.rows[0][0].AsInt());
}

OrthancFollower::~OrthancFollower() { Stop(); }

size_t OrthancFollower::PollOnce() {
  std::vector<Json> studies = connector_.Poll();
  std::vector<Json> resources = WithoutKnownPatients(store_, connector_.last_patients());
  for (auto& s : studies) resources.push_back(std::move(s));
  size_t written = 0;
  if (!resources.empty()) {
    for (const auto& w : store_.WriteMany(resources)) {
      written += w.resource["resourceType"] == "ImagingStudy" && !w.unchanged;
    }
  }
  for (const auto& e : connector_.last_errors()) spdlog::warn("orthanc: {}", e);
  // The position advances only after the studies are stored.
  int64_t cursor = connector_.cursor();
  if (db_.Execute("UPDATE lake_feed_cursor SET cursor = ? WHERE name = ?", {cursor, name_}) == 0) {
    db_.Execute("INSERT INTO lake_feed_cursor (name, cursor) VALUES (?, ?)", {name_, cursor});
  }
  return written;
}

void OrthancFollower::Start(int64_t interval_s) {
  thread_ = std::thread([this, interval_s] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      try {
        size_t n = PollOnce();
        if (n) spdlog::info("orthanc: {} new or changed studies", n);
      } catch (const std::exception& e) {
        spdlog::warn("orthanc: {}", e.what());
      }
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(interval_s), [&] { return stop_; });
    }
  });
}

void OrthancFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace haip::lake
