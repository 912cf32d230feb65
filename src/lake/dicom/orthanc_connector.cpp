#include "lake/dicom/orthanc_connector.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "lake/dicom/text.h"

namespace haip::lake::dicom {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr uint64_t kMaxBody = 256ull << 20;

std::string Base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kTable[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += {kTable[(v >> 18) & 63], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += {kTable[(v >> 18) & 63], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Str(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return Utf8Trimmed(it->get<std::string>());
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

OrthancClient::OrthancClient(OrthancOptions options) : options_(std::move(options)) {
  std::string url = TrimSlash(options_.base_url);
  constexpr std::string_view kScheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    throw Error(ErrorCode::kBadRequest, "orthanc.url: https is not supported; use http on loopback or a local proxy");
  }
  if (url.rfind(kScheme, 0) != 0) throw Error(ErrorCode::kBadRequest, "orthanc.url must start with http://: '" + url + "'");
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  prefix_ = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) {
    throw Error(ErrorCode::kBadRequest, "orthanc.url: give credentials as orthanc.username/password, not in the URL");
  }
  port_ = "80";
  if (!authority.empty() && authority.front() == '[') {
    // IPv6 literal: [::1]:8042
    size_t close = authority.find(']');
    if (close == std::string::npos) throw Error(ErrorCode::kBadRequest, "orthanc.url: malformed IPv6 host in '" + url + "'");
    host_ = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port_ = authority.substr(close + 2);
  } else if (size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host_ = authority.substr(0, colon);
    port_ = authority.substr(colon + 1);
  } else {
    host_ = authority;
  }
  if (host_.empty() || port_.empty() || port_.find_first_not_of("0123456789") != std::string::npos) {
    throw Error(ErrorCode::kBadRequest, "orthanc.url: cannot parse host and port of '" + url + "'");
  }
  if (options_.timeout_seconds <= 0) options_.timeout_seconds = 30;
}

HttpResponse OrthancClient::Request(std::string_view method, std::string_view target, std::string_view body,
                                    std::string_view content_type) {
  const std::string full_target = prefix_ + std::string(target);
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(options_.timeout_seconds));
    stream.connect(resolver.resolve(host_, port_));

    http::request<http::string_body> req{http::string_to_verb(std::string(method)), full_target, 11};
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::user_agent, "haip-orthanc-connector");
    req.set(http::field::accept, "application/json");
    if (!options_.username.empty()) {
      req.set(http::field::authorization, "Basic " + Base64(options_.username + ":" + options_.password));
    }
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.body() = std::string(body);
      if (!content_type.empty()) req.set(http::field::content_type, std::string(content_type));
    }
    req.prepare_payload();
    http::write(stream, req);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    http::read(stream, buffer, parser);
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return out;
  } catch (const boost::system::system_error& e) {
    throw Error(ErrorCode::kUnavailable, "Orthanc " + std::string(method) + " " + options_.base_url + full_target +
                                             " failed: " + e.code().message());
  }
}

Json OrthancClient::GetJson(std::string_view target) {
  HttpResponse res = Request("GET", target);
  if (res.status == 404) throw Error(ErrorCode::kNotFound, "Orthanc: " + std::string(target) + " not found");
  if (res.status < 200 || res.status >= 300) {
    std::string message = res.body.substr(0, 300);
    Json err = Json::parse(res.body, nullptr, false);
    if (err.is_object() && err.contains("Message") && err["Message"].is_string()) message = err["Message"];
    throw Error(ErrorCode::kUnavailable,
                "Orthanc GET " + std::string(target) + " returned " + std::to_string(res.status) + ": " + message);
  }
  Json j = Json::parse(res.body, nullptr, false);
  if (j.is_discarded()) throw Error(ErrorCode::kUnavailable, "Orthanc GET " + std::string(target) + ": invalid JSON");
  return j;
}

