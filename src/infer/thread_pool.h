// A small persistent pool for the engine's parallel loops. Run(n, fn) hands
// the tasks 0..n-1 out to the pool's threads (the calling thread works too)
// and returns when all are done. Kernels split work by output rows, and each
// task computes its rows the same way whichever thread runs it, so results
// never depend on the thread count.
//
// Idle workers spin briefly (a decode step issues hundreds of short loops)
// and then sleep on a futex, so an idle engine costs no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace haip::infer {

class ThreadPool {
 public:
  // n_threads >= 1 (the caller counts as one); 0 means the hardware's cores.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(task) for every task in [0, n). Not re-entrant: fn must not call
  // Run on the same pool. The first exception thrown by a task is rethrown
  // here once every task has finished or been skipped.
  template <typename Fn>
  void Run(int64_t n, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    RunErased(n, [](void* ctx, int64_t i) { (*static_cast<F*>(ctx))(i); },
              const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using TaskFn = void (*)(void*, int64_t);
  void RunErased(int64_t n, TaskFn fn, void* ctx);
  void WorkerLoop();
  void DoTasks();

  std::vector<std::thread> workers_;
  // The current job; written by the caller before `generation_` is bumped.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int> finished_{0};  // workers done with the current job
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::mutex error_mu_;
  std::exception_ptr error_;
};

}  // namespace haip::infer
