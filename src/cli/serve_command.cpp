// `haip serve`: the platform's server.
#include <iostream>

#include "api/app.h"
#include "api/server.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/version.h"
#include "core/json.h"
#include "lake/hl7v2/ack.h"
#include "lake/hl7v2/mllp.h"
#include "platform/platform.h"

namespace haip::cli {

void RegisterServeCommand(CLI::App& app) {
  struct Options {
    std::string listen, web_root, tls_cert, tls_key;
    int threads = -1;
    int mllp_port = -1;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("serve", "Run the HAIP server (REST API, console, metrics)");
  cmd->add_option("--listen", opts->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  cmd->add_option("--threads", opts->threads, "HTTP worker threads (default: one per core)");
  cmd->add_option("--web-root", opts->web_root, "Directory of the built console (default: web/dist next to the binary)");
  cmd->add_option("--tls-cert", opts->tls_cert, "PEM certificate chain; enables HTTPS with --tls-key");
  cmd->add_option("--tls-key", opts->tls_key, "PEM private key");
  cmd->add_option("--mllp-port", opts->mllp_port, "Also listen for HL7 v2 over MLLP on this port (0: off)");
  cmd->callback([opts] {
    std::vector<std::pair<std::string, std::string>> flags;
    if (!opts->listen.empty()) flags.emplace_back("server.listen", opts->listen);
    if (opts->threads >= 0) flags.emplace_back("server.threads", std::to_string(opts->threads));
    if (!opts->web_root.empty()) flags.emplace_back("server.web_root", opts->web_root);
    if (!opts->tls_cert.empty()) flags.emplace_back("tls.cert_file", opts->tls_cert);
    if (!opts->tls_key.empty()) flags.emplace_back("tls.key_file", opts->tls_key);
    if (opts->mllp_port >= 0) flags.emplace_back("mllp.port", std::to_string(opts->mllp_port));
    Config config = LoadConfig(flags);
    spdlog::info("HAIP {} ({}) starting; data directory {}", Version(), GitCommit(), config.DataDir());
    auto platform = Platform::Open(config);
    if (auto generated = platform->BootstrapAdmin()) {
      // Shown once, on the terminal only; it is never logged or stored.
      std::cout << "\n  First start: created administrator 'admin' with password\n\n      " << *generated
                << "\n\n  Sign in and change it (Users page or PATCH /api/users/admin).\n\n"
                << std::flush;
    }
    platform->exports();  // resumes export jobs a previous run left queued or running
    api::App http_app(*platform);
    api::ServerOptions so;
    so.listen = config.GetString("server.listen");
    so.threads = static_cast<int>(config.GetInt("server.threads"));
    so.max_body_bytes = static_cast<size_t>(config.GetInt("server.max_body_bytes"));
    so.max_header_bytes = static_cast<size_t>(config.GetInt("server.max_header_bytes"));
    so.read_timeout_s = static_cast<int>(config.GetDurationSeconds("server.read_timeout"));
    so.idle_timeout_s = static_cast<int>(config.GetDurationSeconds("server.idle_timeout"));
    so.shutdown_timeout_s = static_cast<int>(config.GetDurationSeconds("server.shutdown_timeout"));
    so.tls_cert_file = config.GetString("tls.cert_file");
    so.tls_key_file = config.GetString("tls.key_file");
    api::HttpServer server(http_app, so);
    server.Bind();

    // HL7 v2 over MLLP: each message is stored whole or not at all, audited,
    // and answered with its ACK only after that.
    std::unique_ptr<lake::hl7v2::MllpServer> mllp;
    if (int64_t port = config.GetInt("mllp.port"); port > 0) {
      lake::hl7v2::MllpServerOptions mo;
      mo.max_message_size = static_cast<size_t>(config.GetInt("mllp.max_message_bytes"));
      Platform* p = platform.get();
      mllp = std::make_unique<lake::hl7v2::MllpServer>(
          [p](const std::string& raw) {
            auto o = p->hl7().Handle(raw);
            security::AuditRecord r;
            r.request_id = log::NewRequestId();
            r.username = "mllp";
            r.action = "lake.hl7v2";
            r.method = "MLLP";
            r.outcome = o.ack == lake::hl7v2::AckCode::kAA ? "success" : "error";
            r.patient = o.patient;
            r.detail = Json{{"message_type", o.message_type}, {"control_id", o.control_id},
                            {"ack", lake::hl7v2::AckCodeName(o.ack)}, {"resources", o.resources}, {"error", o.error}}
                           .dump();
            p->audit().AppendSync(std::move(r));
            return o.ack_message;
          },
          mo);
      uint16_t bound = mllp->Start(config.GetString("mllp.host"), static_cast<uint16_t>(port));
      spdlog::info("listening for HL7 v2 (MLLP) on {}:{}", config.GetString("mllp.host"), bound);
    }
    // An Orthanc PACS, followed through its /changes feed.
    std::unique_ptr<lake::OrthancFollower> orthanc;
    if (std::string url = config.GetString("orthanc.url"); !url.empty()) {
      lake::dicom::OrthancOptions oo;
      oo.base_url = url;
      oo.username = config.GetString("orthanc.username");
      oo.password = config.GetString("orthanc.password");
      orthanc = std::make_unique<lake::OrthancFollower>(platform->fhir(), platform->db(), oo);
      orthanc->Start(config.GetDurationSeconds("orthanc.poll_interval"));
      spdlog::info("following Orthanc at {}", url);
    }
    // Blob tiers: movement by age and access, and periodic checksum checks.
    lake::BlobMaintenance blob_upkeep(platform->blobs(), platform->BlobMaintenanceFromConfig());
    blob_upkeep.Start();
    server.Run();
    blob_upkeep.Stop();
    if (orthanc) orthanc->Stop();
    if (mllp) mllp->Stop();
  });
}

}  // namespace haip::cli
