// Fuzz target: arbitrary bytes through the DICOM reader (DCMTK parsing from
// memory) and, for what it accepts, the mapping to FHIR ImagingStudy and
// Patient. Rejection with Error(kBadRequest) is fine; crashes, sanitizer
// reports, hangs, other error codes and exceptions of any other type are
// findings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "lake/dicom/dicom.h"

using namespace haip::lake::dicom;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  DicomInstance in;
  try {
    in = ReadDicomBuffer(bytes);
  } catch (const haip::Error& e) {
    if (e.code() != haip::ErrorCode::kBadRequest) __builtin_trap();
    return 0;
  }
  // Accepted input always has the UIDs an ImagingStudy needs.
  if (in.study_instance_uid.empty() || in.series_instance_uid.empty() || in.sop_instance_uid.empty()) {
    __builtin_trap();
  }
  haip::Json study = BuildImagingStudy({in}, {.dicomweb_root = "http://pacs/dicom-web", .default_timezone = "+08:00"});
  haip::Json patient = BuildPatient(in);
  // Both must serialize: every string reached JSON as valid UTF-8.
  (void)study.dump();
  (void)patient.dump();
  if (study["id"] != ImagingStudyId(in.study_instance_uid)) __builtin_trap();
  if (study["numberOfInstances"] != 1) __builtin_trap();
  return 0;
}
