// Orthanc connector: follows an Orthanc PACS's change log over its REST API
// and maps each study that changed to the same FHIR R4 ImagingStudy the file
// ingestion builds (lake/dicom/dicom.h), pointing back to Orthanc's DICOMweb
// root for the pixels (the files stay in Orthanc).
//
// Protocol (Orthanc REST API):
//   GET /changes?since=<cursor>&limit=<page_size>  -> {"Changes":[{"ChangeType","ID","ResourceType","Seq"}],"Done","Last"}
//   GET /studies/{id}                  study + patient main tags, series ids
//   GET /series/{id}                   series main tags
//   GET /series/{id}/instances         instances with their main tags
//   GET /instances/{id}/metadata?expand  SopClassUid, TransferSyntax
// Delivery is at least once: the cursor advances only when Poll() returns, so
// a failed Poll is retried from the same place next time, and a study that
// changes again (new instances, then StableStudy again) is returned again.
// ImagingStudy ids are deterministic, so writing them to the FHIR store is an
// idempotent upsert.
//
// HTTP: plain HTTP/1.1 (Boost.Beast, synchronous, one connection per
// request), meant for an Orthanc on loopback or a trusted network; optional
// basic auth. https:// URLs are refused (put a local proxy in front).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "lake/dicom/dicom.h"

namespace haip::lake::dicom {

struct OrthancOptions {
  std::string base_url;            // "http://127.0.0.1:8042" (a path prefix is allowed)
  std::string username;            // basic auth when non-empty
  std::string password;
  int timeout_seconds = 30;        // per HTTP request
  int page_size = 100;             // `limit` of each /changes call
  int max_changes_per_poll = 10000;  // bounds one Poll(); the rest comes next time
  // Change types that make a study fetched. "StableStudy" waits until Orthanc
  // has received no instance of the study for its StableAge; adding
  // "NewStudy" or "NewInstance" reports studies earlier (and more often).
  std::vector<std::string> change_types = {"StableStudy"};
  // DICOMweb root recorded as the Endpoint; empty: <base_url>/dicom-web.
  std::string dicomweb_root;
  // Passed to BuildImagingStudy (patient_reference is ignored: each study's
  // subject is derived from its PatientID).
  ImagingStudyOptions study_options;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// A minimal HTTP client for Orthanc's REST API.
class OrthancClient {
 public:
  // Error(kBadRequest) for a malformed or non-http URL.
  explicit OrthancClient(OrthancOptions options);

  // One request; any HTTP status is returned. Transport failures (refused,
  // timeout, reset) are Error(kUnavailable) naming the URL.
  HttpResponse Request(std::string_view method, std::string_view target, std::string_view body = {},
                       std::string_view content_type = {});
  // GET returning JSON: 404 -> Error(kNotFound); other non-2xx or invalid
  // JSON -> Error(kUnavailable) with Orthanc's message.
  Json GetJson(std::string_view target);

  const OrthancOptions& options() const { return options_; }

 private:
  OrthancOptions options_;
  std::string host_;
  std::string port_;
  std::string prefix_;  // path prefix without trailing slash
};

class OrthancConnector {
 public:
  explicit OrthancConnector(OrthancOptions options);

  // ImagingStudy resources for the studies whose selected changes appear
  // after the cursor (each study once per call, in change order), then
  // advances the cursor. A study deleted from Orthanc meanwhile is skipped; a
  // study whose data cannot be mapped is skipped and listed in last_errors().
  // Transport or server failures throw Error(kUnavailable) and leave the
  // cursor where it was. Thread-safe (calls are serialized).
  std::vector<Json> Poll();

  // Patient resources for the subjects of the studies the last Poll returned.
  std::vector<Json> last_patients() const;
  std::vector<std::string> last_errors() const;
  // True when the last Poll reached the end of Orthanc's change log.
  bool caught_up() const;

  // The Seq of the last change processed; the caller persists it.
  int64_t cursor() const;
  void set_cursor(int64_t seq);

  // Builds the ImagingStudy for one Orthanc study ID (kNotFound if absent).
  // `patient` receives the study's Patient resource when non-null.
  Json FetchStudy(std::string_view orthanc_study_id, Json* patient = nullptr);

 private:
  OrthancOptions options_;
  OrthancClient client_;
  mutable std::mutex mu_;
  int64_t cursor_ = 0;
  bool caught_up_ = false;
  std::vector<Json> last_patients_;
  std::vector<std::string> last_errors_;
};

}  // namespace haip::lake::dicom
