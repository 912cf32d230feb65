// Throughput of `haip synth`: generates a fixed number of patients into a
// temporary directory and appends one JSON line per figure to the results
// file. Reports the median of --repeat runs to damp disk and scheduler noise.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "synth/generator.h"

namespace {

struct Args {
  uint64_t patients = 20000;
  int threads = 2;
  uint64_t seed = 1;
  int repeat = 3;
  std::string out = "bench/results/synth.jsonl";
  std::string dir;
};

[[noreturn]] void Usage(const char* argv0) {
  std::fprintf(
      stderr,
      "usage: %s [--patients N] [--threads T] [--seed S] [--repeat R] [--out FILE] [--dir DIR]\n"
      "  --out   JSON lines results file (default bench/results/synth.jsonl)\n"
      "  --dir   scratch directory for the generated files (default: a temp dir)\n",
      argv0);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Usage(argv[0]);
    std::string v = argv[++i];
    if (k == "--patients") {
      a.patients = std::stoull(v);
    } else if (k == "--threads") {
      a.threads = std::stoi(v);
    } else if (k == "--seed") {
      a.seed = std::stoull(v);
    } else if (k == "--repeat") {
      a.repeat = std::max(1, std::stoi(v));
    } else if (k == "--out") {
      a.out = v;
    } else if (k == "--dir") {
      a.dir = v;
    } else {
      Usage(argv[0]);
    }
  }
  return a;
}

std::string Line(const Args& a, const char* metric, double value, const char* unit) {
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "{\"bench\":\"synth\",\"system\":\"haip\",\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"%s\","
      "\"params\":{\"patients\":%llu,\"threads\":%d}}",
      metric, value, unit, static_cast<unsigned long long>(a.patients), a.threads);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  std::filesystem::path dir = args.dir.empty()
                                  ? std::filesystem::temp_directory_path() /
                                        ("haip-bench-synth-" + std::to_string(::getpid()))
                                  : std::filesystem::path(args.dir);
  std::vector<haip::synth::SynthStats> runs;
  try {
    for (int r = 0; r < args.repeat; ++r) {
      std::filesystem::remove_all(dir);
      haip::synth::SynthOptions o;
      o.patients = args.patients;
      o.seed = args.seed;
      o.out_dir = dir;
      o.threads = args.threads;
      runs.push_back(haip::synth::Generate(o));
      const auto& s = runs.back();
      std::fprintf(stderr, "run %d: %llu resources, %.1f MiB in %.3f s (%.0f resources/s)\n", r + 1,
                   static_cast<unsigned long long>(s.total_resources), s.bytes / 1048576.0,
                   s.seconds, s.total_resources / s.seconds);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_synth: %s\n", e.what());
    std::filesystem::remove_all(dir);
    return 1;
  }
  std::filesystem::remove_all(dir);

  std::sort(runs.begin(), runs.end(),
            [](const auto& x, const auto& y) { return x.seconds < y.seconds; });
  const haip::synth::SynthStats& median = runs[runs.size() / 2];
  const double secs = median.seconds;
  std::vector<std::string> lines = {
      Line(args, "resources_per_s", median.total_resources / secs, "resources/s"),
      Line(args, "patients_per_s", median.patients / secs, "patients/s"),
      Line(args, "bytes_per_s", median.bytes / secs, "bytes/s"),
  };
  std::filesystem::path out(args.out);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  std::ofstream file(out, std::ios::trunc);
  for (const auto& l : lines) {
    file << l << '\n';
    std::printf("%s\n", l.c_str());
  }
  if (!file) {
    std::fprintf(stderr, "bench_synth: cannot write %s: %s\n", args.out.c_str(),
                 std::strerror(errno));
    return 1;
  }
  return 0;
}
