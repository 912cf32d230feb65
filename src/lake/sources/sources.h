// Feeds from the hospital's other systems into the FHIR store: HL7 v2
// messages (files or MLLP) and DICOM files. The raw message or object is kept
// in the blob store and every resource made from it links back to it
// (meta.source), so the original can always be consulted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "lake/blob/blob_store.h"
#include "lake/dicom/orthanc_connector.h"
#include "lake/fhir/store.h"
#include "lake/hl7v2/mapping.h"

namespace haip::lake {

struct Hl7Outcome {
  hl7v2::AckCode ack = hl7v2::AckCode::kAA;
  std::string ack_message;  // the ACK to send back
  std::string error;
  std::string message_type, control_id, patient;  // patient: "Patient/id" when one was touched
  size_t resources = 0;
};

// Maps and stores HL7 v2 messages. A message is stored whole or not at all:
// a mapping or validation failure answers AE/AR and writes nothing.
class Hl7Ingestor {
 public:
  Hl7Ingestor(FhirStore& store, BlobStore& blobs);
  Hl7Outcome Handle(const std::string& raw);

 private:
  FhirStore& store_;
  BlobStore& blobs_;
};

struct SourceReport {
  uint64_t accepted = 0, rejected = 0, resources = 0;
  std::map<std::string, uint64_t> by_type;  // message types or resource types
  std::vector<std::string> errors;
};

// Every message in every file (folders recursively).
SourceReport IngestHl7Files(Hl7Ingestor& ingestor, const std::vector<std::string>& paths);
// Every DICOM file: originals into the blob store, ImagingStudy (and a
// Patient when none exists yet) into the FHIR store.
SourceReport IngestDicomFiles(FhirStore& store, BlobStore& blobs, const std::vector<std::string>& paths);

// Follows an Orthanc PACS's /changes feed into the lake: each new study
// becomes an ImagingStudy pointing back to Orthanc's DICOMweb endpoint (and a
// Patient when the lake has none). The feed position is kept in the database,
// so a restarted server continues where it stopped.
class OrthancFollower {
 public:
  OrthancFollower(FhirStore& store, storage::Database& db, dicom::OrthancOptions options);
  ~OrthancFollower();  // Stop()s
  static std::vector<storage::Migration> Migrations();

  // One poll: returns the number of studies written. Throws
  // Error(kUnavailable) when Orthanc cannot be reached (the position stays).
  size_t PollOnce();
  // Polls every `interval_s` on a background thread until Stop().
  void Start(int64_t interval_s);
  void Stop();

 private:
  FhirStore& store_;
  storage::Database& db_;
  std::string name_;  // the feed's key in the position table: the base URL
  dicom::OrthancConnector connector_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace haip::lake
