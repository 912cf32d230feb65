#include "lake/blob/blob_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/metrics.h"

namespace fs = std::filesystem;

namespace haip::lake {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr int64_t kStaleTempMillis = 3600 * 1000;

[[noreturn]] void ThrowErrno(const std::string& what, const fs::path& path) {
  throw Error(ErrorCode::kInternal, "blob store: " + what + " " + path.string() + ": " + std::strerror(errno));
}

// Incremental SHA-256 (core/crypto.h hashes whole strings only).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
      throw Error(ErrorCode::kInternal, "blob store: SHA-256 init failed");
    }
  }
  void Update(const char* data, size_t n) {
    if (EVP_DigestUpdate(ctx_.get(), data, n) != 1) throw Error(ErrorCode::kInternal, "blob store: SHA-256 failed");
  }
  std::string HexDigest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1) throw Error(ErrorCode::kInternal, "blob store: SHA-256 failed");
    return crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

int64_t ToMillis(const struct timespec& ts) { return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000; }

struct timespec FromMillis(int64_t ms) {
  struct timespec ts {};
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000;
  return ts;
}

void FsyncDir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.ok()) ThrowErrno("open directory", dir);
  if (::fsync(fd.get()) != 0) ThrowErrno("fsync directory", dir);
}

// Creates `dir` and missing parents; fsyncs each parent that gained an entry.
void MakeDirs(const fs::path& dir, bool sync) {
  if (fs::is_directory(dir)) return;
  MakeDirs(dir.parent_path(), sync);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) ThrowErrno("mkdir", dir);
  if (sync) FsyncDir(dir.parent_path());
}

// Opens for reading without updating atime where the kernel allows it
// (O_NOATIME needs file ownership or CAP_FOWNER).
int OpenNoAtime(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd;
}

void WriteAll(int fd, const char* data, size_t n, const fs::path& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("write", path);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// Reads the whole file, feeding `sink` chunk by chunk; returns the SHA-256.
template <typename Sink>
std::string ReadHashing(int fd, const fs::path& path, Sink&& sink) {
  Sha256 sha;
  std::string buf(kChunk, '\0');
  for (;;) {
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("read", path);
    }
    if (r == 0) break;
    sha.Update(buf.data(), static_cast<size_t>(r));
    sink(buf.data(), static_cast<size_t>(r));
  }
  return sha.HexDigest();
}

void SetTimes(int fd, const struct timespec& atime, const struct timespec& mtime, const fs::path& path) {
  struct timespec times[2] = {atime, mtime};
  if (::futimens(fd, times) != 0) ThrowErrno("set times on", path);
}

// Marks an access: atime = now, mtime unchanged. Best effort: a read-only
// mount must not make reads fail.
void TouchAtime(const fs::path& path) {
  struct timespec times[2] = {FromMillis(clock::NowMillis()), {0, UTIME_OMIT}};
  ::utimensat(AT_FDCWD, path.c_str(), times, 0);
}

bool IsHex2(std::string_view s) {
  return s.size() == 2 && std::isxdigit(static_cast<unsigned char>(s[0])) &&
         std::isxdigit(static_cast<unsigned char>(s[1])) && !std::isupper(static_cast<unsigned char>(s[0])) &&
         !std::isupper(static_cast<unsigned char>(s[1]));
}

// Calls fn(key, path) for every blob file in a tier directory. Each leaf
// directory is listed before fn runs, so fn may move or delete files.
template <typename Fn>
void ForEachBlob(const fs::path& tier_dir, Fn&& fn) {
  std::error_code ec;
  std::vector<fs::path> level1;
  for (const auto& e : fs::directory_iterator(tier_dir, ec)) {
    if (e.is_directory() && IsHex2(e.path().filename().string())) level1.push_back(e.path());
  }
  for (const auto& d1 : level1) {
    std::vector<fs::path> level2;
    for (const auto& e : fs::directory_iterator(d1, ec)) {
      if (e.is_directory() && IsHex2(e.path().filename().string())) level2.push_back(e.path());
    }
    for (const auto& d2 : level2) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(d2, ec)) {
        if (BlobStore::IsValidKey(e.path().filename().string())) files.push_back(e.path());
      }
      for (const auto& f : files) fn(f.filename().string(), f);
    }
  }
}

