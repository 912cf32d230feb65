// `haip export`: the lake to NDJSON, identified or de-identified.
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/progress.h"
#include "lake/export/export.h"
#include "platform/platform.h"

namespace haip::cli {

void RegisterExportCommand(CLI::App& app) {
  struct Options {
    std::string out, types, since, purpose = "unspecified (CLI)";
    bool deid = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("export", "Export the lake as FHIR NDJSON (one file per type), optionally de-identified");
  cmd->add_option("--out", o->out, "Output folder")->required();
  cmd->add_flag("--deid", o->deid, "De-identify with the haip-safe-harbor-cn profile (see docs/deid.md)");
  cmd->add_option("--type", o->types, "Comma-separated resource types (default: all)");
  cmd->add_option("--since", o->since, "Only resources changed at or after this ISO 8601 time");
  cmd->add_option("--purpose", o->purpose, "Why the data is exported; written to the audit log");
  cmd->callback([o] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    lake::ExportRequest req;
    req.deid = o->deid;
    req.purpose = o->purpose;
    size_t start = 0;
    while (start < o->types.size()) {
      size_t c = o->types.find(',', start);
      std::string t = o->types.substr(start, c == std::string::npos ? std::string::npos : c - start);
      if (!t.empty()) req.types.push_back(t);
      if (c == std::string::npos) break;
      start = c + 1;
    }
    if (!o->since.empty()) req.since = clock::ParseIso8601(o->since);
    std::unique_ptr<lake::deid::Deidentifier> deid;
    if (req.deid) deid = std::make_unique<lake::deid::Deidentifier>(lake::deid::LoadOrCreateKey(platform->DeidKeyPath()));
    ProgressBar bar(req.deid ? "exporting (de-identified)" : "exporting", static_cast<uint64_t>(platform->fhir().Count()), "resources");
    uint64_t last = 0;
    auto result = lake::RunExport(platform->db(), req, o->out, deid.get(), [&](uint64_t n) {
      bar.Advance(n - last);
      last = n;
      return true;
    });
    bar.Finish();
    Json detail = {{"out", o->out}, {"deid", req.deid}, {"purpose", req.purpose}, {"types", Json::object()}};
    uint64_t total = 0;
    for (const auto& out : result.outputs) {
      std::cout << out.type << ": " << out.count << " -> " << o->out << "/" << out.file << "\n";
      detail["types"][out.type] = out.count;
      total += out.count;
    }
    if (req.deid) detail["profile"] = result.deid_profile.value("label", std::string());
    platform->audit().AppendSync(CliAuditRecord("lake.export", detail.dump()));
    std::cout << "exported " << total << " resources" << (req.deid ? " (de-identified, profile " + result.deid_profile.value("label", std::string()) + ")" : "") << "\n";
  });
}

}  // namespace haip::cli
