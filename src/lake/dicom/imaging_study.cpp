// DicomInstance -> FHIR R4 ImagingStudy / Patient, and file ingestion.
#include <algorithm>
#include <cctype>
#include <set>

#include "core/crypto.h"
#include "core/error.h"
#include "lake/blob/blob_store.h"
#include "lake/dicom/dicom.h"
#include "lake/dicom/text.h"

namespace haip::lake::dicom {

std::string ImagingStudyId(std::string_view study_instance_uid) { return crypto::Sha256Hex(study_instance_uid); }

std::string PatientIdFor(const DicomInstance& instance) {
  if (!instance.patient_id.empty()) {
    return crypto::Sha256Hex("dicom-patient|" + instance.issuer_of_patient_id + "|" + instance.patient_id);
  }
  return crypto::Sha256Hex("dicom-study-patient|" + instance.study_instance_uid);
}

namespace {

Json ModalityCoding(const std::string& modality) {
  return Json{{"system", kDcmSystem}, {"code", modality.empty() ? "OT" : modality}};
}

bool NumberLess(const std::optional<int32_t>& a, const std::string& ua, const std::optional<int32_t>& b,
                const std::string& ub) {
  // Numbered before unnumbered, then by UID.
  if (a.has_value() != b.has_value()) return a.has_value();
  if (a && *a != *b) return *a < *b;
  return ua < ub;
}

}  // namespace

Json BuildImagingStudy(const std::vector<DicomInstance>& instances, const ImagingStudyOptions& options) {
  if (instances.empty()) throw Error(ErrorCode::kBadRequest, "ImagingStudy needs at least one instance");
  const DicomInstance& first = instances.front();
  const std::string& study_uid = first.study_instance_uid;

  // Series UID -> its instances, duplicates (same SOP Instance UID) dropped.
  std::map<std::string, std::vector<const DicomInstance*>> by_series;
  std::set<std::string> seen;
  for (const auto& in : instances) {
    if (in.study_instance_uid != study_uid) {
      throw Error(ErrorCode::kBadRequest, "instances of several studies (" + study_uid + ", " +
                                              in.study_instance_uid + ") given for one ImagingStudy");
    }
    if (!seen.insert(in.sop_instance_uid).second) continue;
    by_series[in.series_instance_uid].push_back(&in);
  }
  std::vector<std::vector<const DicomInstance*>> series_list;
  for (auto& [uid, list] : by_series) {
    std::sort(list.begin(), list.end(), [](const DicomInstance* a, const DicomInstance* b) {
      return NumberLess(a->instance_number, a->sop_instance_uid, b->instance_number, b->sop_instance_uid);
    });
    series_list.push_back(list);
  }
  std::sort(series_list.begin(), series_list.end(), [](const auto& a, const auto& b) {
    return NumberLess(a.front()->series_number, a.front()->series_instance_uid, b.front()->series_number,
                      b.front()->series_instance_uid);
  });

  Json study = {{"resourceType", "ImagingStudy"}, {"id", ImagingStudyId(study_uid)}};
  Json identifiers = Json::array({Json{{"system", "urn:dicom:uid"}, {"value", "urn:oid:" + study_uid}}});
  if (!first.accession_number.empty()) {
    identifiers.push_back(
        {{"type",
          {{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v2-0203"}, {"code", "ACSN"}}})}}},
         {"value", first.accession_number}});
  }

  Json modalities = Json::array();
  std::set<std::string> modality_seen;
  Json series_json = Json::array();
  size_t total = 0;
  for (const auto& list : series_list) {
    const DicomInstance& s = *list.front();
    std::string modality = s.modality.empty() ? "OT" : s.modality;
    if (modality_seen.insert(modality).second) modalities.push_back(ModalityCoding(modality));
    Json series = {{"uid", s.series_instance_uid}};
    if (s.series_number) series["number"] = *s.series_number;
    series["modality"] = ModalityCoding(modality);
    if (!s.series_description.empty()) series["description"] = s.series_description;
    series["numberOfInstances"] = list.size();
    if (!s.body_part_examined.empty()) series["bodySite"] = {{"display", s.body_part_examined}};
    Json inst_json = Json::array();
    for (const DicomInstance* in : list) {
      Json i = {{"uid", in->sop_instance_uid}};
      Json ext = Json::array();
      if (!in->blob_key.empty()) ext.push_back({{"url", kExtBlobKey}, {"valueString", in->blob_key}});
      if (!in->transfer_syntax_uid.empty()) {
        ext.push_back({{"url", kExtTransferSyntax}, {"valueOid", "urn:oid:" + in->transfer_syntax_uid}});
      }
      ext.push_back({{"url", kExtNumberOfFrames}, {"valuePositiveInt", in->number_of_frames}});
      if (!in->orthanc_id.empty()) ext.push_back({{"url", kExtOrthancId}, {"valueString", in->orthanc_id}});
      i["extension"] = std::move(ext);
      if (!in->sop_class_uid.empty()) {
        i["sopClass"] = {{"system", "urn:ietf:rfc:3986"}, {"code", "urn:oid:" + in->sop_class_uid}};
      } else {
        // sopClass is required (1..1); an unknown class is recorded as absent data.
        i["sopClass"] = {{"extension", Json::array({{{"url", "http://hl7.org/fhir/StructureDefinition/data-absent-reason"},
                                                      {"valueCode", "unknown"}}})}};
      }
      if (in->instance_number) i["number"] = *in->instance_number;
      inst_json.push_back(std::move(i));
    }
    total += list.size();
    series["instance"] = std::move(inst_json);
    series_json.push_back(std::move(series));
  }

  Json study_ext = Json::array();
  if (!options.dicomweb_root.empty()) {
    std::string root = options.dicomweb_root;
    while (!root.empty() && root.back() == '/') root.pop_back();
    study["contained"] = Json::array(
        {{{"resourceType", "Endpoint"},
          {"id", "dicomweb"},
          {"status", "active"},
          {"connectionType",
           {{"system", "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"}, {"code", "dicom-wado-rs"}}},
          {"payloadType", Json::array({{{"text", "DICOM"}}})},
          {"payloadMimeType", Json::array({"application/dicom"})},
          {"address", root}}});
    study_ext.push_back({{"url", kExtDicomwebStudyUrl}, {"valueUrl", root + "/studies/" + study_uid}});
  }
  if (!study_ext.empty()) study["extension"] = std::move(study_ext);
  study["identifier"] = std::move(identifiers);
  study["status"] = "available";
  study["modality"] = std::move(modalities);
  study["subject"] = {{"reference", options.patient_reference.empty() ? "Patient/" + PatientIdFor(first)
                                                                       : options.patient_reference}};
  std::string started =
      DicomDateTimeToFhir(first.study_date, first.study_time, first.timezone_offset, options.default_timezone);
  if (!started.empty()) study["started"] = started;
  if (!options.dicomweb_root.empty()) study["endpoint"] = Json::array({{{"reference", "#dicomweb"}}});
  study["numberOfSeries"] = series_list.size();
  study["numberOfInstances"] = total;
  if (!first.study_description.empty()) study["description"] = first.study_description;
  if (std::any_of(instances.begin(), instances.end(), [](const DicomInstance& i) { return i.uids_derived; })) {
    study["note"] = Json::array({{{"text",
                                   "The source DICOM lacks StudyInstanceUID and/or SeriesInstanceUID; HAIP derived "
                                   "them (2.25.x) from the SOPInstanceUID."}}});
  }
  study["series"] = std::move(series_json);
  return study;
}

std::vector<Json> BuildImagingStudies(const std::vector<DicomInstance>& instances, const ImagingStudyOptions& options) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<DicomInstance>> groups;
  for (const auto& in : instances) {
    auto [it, inserted] = groups.try_emplace(in.study_instance_uid);
    if (inserted) order.push_back(in.study_instance_uid);
    it->second.push_back(in);
  }
  std::vector<Json> out;
  for (const auto& uid : order) out.push_back(BuildImagingStudy(groups[uid], options));
  return out;
}

namespace {

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    parts.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

// PN "Family^Given^Middle^Prefix^Suffix=Ideographic=Phonetic" -> HumanName list.
Json HumanNames(const std::string& pn) {
  Json names = Json::array();
  auto groups = Split(pn, '=');
  for (size_t g = 0; g < groups.size() && g < 2; ++g) {
    auto parts = Split(groups[g], '^');
    while (parts.size() < 5) parts.emplace_back();
    for (auto& p : parts) p = Utf8Trimmed(p);
    if (std::all_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) continue;
    Json name = Json::object();
    std::string text;
    if (g == 0) {
      // Alphabetic group in Western order: prefix given middle family suffix.
      for (size_t k : {3, 1, 2, 0, 4}) {
        if (parts[k].empty()) continue;
        if (!text.empty()) text += ' ';
        text += parts[k];
      }
    } else {
      // Ideographic (CJK) names are written family first, without spaces.
      for (size_t k : {0, 1, 2}) text += parts[k];
    }
    name["text"] = text;
    if (!parts[0].empty()) name["family"] = parts[0];
    Json given = Json::array();
    if (!parts[1].empty()) given.push_back(parts[1]);
    if (!parts[2].empty()) given.push_back(parts[2]);
    if (!given.empty()) name["given"] = given;
    if (!parts[3].empty()) name["prefix"] = Json::array({parts[3]});
    if (!parts[4].empty()) name["suffix"] = Json::array({parts[4]});
    if (g == 1) name["extension"] = Json::array({{{"url", "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"},
                                                   {"valueCode", "IDE"}}});
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

Json BuildPatient(const DicomInstance& instance) {
  Json patient = {{"resourceType", "Patient"}, {"id", PatientIdFor(instance)}};
  if (!instance.patient_id.empty()) {
    Json id = {{"type", {{"text", "DICOM PatientID"}}}, {"value", instance.patient_id}};
    if (!instance.issuer_of_patient_id.empty()) id["assigner"] = {{"display", instance.issuer_of_patient_id}};
    patient["identifier"] = Json::array({id});
  }
  Json names = HumanNames(instance.patient_name);
  if (!names.empty()) patient["name"] = names;
  const std::string& sex = instance.patient_sex;
  patient["gender"] = sex == "M" ? "male" : sex == "F" ? "female" : sex == "O" ? "other" : "unknown";
  if (std::string birth = DicomDateToFhir(instance.patient_birth_date); !birth.empty()) patient["birthDate"] = birth;
  return patient;
}

IngestResult IngestFiles(const std::vector<std::filesystem::path>& paths, BlobStore& blobs,
                         const ImagingStudyOptions& options) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  IngestResult result;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().filename() != "DICOMDIR") found.push_back(it->path());
      }
      if (ec) result.errors.push_back(p.string() + ": " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }

  std::map<std::string, size_t> by_sop;
  for (const auto& f : files) {
    try {
      DicomInstance in = ReadDicomFile(f);
      if (auto dup = by_sop.find(in.sop_instance_uid); dup != by_sop.end()) {
        // The same instance again (e.g. another transfer syntax of it): the
        // first file stands for it and this one is not stored.
        result.duplicates.push_back(f.string() + ": same SOPInstanceUID as " + result.instances[dup->second].source);
        continue;
      }
      in.source = f.string();
      in.blob_key = blobs.PutFile(f);
      result.blob_keys[in.sop_instance_uid] = in.blob_key;
      by_sop[in.sop_instance_uid] = result.instances.size();
      result.instances.push_back(std::move(in));
    } catch (const Error& e) {
      std::string msg = e.what();
      // The reader's messages already start with the path.
      result.errors.push_back(msg.rfind(f.string(), 0) == 0 ? msg : f.string() + ": " + msg);
    }
  }

  result.studies = BuildImagingStudies(result.instances, options);
  if (options.patient_reference.empty()) {
    std::set<std::string> seen;
    for (const auto& in : result.instances) {
      if (seen.insert(PatientIdFor(in)).second) result.patients.push_back(BuildPatient(in));
    }
  }
  return result;
}

}  // namespace haip::lake::dicom
