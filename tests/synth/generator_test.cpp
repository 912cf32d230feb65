// Tests of Generate() as a whole: determinism, statistics, errors, progress.
#include "synth/generator.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_util.h"

namespace haip::synth {
namespace {

using testing::ReadFile;
using testing::TempDir;

SynthStats RunSynth(const std::filesystem::path& dir, uint64_t patients, uint64_t seed,
                    int threads) {
  SynthOptions o;
  o.patients = patients;
  o.seed = seed;
  o.out_dir = dir;
  o.threads = threads;
  return Generate(o);
}

void ExpectIdenticalOutputs(const std::filesystem::path& a, const std::filesystem::path& b) {
  for (std::string_view type : kResourceTypes) {
    std::string name = std::string(type) + ".ndjson";
    std::string fa = ReadFile(a / name);
    std::string fb = ReadFile(b / name);
    EXPECT_FALSE(fa.empty()) << name;
    EXPECT_TRUE(fa == fb) << name << " differs";
  }
}

TEST(Generate, SameSeedGivesByteIdenticalOutputForAnyThreadCount) {
  TempDir a, b, c;
  // 600 patients span three chunks, so threads really interleave.
  RunSynth(a.path(), 600, 20240601, 1);
  RunSynth(b.path(), 600, 20240601, 2);
  RunSynth(c.path(), 600, 20240601, 3);
  ExpectIdenticalOutputs(a.path(), b.path());
  ExpectIdenticalOutputs(a.path(), c.path());
}

TEST(Generate, PatientsDependOnlyOnSeedAndIndex) {
  // A smaller run is a prefix of a larger one with the same seed: patient i
  // is derived from (seed, i) alone.
  TempDir small, large;
  RunSynth(small.path(), 50, 5, 2);
  RunSynth(large.path(), 300, 5, 2);
  for (std::string_view type : kResourceTypes) {
    std::string name = std::string(type) + ".ndjson";
    std::string s = ReadFile(small.path() / name);
    std::string l = ReadFile(large.path() / name);
    EXPECT_EQ(l.compare(0, s.size(), s), 0) << name;
  }
}

TEST(Generate, DifferentSeedsDiffer) {
  TempDir a, b;
  RunSynth(a.path(), 100, 1, 2);
  RunSynth(b.path(), 100, 2, 2);
  for (std::string_view type : {"Patient", "Observation", "DocumentReference", "Practitioner"}) {
    std::string name = std::string(type) + ".ndjson";
    EXPECT_NE(ReadFile(a.path() / name), ReadFile(b.path() / name)) << name;
  }
}

TEST(Generate, StatsMatchFiles) {
  TempDir dir;
  SynthStats stats = RunSynth(dir.path(), 120, 3, 2);
  EXPECT_EQ(stats.patients, 120u);
  uint64_t total = 0, bytes = 0;
  for (std::string_view type : kResourceTypes) {
    std::string name = std::string(type) + ".ndjson";
    std::ifstream in(dir.path() / name);
    uint64_t lines = 0;
    std::string line;
    while (std::getline(in, line)) ++lines;
    EXPECT_EQ(stats.resources_by_type.at(std::string(type)), lines) << name;
    total += lines;
    bytes += std::filesystem::file_size(dir.path() / name);
  }
  EXPECT_EQ(stats.resources_by_type.at("Patient"), 120u);
  EXPECT_EQ(stats.total_resources, total);
  EXPECT_EQ(stats.bytes, bytes);
  EXPECT_GT(stats.seconds, 0);
}

TEST(Generate, ReportsProgressInOrderUpToTheTotal) {
  TempDir dir;
  SynthOptions o;
  o.patients = 700;
  o.seed = 11;
  o.out_dir = dir.path();
  o.threads = 2;
  std::vector<uint64_t> calls;
  Generate(o, [&](uint64_t done) { calls.push_back(done); });
  ASSERT_FALSE(calls.empty());
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_GT(calls[i], calls[i - 1]);
  EXPECT_EQ(calls.back(), 700u);
}

TEST(Generate, CreatesMissingDirectoriesAndReplacesFiles) {
  TempDir dir;
  auto nested = dir.path() / "a" / "b";
  RunSynth(nested, 30, 1, 1);
  std::string first = ReadFile(nested / "Patient.ndjson");
  RunSynth(nested, 10, 1, 1);
  std::string second = ReadFile(nested / "Patient.ndjson");
  EXPECT_LT(second.size(), first.size());
  EXPECT_EQ(first.compare(0, second.size(), second), 0);
}

TEST(Generate, RejectsInvalidOptions) {
  TempDir dir;
  auto expect_bad_request = [](const SynthOptions& o) {
    try {
      Generate(o);
      ADD_FAILURE() << "expected haip::Error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kBadRequest) << e.what();
    }
  };
  SynthOptions o;
  o.out_dir = dir.path();
  o.patients = 0;
  expect_bad_request(o);
  o.patients = 10;
  o.threads = 0;
  expect_bad_request(o);
  o.threads = 2;
  o.out_dir.clear();
  expect_bad_request(o);
  o.patients = MaxPatients(1) + 1;
  o.seed = 1;
  o.out_dir = dir.path();
  expect_bad_request(o);
  // The output path exists as a regular file.
  std::ofstream(dir.path() / "file") << "x";
  o.patients = 10;
  o.out_dir = dir.path() / "file";
  expect_bad_request(o);
  o.out_dir = dir.path() / "file" / "sub";
  expect_bad_request(o);
}

}  // namespace
}  // namespace haip::synth
