// Search latency of the lake beside PostgreSQL 15 holding the same NDJSON in a
// JSONB table with a GIN index: five typical queries, p50/p99 each, as JSON
// lines on stdout. Ingest speed and size are measured by run.sh.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/json.h"
#include "lake/fhir/store.h"
#include "storage/database.h"

using haip::Json;

namespace {

struct Query {
  std::string name;
  std::string type;
  std::function<haip::lake::SearchParams(int)> haip;
  std::function<std::string(int)> pg;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

void Row(const std::string& system, const std::string& metric, double value, const std::string& unit, const Json& params) {
  Json row = {{"bench", "lake"}, {"system", system}, {"metric", metric}, {"value", value}, {"unit", unit}, {"params", params}};
  std::printf("%s\n", row.dump().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string sqlite_path, pg_url;
  int patients = 0, iterations = 200;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--sqlite") sqlite_path = argv[i + 1];
    if (a == "--pg") pg_url = argv[i + 1];
    if (a == "--patients") patients = std::stoi(argv[i + 1]);
    if (a == "--seed") seed = std::stoull(argv[i + 1]);
    if (a == "--iterations") iterations = std::stoi(argv[i + 1]);
  }
  if (sqlite_path.empty() || patients <= 0) {
    std::fprintf(stderr, "usage: bench_lake --sqlite HAIP_DB --patients N --seed S [--pg URL] [--iterations K]\n");
    return 2;
  }
  haip::storage::DatabaseOptions o;
  o.sqlite_path = sqlite_path;
  auto db = haip::storage::Open(o);
  haip::lake::FhirStore store(*db);
  PGconn* pg = nullptr;
  if (!pg_url.empty()) {
    pg = PQconnectdb(pg_url.c_str());
    if (PQstatus(pg) != CONNECTION_OK) {
      std::fprintf(stderr, "bench_lake: cannot connect to PostgreSQL: %s\n", PQerrorMessage(pg));
      return 1;
    }
  }
  std::string s = std::to_string(seed);
  auto pid = [&](int k) { return "pat-" + s + "-" + std::to_string((k * 7919) % patients); };
  std::vector<Query> queries = {
      {"patient-observations", "Observation",
       [&](int k) { return haip::lake::SearchParams{{"patient", pid(k)}, {"_count", "100"}}; },
       [&](int k) {
         return "SELECT body FROM res WHERE body @> '{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient/" +
                pid(k) + "\"}}' LIMIT 100";
       }},
      {"code-hba1c", "Observation",
       [](int) { return haip::lake::SearchParams{{"code", "http://loinc.org|4548-4"}, {"_count", "50"}}; },
       [](int) {
         return std::string("SELECT body FROM res WHERE body @> '{\"resourceType\":\"Observation\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"4548-4\"}]}}' LIMIT 50");
       }},
      {"hba1c-above-8", "Observation",
       [](int) { return haip::lake::SearchParams{{"code", "http://loinc.org|4548-4"}, {"value-quantity", "gt8"}, {"_count", "50"}}; },
       [](int) {
         return std::string("SELECT body FROM res WHERE body @> '{\"resourceType\":\"Observation\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"4548-4\"}]}}' "
                            "AND (body->'valueQuantity'->>'value')::float > 8 LIMIT 50");
       }},
      {"encounters-in-a-month", "Encounter",
       [](int) { return haip::lake::SearchParams{{"date", "ge2024-03-01"}, {"date", "lt2024-04-01"}, {"_count", "50"}}; },
       [](int) {
         return std::string("SELECT body FROM res WHERE body @> '{\"resourceType\":\"Encounter\"}' AND body->'period'->>'start' >= '2024-03-01' "
                            "AND body->'period'->>'start' < '2024-04-01' LIMIT 50");
       }},
      {"patient-by-name", "Patient",
       [](int k) {
         static const char* surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵"};
         return haip::lake::SearchParams{{"family", surnames[k % 8]}, {"_count", "20"}};
       },
       [](int k) {
         static const char* surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵"};
         return std::string("SELECT body FROM res WHERE body @> '{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"") + surnames[k % 8] + "\"}]}' LIMIT 20";
       }},
  };
  for (const auto& q : queries) {
    std::vector<double> haip_ms, pg_ms;
    for (int k = 0; k < iterations; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      Json bundle = store.Search(q.type, q.haip(k), "/fhir");
      if (!bundle.contains("entry")) std::fprintf(stderr, "bench_lake: no entries\n");
      auto t1 = std::chrono::steady_clock::now();
      haip_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      if (pg) {
        auto p0 = std::chrono::steady_clock::now();
        PGresult* r = PQexec(pg, q.pg(k).c_str());
        // Parse the rows as HAIP does, so both return usable resources.
        size_t parsed = 0;
        for (int row = 0; row < PQntuples(r); ++row) parsed += Json::parse(PQgetvalue(r, row, 0)).size();
        if (parsed == 0 && PQntuples(r) > 0) std::fprintf(stderr, "bench_lake: empty rows\n");
        auto p1 = std::chrono::steady_clock::now();
        if (PQresultStatus(r) != PGRES_TUPLES_OK) std::fprintf(stderr, "bench_lake: %s\n", PQresultErrorMessage(r));
        PQclear(r);
        pg_ms.push_back(std::chrono::duration<double, std::milli>(p1 - p0).count());
      }
    }
    Json params = {{"query", q.name}, {"patients", patients}, {"iterations", iterations}};
    Row("haip", "search_p50_ms", Percentile(haip_ms, 0.5), "ms", params);
    Row("haip", "search_p99_ms", Percentile(haip_ms, 0.99), "ms", params);
    if (pg) {
      Row("postgresql", "search_p50_ms", Percentile(pg_ms, 0.5), "ms", params);
      Row("postgresql", "search_p99_ms", Percentile(pg_ms, 0.99), "ms", params);
    }
  }
  if (pg) PQfinish(pg);
  return 0;
}
