// `haip audit verify|export`.
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "core/progress.h"
#include "platform/platform.h"

namespace haip::cli {

void RegisterAuditCommands(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "Check and export the audit log");
  audit->require_subcommand(1);

  auto* verify = audit->add_subcommand(
      "verify", "Verify the hash chain; exits 0 when intact, 1 naming the first bad record otherwise");
  verify->callback([] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    int64_t total = platform->audit().Count();
    ProgressBar bar("verifying audit chain", static_cast<uint64_t>(total), "records");
    int64_t seen = 0;
    auto result = platform->audit().Verify([&](int64_t n) {
      bar.Advance(static_cast<uint64_t>(n - seen));
      seen = n;
    });
    bar.Finish();
    if (result.ok) {
      std::cout << "audit chain intact: " << result.records << " records, head " << result.head_hash << "\n";
      return;
    }
    std::cout << "audit chain BROKEN at record " << *result.first_bad_id << ": " << result.reason << "\n";
    std::cout << *result.first_bad_id << "\n";
    throw CLI::RuntimeError(1);
  });

  struct ExportOptions {
    std::string out, since, until;
  };
  auto opts = std::make_shared<ExportOptions>();
  auto* exp = audit->add_subcommand("export", "Write audit records as JSON lines (oldest first), ending with the chain head");
  exp->add_option("--out", opts->out, "Output file (default: standard output)");
  exp->add_option("--since", opts->since, "ISO 8601 time, inclusive");
  exp->add_option("--until", opts->until, "ISO 8601 time, exclusive");
  exp->callback([opts] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!opts->out.empty()) {
      file.open(opts->out, std::ios::trunc);
      if (!file) throw Error(ErrorCode::kUnavailable, "cannot write " + opts->out);
      out = &file;
    }
    security::AuditFilter f;
    f.ascending = true;
    f.limit = 5000;
    if (!opts->since.empty()) f.since = clock::ParseIso8601(opts->since);
    if (!opts->until.empty()) f.until = clock::ParseIso8601(opts->until);
    ProgressBar bar("exporting audit log", static_cast<uint64_t>(platform->audit().Count()), "records");
    int64_t written = 0;
    std::string last_hash;
    int64_t last_id = 0;
    for (;;) {
      f.after_id = last_id;
      auto records = platform->audit().Query(f);
      for (const auto& r : records) {
        *out << Json{{"id", r.id}, {"ts", clock::FormatIso8601(r.ts)}, {"request_id", r.request_id},
                     {"user_id", r.user_id ? Json(*r.user_id) : Json(nullptr)}, {"username", r.username},
                     {"roles", r.roles}, {"action", r.action}, {"method", r.method}, {"path", r.path},
                     {"status", r.status}, {"outcome", r.outcome}, {"patient", r.patient},
                     {"detail", r.detail}, {"prev_hash", r.prev_hash}, {"hash", r.hash}}
                    .dump(-1, ' ', false, Json::error_handler_t::replace)
             << "\n";
        last_hash = r.hash;
        last_id = r.id;
        ++written;
      }
      bar.Advance(records.size());
      if (records.size() < f.limit) break;
    }
    bar.Finish();
    platform->audit().AppendSync(CliAuditRecord(
        "audit.export", Json{{"records", written}, {"out", opts->out.empty() ? "stdout" : opts->out}}.dump()));
    std::cerr << "exported " << written << " records" << (last_hash.empty() ? "" : ", last hash " + last_hash) << "\n";
  });
}

}  // namespace haip::cli
