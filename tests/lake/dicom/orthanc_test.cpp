// Integration test against a real Orthanc (Debian's `orthanc` package),
// started here on loopback with a throwaway configuration.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "core/error.h"
#include "lake/dicom/dicom.h"
#include "lake/dicom/orthanc_connector.h"
#include "lake/sources/sources.h"
#include "storage/migrations.h"
#include "testing/temp_platform.h"
#include "test_data.h"

namespace fs = std::filesystem;
using haip::Error;
using haip::ErrorCode;
using haip::Json;
using namespace haip::lake::dicom;
namespace td = haip::lake::dicom::testdata;

namespace {

constexpr const char* kOrthancBinary = "/usr/sbin/Orthanc";
constexpr const char* kPluginDir = "/usr/share/orthanc/plugins";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool HasDicomWebPlugin() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kPluginDir, ec)) {
    if (e.path().filename().string().find("DicomWeb") != std::string::npos) return true;
  }
  return false;
}

// Runs Orthanc for the lifetime of the object; stopped (SIGTERM, then SIGKILL) on destruction.
class OrthancProcess {
 public:
  OrthancProcess() {
    dir_ = fs::temp_directory_path() / ("haip-orthanc-" + haip::crypto::HexEncode(haip::crypto::RandomBytes(6)));
    fs::create_directories(dir_);
    port_ = FreePort();
    Json config = {{"Name", "haip-test"},
                   {"HttpPort", port_},
                   {"DicomServerEnabled", false},
                   {"StorageDirectory", (dir_ / "storage").string()},
                   {"IndexDirectory", (dir_ / "index").string()},
                   {"RemoteAccessAllowed", false},
                   {"AuthenticationEnabled", false},
                   {"StableAge", 1},
                   {"Plugins", Json::array()}};
    if (HasDicomWebPlugin()) {
      config["Plugins"].push_back(kPluginDir);
      config["DicomWeb"] = {{"Enable", true}, {"Root", "/dicom-web/"}};
    }
    fs::path config_path = dir_ / "orthanc.json";
    std::ofstream(config_path) << config.dump(2);
    fs::path log_path = dir_ / "orthanc.log";

    std::string bin = kOrthancBinary;
    std::string cfg = config_path.string();
    std::string log = log_path.string();
    char* argv[] = {bin.data(), cfg.data(), nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls here. Orthanc dies with the test, even
      // if the test is killed before its destructor runs.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      ::execv(argv[0], argv);
      ::_exit(127);
    }
  }
  ~OrthancProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool started() const { return pid_ > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return td::ReadBytes(dir_ / "orthanc.log"); }

