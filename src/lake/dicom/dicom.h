// DICOM in the lake: read the attributes that identify a patient, study,
// series and instance from DICOM files (DCMTK), map instances to FHIR R4
// ImagingStudy (and Patient) resources, and keep each original file, pixel
// data included, in the blob store.
//
// Reading never decodes pixel data, so every transfer syntax works, including
// ones DCMTK has no codec for (HTJ2K, frame deflate): the dataset is parsed
// with the encoding the header declares (or, without a file meta header, the
// one DCMTK detects). Anything that is not a parseable DICOM composite
// instance is Error(kBadRequest) naming the problem; nothing crashes.
//
// Identifiers are deterministic, so re-ingesting the same files yields the
// same resources (the FHIR store then writes no new versions):
//   ImagingStudy.id = SHA-256 hex of the StudyInstanceUID,
//   Patient.id      = SHA-256 hex of "dicom-patient|<IssuerOfPatientID>|<PatientID>"
//                     (without a PatientID: of "dicom-study-patient|<StudyInstanceUID>").
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace haip::lake {
class BlobStore;
}

namespace haip::lake::dicom {

// Extension URLs HAIP puts on ImagingStudy.
inline constexpr const char* kExtBlobKey = "http://haip.local/fhir/StructureDefinition/dicom-blob-key";
inline constexpr const char* kExtTransferSyntax = "http://haip.local/fhir/StructureDefinition/dicom-transfer-syntax";
inline constexpr const char* kExtNumberOfFrames = "http://haip.local/fhir/StructureDefinition/dicom-number-of-frames";
inline constexpr const char* kExtDicomwebStudyUrl = "http://haip.local/fhir/StructureDefinition/dicomweb-study-url";
inline constexpr const char* kExtOrthancId = "http://haip.local/fhir/StructureDefinition/orthanc-id";
inline constexpr const char* kDcmSystem = "http://dicom.nema.org/resources/ontology/DCM";

// The attributes HAIP keeps from one instance. Strings are UTF-8 (converted
// from the file's SpecificCharacterSet where DCMTK can; otherwise invalid
// bytes become U+FFFD), trimmed, empty when absent.
struct DicomInstance {
  // Patient
  std::string patient_id;             // (0010,0020)
  std::string issuer_of_patient_id;   // (0010,0021)
  std::string patient_name;           // (0010,0010) PN, as stored: "Family^Given=..."
  std::string patient_birth_date;     // (0010,0030) DA "YYYYMMDD"
  std::string patient_sex;            // (0010,0040) "M", "F", "O"
  // Study
  std::string study_instance_uid;     // (0020,000D); derived when absent (see uids_derived)
  std::string study_date;             // (0008,0020) DA
  std::string study_time;             // (0008,0030) TM
  std::string timezone_offset;        // (0008,0201) "+0800"
  std::string accession_number;       // (0008,0050)
  std::string study_description;      // (0008,1030)
  // Series
  std::string series_instance_uid;    // (0020,000E); derived when absent
  std::string modality;               // (0008,0060)
  std::optional<int32_t> series_number;  // (0020,0011)
  std::string series_description;     // (0008,103E)
  std::string body_part_examined;     // (0018,0015)
  // Instance
  std::string sop_instance_uid;       // (0008,0018) or the meta header's (0002,0003); required
  std::string sop_class_uid;          // (0008,0016)
  std::optional<int32_t> instance_number;  // (0020,0013)
  int32_t number_of_frames = 1;       // (0028,0008); 1 when absent
  uint16_t rows = 0;                  // (0028,0010)
  uint16_t columns = 0;               // (0028,0011)
  // Encoding: (0002,0010) from the file meta header; without one, the
  // encoding DCMTK detected ("1.2.840.10008.1.2" for implicit VR LE).
  std::string transfer_syntax_uid;
  bool has_meta_header = false;
  bool has_pixel_data = false;
  // The file had no Study and/or Series Instance UID; they were derived from
  // the SOP Instance UID as "2.25.<128 bits of SHA-256 in decimal>" UIDs
  // (PS3.5 B.2), and the ImagingStudy carries a note saying so.
  bool uids_derived = false;
  uint64_t size_bytes = 0;            // of the file or buffer
  // Where the original file is kept (blob store key); empty if not stored.
  std::string blob_key;
  // Orthanc's instance ID when the instance came from Orthanc.
  std::string orthanc_id;
  // The file it was read from (IngestFiles); empty otherwise.
  std::string source;
};

// Reads a DICOM Part 10 file, or a raw dataset without preamble/meta header.
// Pixel data is not loaded into memory. Error(kBadRequest) when the file is
// not DICOM, truncated (cut inside an element, or image attributes without
// pixel data), has no SOP Instance UID or a malformed UID; kNotFound when it
// does not exist.
DicomInstance ReadDicomFile(const std::filesystem::path& path);
// The same from bytes in memory.
DicomInstance ReadDicomBuffer(std::string_view bytes);

struct ImagingStudyOptions {
  // "Patient/<id>" to use as subject; empty: "Patient/" + PatientIdFor(first instance).
  std::string patient_reference;
  // DICOMweb root ("http://pacs:8042/dicom-web"); when set, the study gets a
  // contained Endpoint (connectionType dicom-wado-rs, address = this root) in
  // ImagingStudy.endpoint and the extension kExtDicomwebStudyUrl with
  // "<root>/studies/<StudyInstanceUID>".
  std::string dicomweb_root;
  // Offset ("+08:00") for `started` when the file has no TimezoneOffsetFromUTC.
  // FHIR requires a zone on a dateTime with a time, so without either
  // `started` holds the date only.
  std::string default_timezone;
};

std::string ImagingStudyId(std::string_view study_instance_uid);
std::string PatientIdFor(const DicomInstance& instance);

// One ImagingStudy from instances of one study (Error(kBadRequest) if they
// span several StudyInstanceUIDs or the list is empty). Series are ordered by
// SeriesNumber then UID, instances by InstanceNumber then UID; a repeated
// SOPInstanceUID is kept once. A series without Modality gets "OT" (Other),
// since FHIR requires one.
Json BuildImagingStudy(const std::vector<DicomInstance>& instances, const ImagingStudyOptions& options = {});
// Groups by StudyInstanceUID (in order of first appearance) and builds each.
std::vector<Json> BuildImagingStudies(const std::vector<DicomInstance>& instances,
                                      const ImagingStudyOptions& options = {});
// A Patient from the instance's patient attributes, with id PatientIdFor().
Json BuildPatient(const DicomInstance& instance);

struct IngestResult {
  std::vector<Json> studies;    // ImagingStudy, one per StudyInstanceUID
  std::vector<Json> patients;   // Patient, one per distinct patient id
  std::vector<DicomInstance> instances;        // what was read, blob_key set
  std::map<std::string, std::string> blob_keys;  // SOPInstanceUID -> blob key
  std::vector<std::string> errors;             // "<path>: <message>" per rejected file
  // "<path>: same SOPInstanceUID as <path>": a later file with an instance
  // already read (a transcoded copy); the first file stands for it, the
  // later one is not stored.
  std::vector<std::string> duplicates;
};

// Reads every file (directories recursively; files named DICOMDIR skipped),
// stores each accepted original in `blobs` and builds the resources. Files
// that are not DICOM are reported in `errors`; the rest are still ingested.
// Unless options.patient_reference is set, each study's subject is its own
// derived Patient.
IngestResult IngestFiles(const std::vector<std::filesystem::path>& paths, BlobStore& blobs,
                         const ImagingStudyOptions& options = {});

}  // namespace haip::lake::dicom
