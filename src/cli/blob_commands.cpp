// `haip blob`: the tiered blob store by hand: per-tier counts, a migration
// round with the configured policy, a checksum check of every blob.
#include <cstdio>

#include "cli/commands.h"
#include "platform/platform.h"

namespace haip::cli {

void RegisterBlobCommands(CLI::App& app) {
  auto* blob = app.add_subcommand("blob", "The tiered blob store (docs/blob-store.md)");
  blob->require_subcommand(1);
  blob->add_subcommand("stats", "Blobs and bytes per tier")->callback([] {
    auto platform = Platform::Open(LoadConfig());
    for (auto tier : lake::kBlobTiers) {
      auto s = platform->blobs().Stats(tier);
      std::printf("%-5s %10llu blobs %16llu bytes  %s\n", std::string(lake::BlobTierName(tier)).c_str(),
                  static_cast<unsigned long long>(s.count), static_cast<unsigned long long>(s.bytes),
                  platform->blobs().TierDir(tier).c_str());
    }
  });
  blob->add_subcommand("migrate", "Move blobs between tiers now, by the blob.* policy")->callback([] {
    auto platform = Platform::Open(LoadConfig());
    lake::BlobMaintenance m(platform->blobs(), platform->BlobMaintenanceFromConfig());
    auto r = m.MigrateOnce();
    std::printf("hot->warm %llu, warm->cold %llu, promoted to hot %llu, %llu bytes moved, %zu errors\n",
                static_cast<unsigned long long>(r.hot_to_warm), static_cast<unsigned long long>(r.warm_to_cold),
                static_cast<unsigned long long>(r.promoted), static_cast<unsigned long long>(r.bytes_moved),
                r.errors.size());
    for (const auto& e : r.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    platform->audit().AppendSync(CliAuditRecord(
        "blob.migrate", Json{{"hot_to_warm", r.hot_to_warm}, {"warm_to_cold", r.warm_to_cold}, {"promoted", r.promoted}}.dump()));
    if (!r.errors.empty()) throw Error(ErrorCode::kInternal, std::to_string(r.errors.size()) + " blobs could not be moved");
  });
  blob->add_subcommand("verify", "Re-check every blob's checksum; exits non-zero on corruption")->callback([] {
    auto platform = Platform::Open(LoadConfig());
    lake::BlobMaintenance m(platform->blobs(), platform->BlobMaintenanceFromConfig());
    auto r = m.VerifyOnce();
    std::printf("%llu blobs, %llu bytes checked, %zu corrupt\n", static_cast<unsigned long long>(r.checked),
                static_cast<unsigned long long>(r.bytes), r.corrupt.size());
    for (const auto& c : r.corrupt) std::printf("corrupt: %s\n", c.c_str());
    platform->audit().AppendSync(
        CliAuditRecord("blob.verify", Json{{"checked", r.checked}, {"corrupt", r.corrupt.size()}}.dump()));
    if (!r.corrupt.empty()) throw Error(ErrorCode::kInternal, std::to_string(r.corrupt.size()) + " corrupt blobs");
  });
}

}  // namespace haip::cli