 private:
  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Whether Orthanc's REST API answers within about 10 seconds of starting.
bool AnswersWithin10s(OrthancClient& client) {
  for (int i = 0; i < 100; ++i) {
    try {
      if (client.Request("GET", "/system").status == 200) return true;
    } catch (const Error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST(OrthancConnector, RejectsBadUrls) {
  EXPECT_THROW(OrthancClient({.base_url = "https://pacs:8042"}), Error);
  EXPECT_THROW(OrthancClient({.base_url = "ftp://pacs"}), Error);
  EXPECT_THROW(OrthancClient({.base_url = "http://user:pw@pacs:8042"}), Error);
  EXPECT_NO_THROW(OrthancClient({.base_url = "http://[::1]:8042/orthanc/"}));
  // Nothing listens: kUnavailable, cursor untouched.
  OrthancConnector c({.base_url = "http://127.0.0.1:" + std::to_string(FreePort()), .timeout_seconds = 2});
  c.set_cursor(5);
  try {
    c.Poll();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  }
  EXPECT_EQ(c.cursor(), 5);
}

TEST(OrthancConnector, FindsUploadedStudies) {
  if (!fs::exists(kOrthancBinary)) GTEST_SKIP() << "orthanc binary not installed (" << kOrthancBinary << ")";
  HAIP_REQUIRE_DICOM_DATA();
  OrthancProcess orthanc;
  ASSERT_TRUE(orthanc.started());

  OrthancClient client({.base_url = orthanc.url(), .timeout_seconds = 10});
  ASSERT_TRUE(AnswersWithin10s(client)) << orthanc.log();

  // Upload every file; Orthanc 1.10 refuses some transfer syntaxes it does not know.
  std::set<std::string> expected_uids;
  std::map<std::string, std::set<std::string>> expected_sops;  // study -> SOP instance UIDs
  int rejected = 0;
  for (const auto& [name, row] : td::Manifest()) {
    std::string bytes = td::ReadBytes(td::DataDir() / name);
    HttpResponse res = client.Request("POST", "/instances", bytes, "application/dicom");
    if (res.status != 200) {
      ++rejected;
      continue;
    }
    DicomInstance in = ReadDicomFile(td::DataDir() / name);
    expected_uids.insert(in.study_instance_uid);
    expected_sops[in.study_instance_uid].insert(in.sop_instance_uid);
  }
  EXPECT_LE(rejected, 3);
  ASSERT_FALSE(expected_uids.empty());

  OrthancConnector connector({.base_url = orthanc.url(), .page_size = 7});
  std::map<std::string, Json> found;  // StudyInstanceUID -> ImagingStudy
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (found.size() < expected_uids.size() && std::chrono::steady_clock::now() < deadline) {
    for (Json& s : connector.Poll()) {
      const std::string uid = s["identifier"][0]["value"].get<std::string>().substr(8);
      found[uid] = std::move(s);
    }
    EXPECT_TRUE(connector.last_errors().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::set<std::string> found_uids;
  for (const auto& [uid, s] : found) found_uids.insert(uid);
  EXPECT_EQ(found_uids, expected_uids);
  EXPECT_GT(connector.cursor(), 0);

  const std::string dicomweb = orthanc.url() + "/dicom-web";
  for (const auto& [uid, s] : found) {
    SCOPED_TRACE(uid);
    EXPECT_EQ(s["id"], ImagingStudyId(uid));
    EXPECT_EQ(s["contained"][0]["address"], dicomweb);
    EXPECT_EQ(s["contained"][0]["connectionType"]["code"], "dicom-wado-rs");
    bool study_url = false;
    for (const auto& e : s["extension"]) study_url |= e.value("valueUrl", "") == dicomweb + "/studies/" + uid;
    EXPECT_TRUE(study_url);
    std::set<std::string> sops;
    for (const auto& series : s["series"]) {
      for (const auto& inst : series["instance"]) {
        sops.insert(inst["uid"]);
        EXPECT_EQ(inst["sopClass"]["code"].get<std::string>().rfind("urn:oid:1.2.840.10008.", 0), 0u);
      }
    }
    EXPECT_EQ(sops, expected_sops[uid]);
  }

  // The cursor resumes: nothing new since, so a fresh connector at the saved
  // cursor finds nothing, and one from 0 finds everything again.
  OrthancConnector resumed({.base_url = orthanc.url()});
  resumed.set_cursor(connector.cursor());
  EXPECT_TRUE(resumed.Poll().empty());
  EXPECT_TRUE(resumed.caught_up());
  OrthancConnector fresh({.base_url = orthanc.url(), .change_types = {"NewStudy"}});
  EXPECT_EQ(fresh.Poll().size(), expected_uids.size());
  EXPECT_FALSE(fresh.last_patients().empty());
}


// The follower the server runs: studies uploaded to Orthanc appear in the
// lake as ImagingStudy resources, and the feed position survives a restart.
TEST(OrthancFollower, LoadsNewStudiesIntoTheLakeAndResumes) {
  using haip::lake::FhirStore;
  using haip::lake::OrthancFollower;
  namespace storage = haip::storage;
  if (!fs::exists(kOrthancBinary)) GTEST_SKIP() << "orthanc binary not installed (" << kOrthancBinary << ")";
  HAIP_REQUIRE_DICOM_DATA();
  OrthancProcess orthanc;
  ASSERT_TRUE(orthanc.started());
  OrthancClient client({.base_url = orthanc.url(), .timeout_seconds = 10});
  ASSERT_TRUE(AnswersWithin10s(client)) << orthanc.log();
  std::set<std::string> uids;
  for (const char* name : {"CT_small.dcm", "MR_small.dcm", "liver.dcm", "emri_small.dcm"}) {
    if (!fs::exists(td::DataDir() / name)) continue;
    if (client.Request("POST", "/instances", td::ReadBytes(td::DataDir() / name), "application/dicom").status == 200) {
      uids.insert(ReadDicomFile(td::DataDir() / name).study_instance_uid);
    }
  }
  ASSERT_FALSE(uids.empty());

  haip::testing::TempDir dir;
  storage::DatabaseOptions o;
  o.sqlite_path = (dir.path() / "lake.db").string();
  auto db = storage::Open(o);
  storage::Migrate(*db, "lake.fhir", FhirStore::Migrations(db->dialect()));
  storage::Migrate(*db, "lake.feeds", OrthancFollower::Migrations());
  FhirStore store(*db);
  size_t written = 0;
  {
    OrthancFollower follower(store, *db, {.base_url = orthanc.url()});
    for (int i = 0; i < 60 && written < uids.size(); ++i) {
      written += follower.PollOnce();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  EXPECT_EQ(written, uids.size());
  for (const auto& uid : uids) {
    Json study = store.Read("ImagingStudy", ImagingStudyId(uid));
    EXPECT_EQ(study["identifier"][0]["value"], "urn:oid:" + uid);
    EXPECT_FALSE(store.PatientOf("ImagingStudy", ImagingStudyId(uid)).empty());
  }
  // A new follower (a restarted server) continues from the stored position.
  OrthancFollower again(store, *db, {.base_url = orthanc.url()});
  EXPECT_EQ(again.PollOnce(), 0u);
}
