// `haip synth`: generate a deterministic synthetic hospital as FHIR R4 NDJSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/progress.h"
#include "synth/generator.h"

namespace haip::cli {

namespace {

struct SynthCommandOptions {
  uint64_t patients = 0;
  uint64_t seed = 1;
  std::string out;
  int threads = 2;
};

void RunSynth(const SynthCommandOptions& opts) {
  synth::SynthOptions options;
  options.patients = opts.patients;
  options.seed = opts.seed;
  options.out_dir = opts.out;
  options.threads = opts.threads;

  synth::SynthStats stats;
  {
    ProgressBar bar("synth", opts.patients, "patients");
    uint64_t reported = 0;
    // Generate() calls back from one thread at a time, so `reported` needs
    // no synchronisation.
    stats = synth::Generate(options, [&](uint64_t done) {
      bar.Advance(done - reported);
      reported = done;
    });
    bar.Finish();
  }

  std::printf("Generated %llu patients (seed %llu) into %s in %.2f s\n",
              static_cast<unsigned long long>(stats.patients),
              static_cast<unsigned long long>(opts.seed), opts.out.c_str(), stats.seconds);
  for (std::string_view type : synth::kResourceTypes) {
    std::string name(type);
    std::printf("  %-26s %12llu\n", (name + ".ndjson").c_str(),
                static_cast<unsigned long long>(stats.resources_by_type[name]));
  }
  const double secs = stats.seconds > 0 ? stats.seconds : 1e-9;
  std::printf("  %-26s %12llu resources, %.1f MiB\n", "total",
              static_cast<unsigned long long>(stats.total_resources),
              static_cast<double>(stats.bytes) / (1024.0 * 1024.0));
  std::printf("  %-26s %12.0f resources/s, %.0f patients/s, %.1f MiB/s\n", "speed",
              static_cast<double>(stats.total_resources) / secs,
              static_cast<double>(stats.patients) / secs,
              static_cast<double>(stats.bytes) / (1024.0 * 1024.0) / secs);
  std::fflush(stdout);
}

}  // namespace

void RegisterSynthCommand(CLI::App& app) {
  auto opts = std::make_shared<SynthCommandOptions>();
  auto* cmd = app.add_subcommand(
      "synth", "Generate a synthetic Chinese general hospital as FHIR R4 NDJSON (demo data)");
  cmd->add_option("--patients", opts->patients, "Number of patients to generate")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", opts->seed,
                  "Random seed; the same seed and patient count give byte-identical output")
      ->capture_default_str();
  cmd->add_option("--out", opts->out,
                  "Output directory, created if missing; existing <Type>.ndjson files are replaced")
      ->required();
  cmd->add_option("--threads", opts->threads,
                  "Generator threads; the output does not depend on this")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->footer(
      "Writes one file per resource type: Organization, Location, Practitioner, Patient,\n"
      "Encounter, Condition, Observation, MedicationRequest, Procedure and DocumentReference\n"
      "(.ndjson, one JSON resource per line). Every reference resolves within the output.\n"
      "Diagnoses use ICD-10, labs and vital signs LOINC with UCUM units, drugs ATC,\n"
      "procedures ICD-9-CM-3; clinical notes are Chinese plain text (base64) in\n"
      "DocumentReference. Memory use does not grow with --patients. See docs/synth.md.\n\n"
      "Example:\n  haip synth --patients 10000 --seed 42 --out ./demo-fhir");
  cmd->callback([opts] { RunSynth(*opts); });
}

}  // namespace haip::cli
