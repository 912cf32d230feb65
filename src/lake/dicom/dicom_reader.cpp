// DCMTK-based reading of DicomInstance attributes.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/error.h"
#include "lake/dicom/dicom.h"
#include "lake/dicom/text.h"

namespace haip::lake::dicom {
namespace {

void InitDcmtk() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK logs parse problems to stderr; HAIP reports them as errors instead.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    // Elements written with VR UN (explicit_VR-UN.dcm) are read with their
    // dictionary VR, so UIDs and strings in them come out as text.
    dcmEnableUnknownVRConversion.set(OFTrue);
  });
  if (!dcmDataDict.isDictionaryLoaded()) {
    throw Error(ErrorCode::kInternal,
                "DCMTK data dictionary not loaded (install libdcmtk17's dicom.dic or set DCMDICTPATH)");
  }
}

std::string GetString(DcmItem* item, const DcmTagKey& tag) {
  OFString value;
  // All values (VM > 1 keeps its backslashes), so e.g. a PN keeps its groups.
  if (item->findAndGetOFStringArray(tag, value).good()) return Utf8Trimmed(std::string(value.c_str(), value.length()));
  return "";
}

std::optional<int32_t> GetInt(DcmItem* item, const DcmTagKey& tag) {
  std::string s = GetString(item, tag);
  return ParseDicomInt(s);
}

[[noreturn]] void Reject(const std::string& source, const std::string& why) {
  throw Error(ErrorCode::kBadRequest, source + ": not a readable DICOM instance: " + why);
}

DicomInstance Extract(DcmFileFormat& file, const std::string& source, uint64_t size) {
  DcmDataset* ds = file.getDataset();
  DcmMetaInfo* meta = file.getMetaInfo();
  if (ds == nullptr) Reject(source, "no dataset");

  DicomInstance in;
  in.size_bytes = size;
  OFString xfer;
  if (meta != nullptr && meta->card() > 0) {
    in.has_meta_header = true;
    if (meta->findAndGetOFString(DCM_TransferSyntaxUID, xfer).good()) {
      in.transfer_syntax_uid = Utf8Trimmed(xfer.c_str());
    }
  }
  if (in.transfer_syntax_uid.empty()) {
    DcmXfer detected(ds->getOriginalXfer());
    if (detected.getXfer() != EXS_Unknown) in.transfer_syntax_uid = detected.getXferID();
  }

  // Convert text to UTF-8 when the file declares another character set.
  // Failure (an unknown charset) is not fatal: Utf8Trimmed replaces invalid bytes.
  OFString charset;
  if (ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).good() && !charset.empty() &&
      charset != "ISO_IR 192" && charset != "ISO_IR 6") {
    (void)ds->convertToUTF8();
  }

  in.patient_id = GetString(ds, DCM_PatientID);
  in.issuer_of_patient_id = GetString(ds, DCM_IssuerOfPatientID);
  in.patient_name = GetString(ds, DCM_PatientName);
  in.patient_birth_date = GetString(ds, DCM_PatientBirthDate);
  in.patient_sex = GetString(ds, DCM_PatientSex);
  in.study_instance_uid = GetString(ds, DCM_StudyInstanceUID);
  in.study_date = GetString(ds, DCM_StudyDate);
  in.study_time = GetString(ds, DCM_StudyTime);
  in.timezone_offset = GetString(ds, DCM_TimezoneOffsetFromUTC);
  in.accession_number = GetString(ds, DCM_AccessionNumber);
  in.study_description = GetString(ds, DCM_StudyDescription);
  in.series_instance_uid = GetString(ds, DCM_SeriesInstanceUID);
  in.modality = GetString(ds, DCM_Modality);
  in.series_number = GetInt(ds, DCM_SeriesNumber);
  in.series_description = GetString(ds, DCM_SeriesDescription);
  in.body_part_examined = GetString(ds, DCM_BodyPartExamined);
  in.sop_instance_uid = GetString(ds, DCM_SOPInstanceUID);
  in.sop_class_uid = GetString(ds, DCM_SOPClassUID);
  if (in.sop_class_uid.empty() && meta != nullptr) in.sop_class_uid = GetString(meta, DCM_MediaStorageSOPClassUID);
  in.instance_number = GetInt(ds, DCM_InstanceNumber);
  if (auto frames = GetInt(ds, DCM_NumberOfFrames); frames && *frames > 0) in.number_of_frames = *frames;
  Uint16 v = 0;
  if (ds->findAndGetUint16(DCM_Rows, v).good()) in.rows = v;
  if (ds->findAndGetUint16(DCM_Columns, v).good()) in.columns = v;
  in.has_pixel_data = ds->tagExists(DCM_PixelData) || ds->tagExists(DCM_FloatPixelData) ||
                      ds->tagExists(DCM_DoubleFloatPixelData);

  if (in.sop_instance_uid.empty() && meta != nullptr) in.sop_instance_uid = GetString(meta, DCM_MediaStorageSOPInstanceUID);
  if (in.sop_instance_uid.empty()) Reject(source, "missing SOPInstanceUID (0008,0018)");
  // A dataset may stop cleanly between two elements: DCMTK then reports
  // success. An image without its pixel data is what a cut-off file looks like.
  if (!in.has_pixel_data &&
      ((in.rows > 0 && in.columns > 0) || dcmIsImageStorageSOPClassUID(in.sop_class_uid.c_str()))) {
    Reject(source, "image without PixelData (7FE0,0010): truncated file");
  }
  for (const std::string* uid : {&in.study_instance_uid, &in.series_instance_uid, &in.sop_instance_uid}) {
    if (!uid->empty() && !IsDicomUid(*uid)) Reject(source, "malformed UID '" + uid->substr(0, 80) + "'");
  }
  // Without Study/Series Instance UID (some secondary captures) the instance
  // gets UIDs derived from its SOP Instance UID, so it can still be kept and
  // mapped (to a study of its own); uids_derived records that.
  if (in.study_instance_uid.empty()) {
    in.study_instance_uid = DerivedUid("study|" + in.sop_instance_uid);
    in.uids_derived = true;
  }
  if (in.series_instance_uid.empty()) {
    in.series_instance_uid = DerivedUid("series|" + in.sop_instance_uid);
    in.uids_derived = true;
  }
  return in;
}

