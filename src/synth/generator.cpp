#include "synth/generator.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"
#include "synth/fhir_writer.h"
#include "synth/model.h"

namespace haip::synth {

namespace {

// Patients per unit of work. Each worker holds one chunk's output (a few MB),
// so memory is bounded by threads x chunk size, independent of the total.
constexpr uint64_t kChunkPatients = 256;
constexpr int kMaxThreads = 64;

class OutputFiles {
 public:
  explicit OutputFiles(const std::filesystem::path& dir) {
    for (size_t t = 0; t < kResourceTypeCount; ++t) {
      paths_[t] = dir / (std::string(kResourceTypes[t]) + ".ndjson");
      files_[t] = std::fopen(paths_[t].c_str(), "wb");
      if (files_[t] == nullptr) {
        int err = errno;
        CloseAll();
        throw Error(ErrorCode::kBadRequest,
                    "cannot create " + paths_[t].string() + ": " + std::strerror(err));
      }
    }
  }
  ~OutputFiles() { CloseAll(); }
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;

  void Write(const ResourceBuffers& buf) {
    for (size_t t = 0; t < kResourceTypeCount; ++t) {
      const std::string& data = buf.data[t];
      if (data.empty()) continue;
      if (std::fwrite(data.data(), 1, data.size(), files_[t]) != data.size()) Fail(t);
      bytes_ += data.size();
    }
  }

  void Close() {
    for (size_t t = 0; t < kResourceTypeCount; ++t) {
      if (files_[t] == nullptr) continue;
      int rc = std::fclose(files_[t]);
      files_[t] = nullptr;
      if (rc != 0) Fail(t);
    }
  }

  uint64_t bytes() const { return bytes_; }

 private:
  [[noreturn]] void Fail(size_t t) {
    int err = errno;
    throw Error(ErrorCode::kInternal,
                "cannot write " + paths_[t].string() + ": " + std::strerror(err));
  }
  void CloseAll() {
    for (auto& f : files_) {
      if (f != nullptr) std::fclose(f);
      f = nullptr;
    }
  }

  std::filesystem::path paths_[kResourceTypeCount];
  std::FILE* files_[kResourceTypeCount] = {};
  uint64_t bytes_ = 0;
};

}  // namespace

SynthStats Generate(const SynthOptions& options, const std::function<void(uint64_t)>& progress) {
  static_assert(std::size(kResourceTypes) == kResourceTypeCount);
  if (options.patients == 0)
    throw Error(ErrorCode::kBadRequest, "the number of patients must be at least 1");
  if (options.threads < 1 || options.threads > kMaxThreads) {
    throw Error(ErrorCode::kBadRequest,
                "threads must be between 1 and " + std::to_string(kMaxThreads));
  }
  if (options.out_dir.empty())
    throw Error(ErrorCode::kBadRequest, "an output directory is required");

  const auto started = std::chrono::steady_clock::now();
  const Context ctx(options.seed);
  if (options.patients > ctx.identities.capacity()) {
    throw Error(ErrorCode::kBadRequest,
                "at most " + std::to_string(ctx.identities.capacity()) +
                    " patients can be generated with unique ID card numbers");
  }

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    throw Error(ErrorCode::kBadRequest,
                "cannot create output directory " + options.out_dir.string() + ": " + ec.message());
  }
  if (!std::filesystem::is_directory(options.out_dir, ec)) {
    throw Error(ErrorCode::kBadRequest, options.out_dir.string() + " is not a directory");
  }
  OutputFiles files(options.out_dir);

  std::array<uint64_t, kResourceTypeCount> counts{};
  {
    ResourceBuffers hospital;
    WriteHospital(ctx, hospital);
    files.Write(hospital);
    for (size_t t = 0; t < kResourceTypeCount; ++t) counts[t] += hospital.counts[t];
  }

  const uint64_t total = options.patients;
  const uint64_t chunks = (total + kChunkPatients - 1) / kChunkPatients;
  std::atomic<uint64_t> next_chunk{0};
  std::mutex mu;
  std::condition_variable turn_cv;
  uint64_t turn = 0;  // the chunk whose output goes to the files next
  bool failed = false;
  std::exception_ptr error;

  // Chunks are generated concurrently but written strictly in index order,
  // which keeps the files identical for any thread count.
  auto worker = [&] {
    ResourceBuffers buf;
    PatientRecord record;
    try {
      for (;;) {
        const uint64_t k = next_chunk.fetch_add(1);
        if (k >= chunks) return;
        buf.Clear();
        const uint64_t first = k * kChunkPatients;
        const uint64_t last = std::min(total, first + kChunkPatients);
        for (uint64_t i = first; i < last; ++i) {
          BuildPatient(ctx, i, record);
          WritePatient(ctx, record, buf);
        }
        std::unique_lock lock(mu);
        turn_cv.wait(lock, [&] { return turn == k || failed; });
        if (failed) return;
        files.Write(buf);
        for (size_t t = 0; t < kResourceTypeCount; ++t) counts[t] += buf.counts[t];
        if (progress) progress(last);
        ++turn;
        turn_cv.notify_all();
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      failed = true;
      turn_cv.notify_all();
    }
  };

  const int threads =
      static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(options.threads), chunks));
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
  files.Close();

  SynthStats stats;
  stats.patients = total;
  for (size_t t = 0; t < kResourceTypeCount; ++t) {
    stats.resources_by_type[std::string(kResourceTypes[t])] = counts[t];
    stats.total_resources += counts[t];
  }
  stats.bytes = files.bytes();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

}  // namespace haip::synth
