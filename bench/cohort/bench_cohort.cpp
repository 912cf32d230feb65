// The cohort benchmark's two halves (bench/cohort/run.sh drives them):
//   bench_cohort prepare --patients N --work DIR
//     generates `haip synth` patients in chunks, extracts the engine's facts
//     and writes them as tab-separated flat tables (person.tsv, <table>.tsv),
//     the same rows for HAIP, SQLite and PostgreSQL;
//   bench_cohort query --work DIR --criteria DIR --sqlite FILE [--postgres URL]
//     loads the rows into HAIP's index, runs every criteria file on HAIP and
//     the databases, checks the counts agree, and prints JSON lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "cohort/criteria.h"
#include "cohort/index.h"
#include "cohort/sql.h"
#include "storage/database.h"
#include "synth/generator.h"

namespace fs = std::filesystem;
using namespace haip;
using namespace haip::cohort;

namespace {

std::string Arg(int argc, char** argv, const char* name, const std::string& def = "") {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

int Prepare(uint64_t patients, const fs::path& work) {
  fs::create_directories(work);
  std::ofstream person(work / "person.tsv");
  std::map<Domain, std::ofstream> tables;
  for (int d = 0; d < kDomainCount; ++d) {
    tables[static_cast<Domain>(d)].open(work / (std::string(TableOf(static_cast<Domain>(d))) + ".tsv"));
  }
  std::unordered_map<std::string, int64_t> ids;
  auto id_of = [&](const std::string& p) { return ids.try_emplace(p, static_cast<int64_t>(ids.size()) + 1).first->second; };
  const uint64_t chunk = 50000;
  uint64_t done = 0, events = 0;
  for (uint64_t seed = 1000; done < patients; ++seed) {
    const uint64_t n = std::min(chunk, patients - done);
    fs::path dir = work / "chunk";
    fs::remove_all(dir);
    synth::SynthOptions o;
    o.patients = n;
    o.seed = seed;  // patient ids carry the seed, so chunks never collide
    o.out_dir = dir;
    synth::Generate(o);
    for (std::string_view type : kFactTypes) {
      std::ifstream in(dir / (std::string(type) + ".ndjson"));
      std::string line;
      while (std::getline(in, line)) {
        Facts f = ExtractFacts(Json::parse(line));
        if (f.person) {
          const Person& p = *f.person;
          person << id_of(p.id) << '\t' << p.id << '\t';
          if (p.has_birth) person << p.birth_day << '\t' << Ymd(p.birth_day);
          else person << "\\N\t\\N";
          person << '\t' << p.gender << '\n';
        }
        for (const auto& e : f.events) {
          auto& out = tables[e.domain];
          out << id_of(e.patient) << '\t' << e.system << '\t' << e.code << '\t' << e.day << '\t' << Ymd(e.day) << '\t';
          if (e.has_value()) {
            char buf[40];
            std::snprintf(buf, sizeof buf, "%.17g", e.value);
            out << buf;
          } else {
            out << "\\N";
          }
          out << '\t' << e.unit << '\t' << e.department << '\t' << e.department_name << '\n';
          ++events;
        }
      }
    }
    fs::remove_all(dir);
    done += n;
    std::fprintf(stderr, "bench/cohort: %llu / %llu patients, %llu events\n", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(patients), static_cast<unsigned long long>(events));
  }
  return 0;
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t t = line.find('\t', start);
    out.push_back(line.substr(start, t == std::string::npos ? std::string::npos : t - start));
    if (t == std::string::npos) return out;
    start = t + 1;
  }
}

void LoadIndex(CohortIndex& index, const fs::path& work) {
  std::unordered_map<int64_t, std::string> patient_of;
  std::ifstream person(work / "person.tsv");
  std::string line;
  while (std::getline(person, line)) {
    auto f = SplitTabs(line);
    Person p;
    p.id = f[1];
    p.has_birth = f[2] != "\\N";
    if (p.has_birth) p.birth_day = std::stoi(f[2]);
    p.gender = f[4];
    patient_of[std::stoll(f[0])] = p.id;
    index.AddPerson(p);
  }
  for (int d = 0; d < kDomainCount; ++d) {
    std::ifstream in(work / (std::string(TableOf(static_cast<Domain>(d))) + ".tsv"));
    std::vector<Event> batch;
    while (std::getline(in, line)) {
      auto f = SplitTabs(line);
      Event e;
      e.domain = static_cast<Domain>(d);
      auto it = patient_of.find(std::stoll(f[0]));
      e.patient = it == patient_of.end() ? "#" + f[0] : it->second;  // events of unknown patients stay unknown
      e.system = f[1];
      e.code = f[2];
      e.day = std::stoi(f[3]);
      if (f[5] != "\\N") e.value = std::stod(f[5]);
      e.unit = f[6];
      e.department = f[7];
      e.department_name = f[8];
      batch.push_back(std::move(e));
      if (batch.size() == 100000) {
        index.AddEvents(batch);
        batch.clear();
      }
    }
    index.AddEvents(batch);
  }
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void Row(const std::string& system, const std::string& metric, double value, const std::string& unit,
         const std::string& criteria, int64_t total) {
  std::printf(
      "{\"bench\":\"cohort\",\"system\":\"%s\",\"metric\":\"%s\",\"value\":%.4f,\"unit\":\"%s\",\"params\":{\"criteria\":"
      "\"%s\",\"patients_total\":%lld}}\n",
      system.c_str(), metric.c_str(), value, unit.c_str(), criteria.c_str(), static_cast<long long>(total));
  std::fflush(stdout);
}

int Query(const fs::path& work, const fs::path& criteria_dir, const std::string& sqlite_path, const std::string& pg_url,
          int iterations, int sql_iterations) {
  CohortIndex index;
  auto t0 = std::chrono::steady_clock::now();
  LoadIndex(index, work);
  auto stats = index.Stats();
  std::fprintf(stderr, "bench/cohort: HAIP index loaded in %.1f s: %lld patients, %lld events\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
               static_cast<long long>(stats.patients), static_cast<long long>(stats.events));
  std::vector<std::pair<std::string, std::unique_ptr<storage::Database>>> peers;
  storage::DatabaseOptions so;
  so.sqlite_path = sqlite_path;
  so.pool_size = 1;
  so.busy_timeout_ms = 600000;
  if (!sqlite_path.empty()) peers.emplace_back("sqlite", storage::Open(so));
  if (!pg_url.empty()) {
    storage::DatabaseOptions po;
    po.backend = "postgresql";
    po.postgres_url = pg_url;
    po.pool_size = 1;
    po.busy_timeout_ms = 600000;
    peers.emplace_back("postgresql", storage::Open(po));
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(criteria_dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  int mismatches = 0;
  for (const auto& file : files) {
    std::ifstream in(file);
    Criteria c = ParseCriteria(Json::parse(in));
    const std::string name = file.stem().string();
    std::vector<double> ms;
    CohortResult r;
    for (int i = 0; i < iterations; ++i) {
      r = index.Run(c, false);
      ms.push_back(r.elapsed_ms);
    }
    Row("haip", "latency_p50_ms", Percentile(ms, 0.5), "ms", name, r.patients_total);
    Row("haip", "latency_p99_ms", Percentile(ms, 0.99), "ms", name, r.patients_total);
    Row("haip", "patients", static_cast<double>(r.count), "patients", name, r.patients_total);
    for (auto& [system, db] : peers) {
      std::vector<double> sms;
      int64_t count = -1;
      for (int i = 0; i < sql_iterations; ++i) {
        auto s0 = std::chrono::steady_clock::now();
        auto res = db->Query(AttritionSql(c, db->dialect()), {});
        sms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count());
        count = res.rows.back()[1].AsInt();
      }
      Row(system, "latency_p50_ms", Percentile(sms, 0.5), "ms", name, r.patients_total);
      Row(system, "latency_p99_ms", Percentile(sms, 0.99), "ms", name, r.patients_total);
      Row(system, "patients", static_cast<double>(count), "patients", name, r.patients_total);
      if (count != r.count) {
        ++mismatches;
        std::fprintf(stderr, "bench/cohort: %s: %s counts %lld, HAIP %lld\n", name.c_str(), system.c_str(),
                     static_cast<long long>(count), static_cast<long long>(r.count));
      }
    }
  }
  return mismatches == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "prepare") {
      return Prepare(std::stoull(Arg(argc, argv, "--patients", "1000000")), Arg(argc, argv, "--work"));
    }
    if (mode == "query") {
      return Query(Arg(argc, argv, "--work"), Arg(argc, argv, "--criteria"), Arg(argc, argv, "--sqlite"),
                   Arg(argc, argv, "--postgres"), std::stoi(Arg(argc, argv, "--iterations", "21")),
                   std::stoi(Arg(argc, argv, "--sql-iterations", "3")));
    }
    std::fprintf(stderr, "usage: bench_cohort prepare|query ... (see bench/cohort/run.sh)\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cohort: %s\n", e.what());
    return 1;
  }
}