// DCMTK accepts a dataset that simply stops between elements; a value or
// header cut off midway is an error. Both count as truncated here when the
// parse did not consume the whole input.
void CheckCondition(const OFCondition& cond, const std::string& source) {
  if (cond.bad()) Reject(source, std::string("DCMTK: ") + cond.text());
}

DicomInstance Load(const std::string& open_path, const std::string& source, uint64_t size) {
  DcmFileFormat file;
  // Values above DCM_MaxReadLength (pixel data) stay on disk: metadata only.
  // Reading from a file (not a DcmInputBufferStream) also makes DCMTK check
  // each declared value length against the bytes left, instead of
  // allocating whatever length a damaged header claims.
  OFCondition cond = file.loadFile(OFFilename(open_path.c_str()), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                   ERM_autoDetect);
  CheckCondition(cond, source);
  return Extract(file, source, size);
}

}  // namespace

DicomInstance ReadDicomFile(const std::filesystem::path& path) {
  InitDcmtk();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(ErrorCode::kNotFound, "cannot open " + path.string() + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(ErrorCode::kBadRequest, path.string() + ": not a regular file");
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(ErrorCode::kNotFound, "cannot open " + path.string() + ": " + ec.message());
  if (size == 0) Reject(path.string(), "empty file");
  return Load(path.string(), path.string(), size);
}

DicomInstance ReadDicomBuffer(std::string_view bytes) {
  InitDcmtk();
  const std::string source = "DICOM buffer";
  if (bytes.empty()) Reject(source, "empty input");
  // The bytes go into an anonymous in-memory file so they are parsed exactly
  // like a file on disk (see Load).
  int fd = ::memfd_create("haip-dicom", MFD_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::kInternal, std::string("memfd_create failed: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::kInternal, std::string("writing DICOM buffer to memfd failed: ") + std::strerror(errno));
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  return Load("/proc/self/fd/" + std::to_string(fd), source, bytes.size());
}

}  // namespace haip::lake::dicom