OrthancConnector::OrthancConnector(OrthancOptions options) : options_(options), client_(std::move(options)) {
  if (options_.page_size <= 0) options_.page_size = 100;
  if (options_.max_changes_per_poll <= 0) options_.max_changes_per_poll = 10000;
  if (options_.dicomweb_root.empty()) options_.dicomweb_root = TrimSlash(options_.base_url) + "/dicom-web";
  options_.study_options.dicomweb_root = options_.dicomweb_root;
  options_.study_options.patient_reference.clear();
}

int64_t OrthancConnector::cursor() const {
  std::lock_guard lock(mu_);
  return cursor_;
}

void OrthancConnector::set_cursor(int64_t seq) {
  std::lock_guard lock(mu_);
  cursor_ = seq < 0 ? 0 : seq;
}

bool OrthancConnector::caught_up() const {
  std::lock_guard lock(mu_);
  return caught_up_;
}

std::vector<Json> OrthancConnector::last_patients() const {
  std::lock_guard lock(mu_);
  return last_patients_;
}

std::vector<std::string> OrthancConnector::last_errors() const {
  std::lock_guard lock(mu_);
  return last_errors_;
}

Json OrthancConnector::FetchStudy(std::string_view orthanc_study_id, Json* patient) {
  const std::string sid(orthanc_study_id);
  Json study = client_.GetJson("/studies/" + sid);
  const Json& st = study.value("MainDicomTags", Json::object());
  const Json& pt = study.value("PatientMainDicomTags", Json::object());

  DicomInstance base;
  base.patient_id = Str(pt, "PatientID");
  base.issuer_of_patient_id = Str(pt, "IssuerOfPatientID");
  base.patient_name = Str(pt, "PatientName");
  base.patient_birth_date = Str(pt, "PatientBirthDate");
  base.patient_sex = Str(pt, "PatientSex");
  base.study_instance_uid = Str(st, "StudyInstanceUID");
  base.study_date = Str(st, "StudyDate");
  base.study_time = Str(st, "StudyTime");
  base.timezone_offset = Str(st, "TimezoneOffsetFromUTC");
  base.accession_number = Str(st, "AccessionNumber");
  base.study_description = Str(st, "StudyDescription");
  if (!IsDicomUid(base.study_instance_uid)) {
    throw Error(ErrorCode::kUnprocessable, "Orthanc study " + sid + " has no valid StudyInstanceUID");
  }

  std::vector<DicomInstance> instances;
  for (const auto& series_id : study.value("Series", Json::array())) {
    if (!series_id.is_string()) continue;
    const std::string ser_id = series_id.get<std::string>();
    Json series;
    Json members;
    try {
      series = client_.GetJson("/series/" + ser_id);
      members = client_.GetJson("/series/" + ser_id + "/instances");
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kNotFound) continue;  // deleted meanwhile
      throw;
    }
    const Json& se = series.value("MainDicomTags", Json::object());
    DicomInstance sbase = base;
    sbase.series_instance_uid = Str(se, "SeriesInstanceUID");
    sbase.modality = Str(se, "Modality");
    sbase.series_number = ParseDicomInt(Str(se, "SeriesNumber"));
    sbase.series_description = Str(se, "SeriesDescription");
    sbase.body_part_examined = Str(se, "BodyPartExamined");
    if (!IsDicomUid(sbase.series_instance_uid) || !members.is_array()) continue;
    for (const auto& m : members) {
      const Json& it = m.value("MainDicomTags", Json::object());
      DicomInstance in = sbase;
      in.orthanc_id = Str(m, "ID");
      in.sop_instance_uid = Str(it, "SOPInstanceUID");
      in.instance_number = ParseDicomInt(Str(it, "InstanceNumber"));
      if (auto frames = ParseDicomInt(Str(it, "NumberOfFrames")); frames && *frames > 0) in.number_of_frames = *frames;
      if (m.contains("FileSize") && m["FileSize"].is_number_unsigned()) in.size_bytes = m["FileSize"].get<uint64_t>();
      in.has_meta_header = true;
      in.has_pixel_data = true;
      if (!IsDicomUid(in.sop_instance_uid) || in.orthanc_id.empty()) continue;
      Json meta;
      try {
        meta = client_.GetJson("/instances/" + in.orthanc_id + "/metadata?expand");
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kNotFound) continue;
        throw;
      }
      if (meta.is_object()) {
        in.sop_class_uid = Str(meta, "SopClassUid");
        in.transfer_syntax_uid = Str(meta, "TransferSyntax");
      } else {
        // Orthanc before 1.9 ignores ?expand and lists metadata names.
        for (const char* name : {"SopClassUid", "TransferSyntax"}) {
          HttpResponse r = client_.Request("GET", "/instances/" + in.orthanc_id + "/metadata/" + name);
          if (r.status != 200) continue;
          (std::string_view(name) == "SopClassUid" ? in.sop_class_uid : in.transfer_syntax_uid) = Utf8Trimmed(r.body);
        }
      }
      instances.push_back(std::move(in));
    }
  }
  if (instances.empty()) {
    throw Error(ErrorCode::kUnprocessable, "Orthanc study " + sid + " (" + base.study_instance_uid + ") has no instances");
  }
  Json out = BuildImagingStudy(instances, options_.study_options);
  if (!out.contains("extension")) out["extension"] = Json::array();
  out["extension"].push_back({{"url", kExtOrthancId}, {"valueString", sid}});
  if (patient != nullptr) *patient = BuildPatient(instances.front());
  return out;
}