void CheckKey(std::string_view key) {
  if (!BlobStore::IsValidKey(key)) {
    throw Error(ErrorCode::kBadRequest, "blob key must be 64 lowercase hex characters: '" +
                                            std::string(key.substr(0, 80)) + "'");
  }
}

}  // namespace

std::string_view BlobTierName(BlobTier tier) {
  switch (tier) {
    case BlobTier::kHot: return "hot";
    case BlobTier::kWarm: return "warm";
    case BlobTier::kCold: return "cold";
  }
  return "hot";
}

BlobTier ParseBlobTier(std::string_view name) {
  for (BlobTier t : kBlobTiers) {
    if (BlobTierName(t) == name) return t;
  }
  throw Error(ErrorCode::kBadRequest, "unknown blob tier '" + std::string(name) + "' (hot, warm, cold)");
}

bool BlobStore::IsValidKey(std::string_view key) {
  if (key.size() != 64) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

BlobStore::BlobStore(fs::path root, BlobStoreOptions options) : root_(std::move(root)), options_(std::move(options)) {
  dirs_[0] = options_.hot_dir.empty() ? root_ / "hot" : options_.hot_dir;
  dirs_[1] = options_.warm_dir.empty() ? root_ / "warm" : options_.warm_dir;
  dirs_[2] = options_.cold_dir.empty() ? root_ / "cold" : options_.cold_dir;
  for (const auto& d : dirs_) {
    std::error_code ec;
    fs::create_directories(d / "tmp", ec);
    if (ec) throw Error(ErrorCode::kInternal, "blob store: cannot create " + (d / "tmp").string() + ": " + ec.message());
  }
  Recount();
}

BlobStore::~BlobStore() = default;

const fs::path& BlobStore::TierDir(BlobTier tier) const { return dirs_[static_cast<size_t>(tier)]; }

fs::path BlobStore::PathFor(BlobTier tier, std::string_view key) const {
  return TierDir(tier) / std::string(key.substr(0, 2)) / std::string(key.substr(2, 2)) / std::string(key);
}

std::optional<BlobStore::Located> BlobStore::Locate(std::string_view key) const {
  for (BlobTier t : kBlobTiers) {
    fs::path p = PathFor(t, key);
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) return Located{t, std::move(p)};
  }
  return std::nullopt;
}

std::shared_mutex& BlobStore::LockFor(std::string_view key) const {
  size_t h = std::stoul(std::string(key.substr(0, 4)), nullptr, 16);
  return key_locks_[h % key_locks_.size()];
}

void BlobStore::AddStats(BlobTier tier, int64_t count, int64_t bytes) {
  std::lock_guard lock(stats_mu_);
  auto& s = stats_[static_cast<size_t>(tier)];
  s.count = static_cast<uint64_t>(static_cast<int64_t>(s.count) + count);
  s.bytes = static_cast<uint64_t>(static_cast<int64_t>(s.bytes) + bytes);
}

void BlobStore::Recount() {
  std::array<BlobTierStats, 3> fresh{};
  for (BlobTier t : kBlobTiers) {
    ForEachBlob(TierDir(t), [&](const std::string&, const fs::path& p) {
      struct stat st {};
      if (::stat(p.c_str(), &st) != 0) return;
      fresh[static_cast<size_t>(t)].count++;
      fresh[static_cast<size_t>(t)].bytes += static_cast<uint64_t>(st.st_size);
    });
  }
  std::lock_guard lock(stats_mu_);
  stats_ = fresh;
}

