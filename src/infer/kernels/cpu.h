// Which SIMD kernels this CPU can run, and which ones are in use.
#pragma once

#include <string>
#include <vector>

namespace haip::infer {

enum class KernelLevel {
  kScalar,  // the plain reference kernels, any CPU
  kAvx2,    // AVX2 + FMA + F16C
  kAvx512,  // AVX-512 F/BW/VL + VNNI (on 256-bit vectors)
};

std::string KernelLevelName(KernelLevel level);
// Every level this CPU supports, kScalar first.
std::vector<KernelLevel> SupportedKernelLevels();
// The best supported level, unless HAIP_INFER_KERNELS (scalar|avx2|avx512)
// asks for a lower one.
KernelLevel DefaultKernelLevel();
// The level new weight matrices are prepared for (default: DefaultKernelLevel).
// Tests and benchmarks switch it; throws haip::Error for a level the CPU lacks.
KernelLevel ActiveKernelLevel();
void SetActiveKernelLevel(KernelLevel level);

}  // namespace haip::infer
