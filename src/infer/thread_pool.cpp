#include "infer/thread_pool.h"

#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace haip::infer {

namespace {

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// How long an idle worker spins before it sleeps.
constexpr auto kSpinTime = std::chrono::microseconds(300);

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::DoTasks() {
  for (;;) {
    const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= n_) break;
    if (failed_.load(std::memory_order_relaxed)) continue;
    try {
      fn_(ctx_, i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true);
    }
  }
}

void ThreadPool::WorkerLoop() {
  uint32_t seen = generation_.load();
  for (;;) {
    // Wait for the next job: spin first, then sleep.
    const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      CpuRelax();
      if (++spins % 256 == 0 && std::chrono::steady_clock::now() > spin_until) {
        sleepers_.fetch_add(1);
        if (generation_.load() == seen) generation_.wait(seen);
        sleepers_.fetch_sub(1);
      }
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    DoTasks();
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::RunErased(int64_t n, TaskFn fn, void* ctx) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1) {
    for (int64_t i = 0; i < n; ++i) fn(ctx, i);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  next_.store(0, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  failed_.store(false, std::memory_order_relaxed);
  error_ = nullptr;
  generation_.fetch_add(1);  // seq_cst: pairs with the sleepers_ check in WorkerLoop
  if (sleepers_.load() > 0) generation_.notify_all();
  DoTasks();
  const int workers = static_cast<int>(workers_.size());
  for (int spins = 0; finished_.load(std::memory_order_acquire) != workers; ++spins) {
    // A worker that lost its core (more threads than cores) needs the CPU back.
    if (spins < 20000) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

}  // namespace haip::infer