BlobTierStats BlobStore::Stats(BlobTier tier) const {
  std::lock_guard lock(stats_mu_);
  return stats_[static_cast<size_t>(tier)];
}

void BlobStore::RegisterMetrics(Metrics& metrics) {
  for (BlobTier t : kBlobTiers) {
    std::string name(BlobTierName(t));
    metrics.RegisterGauge("haip_blob_" + name + "_count", "Blobs in the " + name + " tier.",
                          [this, t] { return static_cast<double>(Stats(t).count); });
    metrics.RegisterGauge("haip_blob_" + name + "_bytes", "Bytes of blobs in the " + name + " tier.",
                          [this, t] { return static_cast<double>(Stats(t).bytes); });
  }
}

std::pair<fs::path, std::string> BlobStore::WriteTemp(std::istream& in, BlobTier tier, uint64_t* size) {
  fs::path temp = TierDir(tier) / "tmp" / ("put-" + crypto::HexEncode(crypto::RandomBytes(12)));
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.ok()) ThrowErrno("create", temp);
  try {
    Sha256 sha;
    std::string buf(kChunk, '\0');
    *size = 0;
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      auto n = static_cast<size_t>(in.gcount());
      if (n == 0) break;
      sha.Update(buf.data(), n);
      WriteAll(fd.get(), buf.data(), n, temp);
      *size += n;
    }
    if (in.bad()) throw Error(ErrorCode::kBadRequest, "blob store: reading the input stream failed");
    if (options_.fsync && ::fsync(fd.get()) != 0) ThrowErrno("fsync", temp);
    return {temp, sha.HexDigest()};
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
}

std::string BlobStore::Commit(const fs::path& temp, std::string key, BlobTier tier, uint64_t size) {
  std::unique_lock lock(LockFor(key));
  if (auto existing = Locate(key)) {
    ::unlink(temp.c_str());
    TouchAtime(existing->path);
    return key;
  }
  fs::path dest = PathFor(tier, key);
  try {
    MakeDirs(dest.parent_path(), options_.fsync);
    {
      Fd fd(::open(temp.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.ok()) ThrowErrno("open", temp);
      auto now = FromMillis(clock::NowMillis());
      SetTimes(fd.get(), now, now, temp);
    }
    if (::rename(temp.c_str(), dest.c_str()) != 0) ThrowErrno("rename into", dest);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  if (options_.fsync) FsyncDir(dest.parent_path());
  AddStats(tier, 1, static_cast<int64_t>(size));
  return key;
}

std::string BlobStore::Put(std::string_view bytes, BlobTier tier) {
  std::string key = crypto::Sha256Hex(bytes);
  {
    // Fast path for duplicates: no temporary file at all.
    std::shared_lock lock(LockFor(key));
    if (auto existing = Locate(key)) {
      TouchAtime(existing->path);
      return key;
    }
  }
  std::istringstream in{std::string(bytes)};
  uint64_t size = 0;
  auto [temp, k] = WriteTemp(in, tier, &size);
  return Commit(temp, std::move(k), tier, size);
}

std::string BlobStore::Put(std::istream& in, BlobTier tier) {
  uint64_t size = 0;
  auto [temp, key] = WriteTemp(in, tier, &size);
  return Commit(temp, std::move(key), tier, size);
}

std::string BlobStore::PutFile(const fs::path& file, BlobTier tier) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::kNotFound, "cannot open " + file.string());
  return Put(in, tier);
}

void BlobStore::GetTo(std::string_view key, std::ostream& out) {
  CheckKey(key);
  std::shared_lock lock(LockFor(key));
  // Two attempts: another process may move the blob between lookup and open.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto loc = Locate(key);
    if (!loc) continue;
    Fd fd(::open(loc->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.ok()) {
      if (errno == ENOENT) continue;
      ThrowErrno("open", loc->path);
    }
    std::string digest = ReadHashing(fd.get(), loc->path, [&](const char* d, size_t n) {
      out.write(d, static_cast<std::streamsize>(n));
    });
    if (digest != key) {
      throw Error(ErrorCode::kInternal, "blob " + std::string(key) + " is corrupt in the " +
                                            std::string(BlobTierName(loc->tier)) + " tier (content hashes to " +
                                            digest + ")");
    }
    TouchAtime(loc->path);
    return;
  }
  throw Error(ErrorCode::kNotFound, "blob " + std::string(key) + " not found");
}

