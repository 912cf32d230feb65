#include "infer/kernels/cpu.h"

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace haip::infer {

namespace {

bool CpuHasAvx2() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

bool CpuHasAvx512() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return CpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

std::atomic<int> g_active{-1};

}  // namespace

std::string KernelLevelName(KernelLevel level) {
  switch (level) {
    case KernelLevel::kScalar:
      return "scalar";
    case KernelLevel::kAvx2:
      return "avx2";
    case KernelLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

std::vector<KernelLevel> SupportedKernelLevels() {
  std::vector<KernelLevel> levels{KernelLevel::kScalar};
  if (CpuHasAvx2()) levels.push_back(KernelLevel::kAvx2);
  if (CpuHasAvx512()) levels.push_back(KernelLevel::kAvx512);
  return levels;
}

KernelLevel DefaultKernelLevel() {
  KernelLevel best = SupportedKernelLevels().back();
  if (const char* env = std::getenv("HAIP_INFER_KERNELS")) {
    const std::string_view want(env);
    for (KernelLevel l : SupportedKernelLevels()) {
      if (KernelLevelName(l) == want) return l;
    }
  }
  return best;
}

KernelLevel ActiveKernelLevel() {
  int v = g_active.load(std::memory_order_relaxed);
  if (v < 0) {
    v = static_cast<int>(DefaultKernelLevel());
    g_active.store(v, std::memory_order_relaxed);
  }
  return static_cast<KernelLevel>(v);
}

void SetActiveKernelLevel(KernelLevel level) {
  for (KernelLevel l : SupportedKernelLevels()) {
    if (l == level) {
      g_active.store(static_cast<int>(level), std::memory_order_relaxed);
      return;
    }
  }
  throw Error(ErrorCode::kBadRequest, "this CPU cannot run the " + KernelLevelName(level) + " kernels");
}

}  // namespace haip::infer
