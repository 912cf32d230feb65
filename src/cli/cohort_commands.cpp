// `haip cohort`: run criteria against the lake, show the SQL a database
// would run for them, and search the codes the lake holds.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cohort/criteria.h"
#include "cohort/service.h"
#include "cohort/sql.h"
#include "core/error.h"
#include "platform/platform.h"

namespace haip::cli {
namespace {

Json ReadCriteria(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::kNotFound, "cannot read " + path);
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded()) throw Error(ErrorCode::kBadRequest, path + ": not valid JSON");
  return j;
}

}  // namespace

void RegisterCohortCommands(CLI::App& app) {
  auto* cohort = app.add_subcommand("cohort", "Research cohorts: run criteria (see docs/cohort.md)");
  cohort->require_subcommand(1);

  struct RunOptions {
    std::string file;
    bool patients = false, json = false;
  };
  auto r = std::make_shared<RunOptions>();
  auto* run = cohort->add_subcommand("run", "Run cohort criteria against the lake: count, attrition, patients");
  run->add_option("criteria", r->file, "Criteria JSON file")->required();
  run->add_flag("--patients", r->patients, "List the cohort's patient ids (audited)");
  run->add_flag("--json", r->json, "Print the result as JSON");
  run->callback([r] {
    cohort::Criteria criteria = cohort::ParseCriteria(ReadCriteria(r->file));
    auto platform = Platform::Open(LoadConfig());
    auto result = platform->cohorts().Run(criteria, r->patients);
    Json detail = {{"criteria", r->file}, {"title", criteria.title}, {"count", result.count}, {"patients", r->patients}};
    platform->audit().AppendSync(CliAuditRecord("cohort.run", detail.dump()));
    if (r->json) {
      std::cout << cohort::ResultToJson(result, r->patients).dump(2) << "\n";
      return;
    }
    if (!criteria.title.empty()) std::cout << criteria.title << "\n";
    std::printf("%-60s %10s %12s\n", "step", "patients", "rule alone");
    for (const auto& a : result.attrition) {
      std::string name = (a.exclusion ? "exclude: " : "") + a.name;
      std::printf("%-60s %10lld %12lld\n", name.c_str(), static_cast<long long>(a.patients),
                  static_cast<long long>(a.passed_alone));
    }
    std::printf("cohort: %lld of %lld patients (%.2f ms)\n", static_cast<long long>(result.count),
                static_cast<long long>(result.patients_total), result.elapsed_ms);
    for (const auto& p : result.patients) std::cout << p << "\n";
  });

  struct SqlOptions {
    std::string file, dialect = "postgresql";
  };
  auto s = std::make_shared<SqlOptions>();
  auto* sql = cohort->add_subcommand("sql", "Print the OHDSI-style SQL for criteria over the flat tables (docs/cohort.md)");
  sql->add_option("criteria", s->file, "Criteria JSON file")->required();
  sql->add_option("--dialect", s->dialect, "postgresql or sqlite")->check(CLI::IsMember({"postgresql", "sqlite"}));
  sql->callback([s] {
    cohort::Criteria criteria = cohort::ParseCriteria(ReadCriteria(s->file));
    auto dialect = s->dialect == "sqlite" ? storage::Dialect::kSqlite : storage::Dialect::kPostgres;
    std::cout << "-- attrition\n" << cohort::AttritionSql(criteria, dialect) << ";\n\n-- patients\n"
              << cohort::PatientsSql(criteria, dialect) << ";\n";
  });

  struct CodeOptions {
    std::string text;
    size_t limit = 20;
  };
  auto c = std::make_shared<CodeOptions>();
  auto* codes = cohort->add_subcommand("codes", "Search the codes in the lake (code or display text) with patient counts");
  codes->add_option("text", c->text, "Part of a code or display, e.g. E11 or 糖尿病");
  codes->add_option("--limit", c->limit, "Most rows to print");
  codes->callback([c] {
    auto platform = Platform::Open(LoadConfig());
    platform->cohorts().CatchUp();
    for (const auto& hit : platform->cohorts().index().SearchConcepts(c->text, c->limit)) {
      std::printf("%-12s %-40s %-12s %8lld  %s\n", std::string(cohort::DomainName(hit.domain)).c_str(), hit.system.c_str(),
                  hit.code.c_str(), static_cast<long long>(hit.patients), hit.display.c_str());
    }
  });
}

}  // namespace haip::cli
