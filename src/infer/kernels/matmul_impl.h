// Internal: the per-level kernel tables behind matmul.h. Each SIMD level is
// compiled in its own translation unit with its own target flags and only
// called after a runtime CPU check.
#pragma once

#include <cstdint>

#include "infer/kernels/matmul.h"

namespace haip::infer::detail {

// Packed panel geometry (see matmul.h): 8 rows per panel; per block of 32
// columns, 8 f16 scales then the quants.
constexpr int kPanelRows = 8;
constexpr int64_t kPackedQ8_0BlockBytes = 16 + 256;
constexpr int64_t kPackedQ4_0BlockBytes = 16 + 128;

inline int64_t Panels(int64_t rows) { return (rows + kPanelRows - 1) / kPanelRows; }

// Output rows [panel_begin * 8, panel_end * 8) clipped to w.rows(), for all
// of a's rows, written to y[t * y_stride + r].
using PanelKernel = void (*)(const WeightMatrix& w, int64_t panel_begin, int64_t panel_end,
                             const ActRows& a, float* y, int64_t y_stride);
// Dot products of one weight row with `count` (1..4) consecutive activation
// rows starting at t; every output is computed the same way whatever count is.
using RowKernel = void (*)(const WeightMatrix& w, int64_t r, const ActRows& a, int64_t t, int count,
                           float* out);
// Repacks panels [panel_begin, panel_end) of w into dst (the whole packed buffer).
using PackKernel = void (*)(const WeightMatrix& w, int64_t panel_begin, int64_t panel_end,
                            uint8_t* dst);
// Converts one activation row of n floats to Q8_0 (quants, scales, offsets).
using QuantizeQ8_0Kernel = void (*)(const float* x, int64_t n, int8_t* q, float* scale,
                                    int32_t* offset8, int32_t* offset128);

struct LevelKernels {
  QuantizeQ8_0Kernel quantize_q8_0 = nullptr;
  // Row kernels for row-major weights, by type; null where the level packs.
  RowKernel row_f32 = nullptr;
  RowKernel row_f16 = nullptr;
  RowKernel row_bf16 = nullptr;
  RowKernel row_q8_0 = nullptr;
  RowKernel row_q4_0 = nullptr;
  RowKernel row_q4_k = nullptr;
  RowKernel row_q6_k = nullptr;
  // Packed Q8_0 / Q4_0 (null at the scalar level).
  PackKernel pack_q8_0 = nullptr;
  PackKernel pack_q4_0 = nullptr;
  PanelKernel panels_q8_0 = nullptr;
  PanelKernel panels_q4_0 = nullptr;
};

const LevelKernels& ScalarKernels();
const LevelKernels& Avx2Kernels();
const LevelKernels& Avx512Kernels();
const LevelKernels& KernelsFor(KernelLevel level);

// Scalar pieces shared by every level (bit-exact definitions).
void QuantizeQ8_0Scalar(const float* x, int64_t n, int8_t* q, float* scale, int32_t* offset8,
                        int32_t* offset128);
void QuantizeQ8KScalar(const float* x, int64_t n, void* blocks);
float DotQ4KScalar(const void* w, const void* a, int64_t n);
float DotQ6KScalar(const void* w, const void* a, int64_t n);

}  // namespace haip::infer::detail