std::vector<Json> OrthancConnector::Poll() {
  std::lock_guard lock(mu_);
  const std::set<std::string> wanted(options_.change_types.begin(), options_.change_types.end());
  int64_t seq = cursor_;
  bool done = false;
  // Study IDs in order of their first selected change.
  std::vector<std::string> order;
  std::set<std::string> seen;
  int64_t processed = 0;
  while (!done && processed < options_.max_changes_per_poll) {
    Json page = client_.GetJson("/changes?since=" + std::to_string(seq) + "&limit=" + std::to_string(options_.page_size));
    const Json& changes = page.value("Changes", Json::array());
    if (!changes.is_array() || !page.contains("Last") || !page["Last"].is_number_integer()) {
      throw Error(ErrorCode::kUnavailable, "Orthanc /changes: unexpected response");
    }
    for (const auto& c : changes) {
      const std::string type = Str(c, "ChangeType");
      const std::string id = Str(c, "ID");
      if (Str(c, "ResourceType") == "Study" && wanted.count(type) && !id.empty() && seen.insert(id).second) {
        order.push_back(id);
      }
      // "NewInstance"/"NewSeries" select the parent study through the resource path.
      if (wanted.count(type) && Str(c, "ResourceType") != "Study") {
        Json parent;
        const std::string rtype = Str(c, "ResourceType");
        try {
          if (rtype == "Instance") parent = client_.GetJson("/instances/" + id + "/study");
          if (rtype == "Series") parent = client_.GetJson("/series/" + id + "/study");
        } catch (const Error& e) {
          if (e.code() != ErrorCode::kNotFound) throw;
        }
        std::string study_id = Str(parent, "ID");
        if (!study_id.empty() && seen.insert(study_id).second) order.push_back(study_id);
      }
    }
    int64_t last = page["Last"].get<int64_t>();
    processed += static_cast<int64_t>(changes.size());
    done = page.value("Done", true) || changes.empty() || last <= seq;
    seq = std::max(seq, last);
  }

  std::vector<Json> studies;
  std::vector<Json> patients;
  std::vector<std::string> errors;
  std::set<std::string> patient_ids;
  for (const auto& id : order) {
    try {
      Json patient;
      studies.push_back(FetchStudy(id, &patient));
      if (patient_ids.insert(patient.value("id", "")).second) patients.push_back(std::move(patient));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kNotFound) continue;
      if (e.code() == ErrorCode::kUnavailable || e.code() == ErrorCode::kTimeout) throw;
      spdlog::warn("orthanc connector: skipping study {}: {}", id, e.what());
      errors.push_back(id + ": " + e.what());
    }
  }
  cursor_ = seq;
  caught_up_ = done;
  last_patients_ = std::move(patients);
  last_errors_ = std::move(errors);
  return studies;
}

}  // namespace haip::lake::dicom