std::string BlobStore::Get(std::string_view key) {
  std::ostringstream out;
  GetTo(key, out);
  return std::move(out).str();
}

bool BlobStore::Exists(std::string_view key) const {
  CheckKey(key);
  return Locate(key).has_value();
}

std::optional<BlobInfo> BlobStore::Info(std::string_view key) const {
  CheckKey(key);
  for (BlobTier t : kBlobTiers) {
    struct stat st {};
    if (::stat(PathFor(t, key).c_str(), &st) == 0) {
      return BlobInfo{.tier = t,
                      .size = static_cast<uint64_t>(st.st_size),
                      .tier_since_millis = ToMillis(st.st_mtim),
                      .last_access_millis = ToMillis(st.st_atim)};
    }
  }
  return std::nullopt;
}

bool BlobStore::Delete(std::string_view key) {
  CheckKey(key);
  std::unique_lock lock(LockFor(key));
  bool removed = false;
  for (BlobTier t : kBlobTiers) {
    fs::path p = PathFor(t, key);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) continue;
    if (::unlink(p.c_str()) != 0) {
      if (errno == ENOENT) continue;
      ThrowErrno("unlink", p);
    }
    if (options_.fsync) FsyncDir(p.parent_path());
    AddStats(t, -1, -static_cast<int64_t>(st.st_size));
    removed = true;
  }
  return removed;
}

void BlobStore::MoveLocked(std::string_view key, BlobTier from, BlobTier to, uint64_t size) {
  fs::path src = PathFor(from, key);
  fs::path dest = PathFor(to, key);
  Fd in(OpenNoAtime(src));
  if (!in.ok()) ThrowErrno("open", src);
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) ThrowErrno("stat", src);

  fs::path temp = TierDir(to) / "tmp" / ("move-" + crypto::HexEncode(crypto::RandomBytes(12)));
  Fd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.ok()) ThrowErrno("create", temp);
  try {
    std::string digest = ReadHashing(in.get(), src, [&](const char* d, size_t n) { WriteAll(out.get(), d, n, temp); });
    // Never spread a corrupt copy: the source stays where it is for Verify to report.
    if (digest != key) {
      throw Error(ErrorCode::kInternal, "blob " + std::string(key) + " is corrupt in the " +
                                            std::string(BlobTierName(from)) + " tier; not moved");
    }
    // Keeps the last access; mtime marks entry into the new tier.
    SetTimes(out.get(), st.st_atim, FromMillis(clock::NowMillis()), temp);
    if (options_.fsync && ::fsync(out.get()) != 0) ThrowErrno("fsync", temp);
    ::close(out.release());
    MakeDirs(dest.parent_path(), options_.fsync);
    if (::rename(temp.c_str(), dest.c_str()) != 0) ThrowErrno("rename into", dest);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  if (options_.fsync) FsyncDir(dest.parent_path());
  // From here the blob is readable in `to`; only now does the source go.
  if (::unlink(src.c_str()) != 0 && errno != ENOENT) ThrowErrno("unlink", src);
  if (options_.fsync) FsyncDir(src.parent_path());
  AddStats(from, -1, -static_cast<int64_t>(size));
  AddStats(to, 1, static_cast<int64_t>(size));
}

