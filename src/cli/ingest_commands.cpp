// `haip ingest fhir PATH...`: bulk-load FHIR NDJSON and Bundles into the lake.
#include <iostream>

#include "cli/commands.h"
#include "core/json.h"
#include "core/progress.h"
#include "platform/platform.h"

namespace haip::cli {

namespace {
void PrintReport(const lake::IngestReport& r) {
  std::cout << "files: " << r.files << " ingested, " << r.files_skipped << " already done\n"
            << "resources: " << r.written << " written, " << r.unchanged << " unchanged, " << r.rejected << " rejected\n";
  for (const auto& [type, n] : r.by_type) std::cout << "  " << type << ": " << n << "\n";
  uint64_t n = r.written + r.unchanged;
  if (r.seconds > 0) std::cout << "time: " << r.seconds << " s (" << static_cast<uint64_t>(n / r.seconds) << " resources/s)\n";
  for (const auto& e : r.errors) std::cerr << "rejected: " << e << "\n";
}
}  // namespace

void RegisterIngestCommands(CLI::App& app) {
  auto* ingest = app.add_subcommand("ingest", "Load clinical data into the lake");
  ingest->require_subcommand(1);

  auto paths = std::make_shared<std::vector<std::string>>();
  auto batch = std::make_shared<size_t>(500);
  auto* fhir = ingest->add_subcommand(
      "fhir", "Load FHIR R4 NDJSON or Bundle JSON files (or folders of them; .gz too). Resumable: run it again after "
              "an interruption. Exits 1 if anything was rejected.");
  fhir->add_option("paths", *paths, "Files or folders")->required();
  fhir->add_option("--batch", *batch, "NDJSON lines per transaction (default 500)");
  fhir->callback([paths, batch] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    auto files = lake::FhirIngest::ExpandPaths(*paths);
    ProgressBar bar("ingesting FHIR", 0, "resources");
    uint64_t last = 0;
    lake::IngestOptions options;
    options.batch_size = *batch;
    options.progress = [&](uint64_t n) {
      bar.Advance(n - last);
      last = n;
    };
    auto report = platform->fhir_ingest().IngestPaths(*paths, options);
    bar.Finish();
    platform->audit().AppendSync(CliAuditRecord(
        "lake.ingest", Json{{"files", report.files}, {"written", report.written}, {"unchanged", report.unchanged},
                            {"rejected", report.rejected}, {"paths", *paths}}
                           .dump()));
    PrintReport(report);
    if (report.rejected > 0) throw CLI::RuntimeError(1);
  });

  // HL7 v2 and DICOM share the shape of their summaries.
  auto print_source = [](const lake::SourceReport& r, const char* unit) {
    std::cout << unit << ": " << r.accepted << " accepted, " << r.rejected << " rejected; " << r.resources
              << " FHIR resources written\n";
    for (const auto& [k, n] : r.by_type) std::cout << "  " << k << ": " << n << "\n";
    for (const auto& e : r.errors) std::cerr << "rejected: " << e << "\n";
  };

  auto hl7_paths = std::make_shared<std::vector<std::string>>();
  auto* hl7 = ingest->add_subcommand("hl7v2", "Load HL7 v2 messages (ER7 files, several messages per file allowed; "
                                              "ADT, ORU, ORM, OML are mapped to FHIR). Exits 1 if any message got AE or AR.");
  hl7->add_option("paths", *hl7_paths, "Files or folders")->required();
  hl7->callback([hl7_paths, print_source] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    auto report = lake::IngestHl7Files(platform->hl7(), *hl7_paths);
    platform->audit().AppendSync(CliAuditRecord(
        "lake.hl7v2", Json{{"accepted", report.accepted}, {"rejected", report.rejected}, {"paths", *hl7_paths}}.dump()));
    print_source(report, "messages");
    if (report.rejected > 0) throw CLI::RuntimeError(1);
  });

  auto dicom_paths = std::make_shared<std::vector<std::string>>();
  auto* dcm = ingest->add_subcommand("dicom", "Load DICOM files: originals into the blob store, ImagingStudy resources "
                                              "into the lake. Exits 1 if any file was rejected.");
  dcm->add_option("paths", *dicom_paths, "Files or folders")->required();
  dcm->callback([dicom_paths, print_source] {
    Config config = LoadConfig();
    auto platform = Platform::Open(config);
    auto report = lake::IngestDicomFiles(platform->fhir(), platform->blobs(), *dicom_paths);
    platform->audit().AppendSync(CliAuditRecord(
        "lake.dicom", Json{{"instances", report.accepted}, {"rejected", report.rejected}, {"paths", *dicom_paths}}.dump()));
    print_source(report, "instances");
    if (report.rejected > 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace haip::cli
