#include "testing/error_code.h"
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "core/crypto.h"
#include "core/error.h"
#include "lake/blob/blob_store.h"
#include "lake/dicom/dicom.h"
#include "test_data.h"

namespace fs = std::filesystem;
using haip::Error;
using haip::ErrorCode;
using haip::Json;
using namespace haip::lake::dicom;
namespace td = haip::lake::dicom::testdata;

namespace {

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("haip-dicom-test-" + haip::crypto::HexEncode(haip::crypto::RandomBytes(6)))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Either a valid instance or Error(kBadRequest); anything else fails the test.
void ExpectReadOrBadRequest(std::string_view bytes, const std::string& what) {
  try {
    DicomInstance in = ReadDicomBuffer(bytes);
    EXPECT_FALSE(in.study_instance_uid.empty()) << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadRequest) << what << ": " << e.what();
  }
}

using haip::testing::CodeOf;

}  // namespace

TEST(DicomRead, EveryFileMatchesTheManifest) {
  HAIP_REQUIRE_DICOM_DATA();
  auto manifest = td::Manifest();
  ASSERT_EQ(manifest.size(), 30u);
  for (const auto& [name, row] : manifest) {
    SCOPED_TRACE(name);
    DicomInstance in;
    ASSERT_NO_THROW(in = ReadDicomFile(td::DataDir() / name));
    EXPECT_EQ(in.modality, row.at("modality"));
    EXPECT_EQ(std::to_string(in.number_of_frames), row.at("frames"));
    EXPECT_EQ(std::to_string(in.rows), row.at("rows"));
    EXPECT_EQ(std::to_string(in.columns), row.at("columns"));
    EXPECT_EQ(in.size_bytes, std::stoull(row.at("bytes")));
    EXPECT_TRUE(in.has_pixel_data);
    EXPECT_FALSE(in.sop_class_uid.empty());
    EXPECT_FALSE(in.series_instance_uid.empty());
    EXPECT_FALSE(in.sop_instance_uid.empty());
    if (row.at("part10_preamble") == "True") {
      EXPECT_TRUE(in.has_meta_header);
      EXPECT_EQ(in.transfer_syntax_uid, row.at("transfer_syntax_uid"));
    } else {
      // No meta header: the encoding DCMTK detected.
      EXPECT_FALSE(in.has_meta_header);
      EXPECT_EQ(in.transfer_syntax_uid, "1.2.840.10008.1.2");
    }
  }
}

TEST(DicomRead, CoversTenTransferSyntaxes) {
  HAIP_REQUIRE_DICOM_DATA();
  std::set<std::string> syntaxes;
  for (const auto& [name, row] : td::Manifest()) syntaxes.insert(ReadDicomFile(td::DataDir() / name).transfer_syntax_uid);
  EXPECT_GE(syntaxes.size(), 10u);
  for (const char* uid : {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5",
                          "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90",
                          "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.8.1"}) {
    EXPECT_TRUE(syntaxes.count(uid)) << uid;
  }
}

TEST(DicomRead, BufferAndFileAgree) {
  HAIP_REQUIRE_DICOM_DATA();
  for (const auto& [name, row] : td::Manifest()) {
    SCOPED_TRACE(name);
    DicomInstance a = ReadDicomFile(td::DataDir() / name);
    DicomInstance b = ReadDicomBuffer(td::ReadBytes(td::DataDir() / name));
    EXPECT_EQ(a.sop_instance_uid, b.sop_instance_uid);
    EXPECT_EQ(a.study_instance_uid, b.study_instance_uid);
    EXPECT_EQ(a.transfer_syntax_uid, b.transfer_syntax_uid);
    EXPECT_EQ(a.number_of_frames, b.number_of_frames);
    EXPECT_EQ(a.patient_name, b.patient_name);
  }
}

TEST(DicomRead, KnownAttributesOfOneFile) {
  HAIP_REQUIRE_DICOM_DATA();
  DicomInstance in = ReadDicomFile(td::DataDir() / "SC_rgb.dcm");
  EXPECT_EQ(in.patient_id, "ID1");
  EXPECT_EQ(in.patient_name, "Lestrade^G");
  EXPECT_EQ(in.patient_sex, "F");
  EXPECT_EQ(in.study_instance_uid, "1.2.826.0.1.3680043.8.498.12406831542731051035295345080039845114");
  EXPECT_EQ(in.study_date, "20170101");
  EXPECT_EQ(in.study_time, "120000");
  EXPECT_EQ(in.sop_class_uid, "1.2.840.10008.5.1.4.1.1.7");
  EXPECT_EQ(in.instance_number, 1);
}

