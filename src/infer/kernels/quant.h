// Reference (scalar, obviously correct) conversions between ggml tensor
// types and floats. The SIMD kernels in matmul_*.cpp are tested against these.
#pragma once

#include <cstdint>

#include "infer/gguf.h"

namespace haip::infer {

// Bytes of one row of n elements; throws haip::Error when the type is
// unsupported or n is not a multiple of its block size.
int64_t RowBytes(GgmlType type, int64_t n);
// Elements per block (1 for F32/F16/BF16).
int64_t BlockElems(GgmlType type);

// Any supported type (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K) to floats; n
// is a multiple of the block size.
void DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);

// Model-file quantizers: ggml's reference recipes (quantize_row_*_ref), so a
// file written by `haip model quantize` holds the same bytes llama-quantize
// would write for these types. n is a multiple of 32.
void QuantizeRowQ8_0(const float* src, void* dst, int64_t n);
void QuantizeRowQ4_0(const float* src, void* dst, int64_t n);
// Floats to F16 / BF16 rows (round to nearest even).
void ConvertRowF16(const float* src, uint16_t* dst, int64_t n);
void ConvertRowBf16(const float* src, uint16_t* dst, int64_t n);

// Quantizes one row to the given type (F32, F16, BF16, Q8_0, Q4_0); throws
// for other types.
void QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n);

}  // namespace haip::infer