BlobMigrationReport BlobStore::Migrate(const BlobMigrationPolicy& policy) {
  std::lock_guard migrate_lock(migrate_mu_);
  BlobMigrationReport report;
  const int64_t now = policy.now_millis ? policy.now_millis : clock::NowMillis();

  for (BlobTier tier : kBlobTiers) {
    ForEachBlob(TierDir(tier), [&](const std::string& key, const fs::path& path) {
      try {
        std::unique_lock lock(LockFor(key));
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return;  // deleted or moved meanwhile
        // A copy in a hotter tier wins: it is the one reads find first.
        for (BlobTier hotter : kBlobTiers) {
          if (hotter == tier) break;
          struct stat hs {};
          if (::stat(PathFor(hotter, key).c_str(), &hs) == 0) {
            if (::unlink(path.c_str()) == 0) {
              AddStats(tier, -1, -static_cast<int64_t>(st.st_size));
              report.duplicates_removed++;
            }
            return;
          }
        }
        const int64_t since = ToMillis(st.st_mtim);
        const int64_t access = ToMillis(st.st_atim);
        const int64_t idle = now - std::max(since, access);
        const auto size = static_cast<uint64_t>(st.st_size);
        std::optional<BlobTier> to;
        if (tier == BlobTier::kHot) {
          if (policy.hot_to_warm_idle_seconds > 0 && idle >= policy.hot_to_warm_idle_seconds * 1000) {
            to = BlobTier::kWarm;
          }
        } else {
          const bool read_since_entry = access > since;
          if (policy.promote_read_within_seconds > 0 && read_since_entry &&
              now - access <= policy.promote_read_within_seconds * 1000) {
            to = BlobTier::kHot;
          } else if (tier == BlobTier::kWarm && policy.warm_to_cold_idle_seconds > 0 &&
                     idle >= policy.warm_to_cold_idle_seconds * 1000) {
            to = BlobTier::kCold;
          }
        }
        if (!to) return;
        MoveLocked(key, tier, *to, size);
        report.bytes_moved += size;
        if (*to == BlobTier::kHot) {
          report.promoted++;
        } else if (*to == BlobTier::kWarm) {
          report.hot_to_warm++;
        } else {
          report.warm_to_cold++;
        }
      } catch (const std::exception& e) {
        report.errors.push_back(key + ": " + e.what());
      }
    });
  }
  return report;
}

BlobVerifyReport BlobStore::Verify() {
  std::lock_guard migrate_lock(migrate_mu_);
  BlobVerifyReport report;
  const int64_t now = clock::NowMillis();
  for (BlobTier tier : kBlobTiers) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(TierDir(tier) / "tmp", ec)) {
      struct stat st {};
      if (::stat(e.path().c_str(), &st) == 0 && now - ToMillis(st.st_mtim) > kStaleTempMillis &&
          ::unlink(e.path().c_str()) == 0) {
        report.stale_temp_files_removed++;
      }
    }
    ForEachBlob(TierDir(tier), [&](const std::string& key, const fs::path& path) {
      std::unique_lock lock(LockFor(key));
      Fd fd(OpenNoAtime(path));
      if (!fd.ok()) return;  // deleted or moved meanwhile
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0) return;
      std::string digest;
      try {
        digest = ReadHashing(fd.get(), path, [](const char*, size_t) {});
      } catch (const Error&) {
        digest.clear();
      }
      // Checking is not an access: put atime back in case O_NOATIME was refused.
      struct timespec times[2] = {st.st_atim, {0, UTIME_OMIT}};
      ::futimens(fd.get(), times);
      report.checked++;
      report.bytes += static_cast<uint64_t>(st.st_size);
      if (digest != key) {
        report.corrupt.push_back(std::string(BlobTierName(tier)) + "/" + key);
        return;
      }
      // A good copy here makes colder copies (from an interrupted move) redundant.
      bool colder = false;
      for (BlobTier t : kBlobTiers) {
        if (t == tier) {
          colder = true;
          continue;
        }
        if (!colder) continue;
        fs::path dup = PathFor(t, key);
        if (::unlink(dup.c_str()) == 0) report.duplicates_removed++;
      }
    });
  }
  Recount();
  return report;
}

}  // namespace haip::lake