TEST(DicomRead, GarbageIsRejected) {
  EXPECT_EQ(CodeOf([] { ReadDicomBuffer(""); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([] { ReadDicomBuffer("this is not a DICOM file, just text\n"); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([] { ReadDicomBuffer(std::string(128, '\0') + "DICM"); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([] { ReadDicomBuffer(std::string(4096, '\xff')); }), ErrorCode::kBadRequest);
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(rng() % 2048, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    ExpectReadOrBadRequest(bytes, "random #" + std::to_string(i));
  }
  TempDir dir;
  EXPECT_EQ(CodeOf([&] { ReadDicomFile(dir.path() / "missing.dcm"); }), ErrorCode::kNotFound);
  std::ofstream(dir.path() / "empty.dcm").close();
  EXPECT_EQ(CodeOf([&] { ReadDicomFile(dir.path() / "empty.dcm"); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([&] { ReadDicomFile(dir.path()); }), ErrorCode::kBadRequest);
}

TEST(DicomRead, TruncatedFilesAreRejected) {
  HAIP_REQUIRE_DICOM_DATA();
  TempDir dir;
  for (const char* name : {"SC_rgb.dcm", "emri_small_big_endian.dcm", "OT-PAL-8-face.dcm", "liver_deflate.dcm",
                           "MR2_J2KI.dcm", "gdcm-US-ALOKA-16.dcm"}) {
    SCOPED_TRACE(name);
    std::string bytes = td::ReadBytes(td::DataDir() / name);
    for (double frac : {0.001, 0.01, 0.05, 0.3, 0.9}) {
      const auto cut = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(bytes.size()) * frac));
      std::string part = bytes.substr(0, cut);
      SCOPED_TRACE(cut);
      EXPECT_EQ(CodeOf([&] { ReadDicomBuffer(part); }), ErrorCode::kBadRequest);
      fs::path f = dir.path() / "cut.dcm";
      std::ofstream(f, std::ios::binary | std::ios::trunc) << part;
      EXPECT_EQ(CodeOf([&] { ReadDicomFile(f); }), ErrorCode::kBadRequest);
    }
    // Cut inside the last element (the pixel data).
    std::string part = bytes.substr(0, bytes.size() - 1);
    EXPECT_EQ(CodeOf([&] { ReadDicomBuffer(part); }), ErrorCode::kBadRequest);
  }
}

TEST(DicomRead, MutatedFilesNeverCrash) {
  HAIP_REQUIRE_DICOM_DATA();
  std::mt19937 rng(7);
  for (const char* name : {"SC_rgb.dcm", "liver_expb.dcm", "OT-PAL-8-face.dcm", "emri_small_RLE.dcm"}) {
    std::string original = td::ReadBytes(td::DataDir() / name);
    for (int i = 0; i < 60; ++i) {
      std::string bytes = original.substr(0, std::min<size_t>(original.size(), 4096));
      for (int k = 0; k < 8; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      ExpectReadOrBadRequest(bytes, std::string(name) + " mutation " + std::to_string(i));
    }
  }
}

TEST(DicomText, DatesTimesAndNames) {
  DicomInstance in;
  in.study_instance_uid = "1.2.3";
  in.series_instance_uid = "1.2.3.4";
  in.sop_instance_uid = "1.2.3.4.5";
  in.study_date = "20240131";
  in.study_time = "093005.25";
  in.modality = "CT";
  Json s = BuildImagingStudy({in});
  EXPECT_EQ(s["started"], "2024-01-31");  // no zone: date only
  s = BuildImagingStudy({in}, {.default_timezone = "+08:00"});
  EXPECT_EQ(s["started"], "2024-01-31T09:30:05.25+08:00");
  in.timezone_offset = "-0500";
  s = BuildImagingStudy({in}, {.default_timezone = "+08:00"});
  EXPECT_EQ(s["started"], "2024-01-31T09:30:05.25-05:00");
  in.study_date = "2024";
  EXPECT_FALSE(BuildImagingStudy({in}).contains("started"));

  in.patient_id = "P001";
  in.patient_name = "Zhang^San=张^三";
  in.patient_sex = "M";
  in.patient_birth_date = "19800102";
  Json p = BuildPatient(in);
  EXPECT_EQ(p["id"], PatientIdFor(in));
  EXPECT_EQ(p["gender"], "male");
  EXPECT_EQ(p["birthDate"], "1980-01-02");
  EXPECT_EQ(p["identifier"][0]["value"], "P001");
  ASSERT_EQ(p["name"].size(), 2u);
  EXPECT_EQ(p["name"][0]["family"], "Zhang");
  EXPECT_EQ(p["name"][0]["text"], "San Zhang");
  EXPECT_EQ(p["name"][1]["text"], "张三");
  // Invalid UTF-8 never reaches JSON.
  in.patient_name = "Bad\xC3(name";
  EXPECT_NO_THROW(BuildPatient(in).dump());
}

TEST(ImagingStudy, IngestEveryFile) {
  HAIP_REQUIRE_DICOM_DATA();
  TempDir dir;
  haip::lake::BlobStore blobs(dir.path() / "blobs");
  auto manifest = td::Manifest();
  IngestResult r = IngestFiles({td::DataDir()}, blobs, {.dicomweb_root = "http://pacs.local/dicom-web/"});
  // README.md and manifest.csv are not DICOM: reported, not fatal.
  EXPECT_EQ(r.errors.size(), 2u);
  for (const auto& e : r.errors) {
    EXPECT_TRUE(e.find("README.md") != std::string::npos || e.find("manifest.csv") != std::string::npos) << e;
  }
  // The liver* and emri_small* families are one instance each in several
  // transfer syntaxes: same SOPInstanceUID, kept once.
  std::set<std::string> sop_uids;
  for (const auto& [name, row] : manifest) sop_uids.insert(ReadDicomFile(td::DataDir() / name).sop_instance_uid);
  ASSERT_EQ(r.instances.size(), sop_uids.size());
  EXPECT_EQ(r.duplicates.size(), manifest.size() - sop_uids.size());

  std::set<std::string> study_uids;
  size_t total_instances = 0;
  for (const auto& in : r.instances) study_uids.insert(in.study_instance_uid);
  ASSERT_EQ(r.studies.size(), study_uids.size());
  for (const Json& s : r.studies) {
    SCOPED_TRACE(s.dump().substr(0, 300));
    EXPECT_EQ(s["resourceType"], "ImagingStudy");
    EXPECT_EQ(s["status"], "available");
    const std::string uid_value = s["identifier"][0]["value"];
    ASSERT_EQ(uid_value.rfind("urn:oid:", 0), 0u);
    const std::string uid = uid_value.substr(8);
    EXPECT_EQ(s["identifier"][0]["system"], "urn:dicom:uid");
    EXPECT_EQ(s["id"], haip::crypto::Sha256Hex(uid));
    EXPECT_TRUE(study_uids.count(uid));
    EXPECT_EQ(s["subject"]["reference"].get<std::string>().rfind("Patient/", 0), 0u);
    ASSERT_FALSE(s["modality"].empty());
    for (const auto& m : s["modality"]) EXPECT_EQ(m["system"], kDcmSystem);
    EXPECT_EQ(s["endpoint"][0]["reference"], "#dicomweb");
    EXPECT_EQ(s["contained"][0]["resourceType"], "Endpoint");
    EXPECT_EQ(s["contained"][0]["connectionType"]["code"], "dicom-wado-rs");
    EXPECT_EQ(s["contained"][0]["address"], "http://pacs.local/dicom-web");
    EXPECT_EQ(s["extension"][0]["valueUrl"], "http://pacs.local/dicom-web/studies/" + uid);
    EXPECT_EQ(s["numberOfSeries"], s["series"].size());
    size_t n = 0;
    for (const auto& series : s["series"]) {
      EXPECT_FALSE(series["uid"].get<std::string>().empty());
      EXPECT_EQ(series["modality"]["system"], kDcmSystem);
      EXPECT_EQ(series["numberOfInstances"], series["instance"].size());
      for (const auto& inst : series["instance"]) {
        EXPECT_EQ(inst["sopClass"]["system"], "urn:ietf:rfc:3986");
        EXPECT_EQ(inst["sopClass"]["code"].get<std::string>().rfind("urn:oid:1.2.840.10008.", 0), 0u);
        const std::string key = inst["extension"][0]["valueString"];
        EXPECT_EQ(inst["extension"][0]["url"], kExtBlobKey);
        EXPECT_EQ(r.blob_keys.at(inst["uid"]), key);
        ++n;
      }
    }
    EXPECT_EQ(s["numberOfInstances"], n);
    total_instances += n;
  }
  EXPECT_EQ(total_instances, sop_uids.size());

  // The blob store holds every original file unchanged.
  for (const auto& in : r.instances) {
    bool matched = false;
    for (const auto& [name, row] : manifest) matched |= row.at("sha256") == in.blob_key;
    EXPECT_TRUE(matched) << in.sop_instance_uid;
  }
  const auto& any = manifest.begin()->second;
  EXPECT_EQ(haip::crypto::Sha256Hex(blobs.Get(any.at("sha256"))), any.at("sha256"));

  // Patients: one per derived id, each study's subject among them.
  std::set<std::string> patient_refs;
  for (const auto& p : r.patients) patient_refs.insert("Patient/" + p["id"].get<std::string>());
  for (const auto& s : r.studies) EXPECT_TRUE(patient_refs.count(s["subject"]["reference"]));

  // Re-ingesting is deterministic.
  IngestResult again = IngestFiles({td::DataDir()}, blobs, {.dicomweb_root = "http://pacs.local/dicom-web/"});
  ASSERT_EQ(again.studies.size(), r.studies.size());
  for (size_t i = 0; i < r.studies.size(); ++i) EXPECT_EQ(again.studies[i], r.studies[i]);
  EXPECT_EQ(blobs.Stats(haip::lake::BlobTier::kHot).count, sop_uids.size());
}

TEST(ImagingStudy, MultiFrameAndModalityDetails) {
  HAIP_REQUIRE_DICOM_DATA();
  DicomInstance in = ReadDicomFile(td::DataDir() / "emri_small_jpeg_ls_lossless.dcm");
  in.blob_key = std::string(64, 'a');
  Json s = BuildImagingStudy({in}, {.patient_reference = "Patient/p1"});
  EXPECT_EQ(s["subject"]["reference"], "Patient/p1");
  EXPECT_FALSE(s.contains("endpoint"));
  const Json& inst = s["series"][0]["instance"][0];
  bool frames = false;
  bool syntax = false;
  for (const auto& e : inst["extension"]) {
    if (e["url"] == kExtNumberOfFrames) frames = e["valuePositiveInt"] == 10;
    if (e["url"] == kExtTransferSyntax) syntax = e["valueOid"] == "urn:oid:1.2.840.10008.1.2.4.80";
  }
  EXPECT_TRUE(frames);
  EXPECT_TRUE(syntax);
  EXPECT_EQ(s["modality"][0]["code"], "MR");

  // HTJ2K_08_RGB.dcm has neither Modality nor Study/Series Instance UIDs:
  // modality OT (FHIR requires one), UIDs derived from the SOP Instance UID.
  DicomInstance none = ReadDicomFile(td::DataDir() / "HTJ2K_08_RGB.dcm");
  EXPECT_TRUE(none.uids_derived);
  EXPECT_EQ(none.study_instance_uid.rfind("2.25.", 0), 0u);
  EXPECT_LE(none.study_instance_uid.size(), 64u);
  EXPECT_EQ(ReadDicomFile(td::DataDir() / "HTJ2K_08_RGB.dcm").study_instance_uid, none.study_instance_uid);
  Json derived = BuildImagingStudy({none});
  EXPECT_EQ(derived["series"][0]["modality"]["code"], "OT");
  EXPECT_TRUE(derived.contains("note"));
  EXPECT_FALSE(s.contains("note"));
}

TEST(ImagingStudy, GroupsSortsAndDedupes) {
  auto make = [](std::string study, std::string series, std::string sop, int series_no, int inst_no) {
    DicomInstance in;
    in.study_instance_uid = std::move(study);
    in.series_instance_uid = std::move(series);
    in.sop_instance_uid = std::move(sop);
    in.series_number = series_no;
    in.instance_number = inst_no;
    in.modality = series_no == 1 ? "CT" : "SR";
    in.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
    return in;
  };
  std::vector<DicomInstance> list = {make("1.1", "1.1.2", "1.1.2.1", 2, 1), make("1.1", "1.1.1", "1.1.1.2", 1, 2),
                                     make("1.1", "1.1.1", "1.1.1.1", 1, 1), make("1.1", "1.1.1", "1.1.1.1", 1, 1),
                                     make("2.2", "2.2.1", "2.2.1.1", 1, 1)};
  auto studies = BuildImagingStudies(list);
  ASSERT_EQ(studies.size(), 2u);
  const Json& s = studies[0];
  EXPECT_EQ(s["numberOfSeries"], 2);
  EXPECT_EQ(s["numberOfInstances"], 3);
  EXPECT_EQ(s["series"][0]["uid"], "1.1.1");
  EXPECT_EQ(s["series"][0]["instance"][0]["uid"], "1.1.1.1");
  EXPECT_EQ(s["series"][0]["instance"][1]["number"], 2);
  EXPECT_EQ(s["modality"].size(), 2u);
  EXPECT_EQ(CodeOf([&] { BuildImagingStudy(list); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([&] { BuildImagingStudy({}); }), ErrorCode::kBadRequest);
}
