#include "infer/kernels/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"
#include "infer/kernels/blocks.h"
#include "infer/kernels/half.h"

namespace haip::infer {

int64_t BlockElems(GgmlType type) {
  auto layout = LayoutOf(static_cast<uint32_t>(type));
  if (!layout) {
    throw Error(ErrorCode::kBadRequest,
                "unsupported tensor type " + GgmlTypeName(static_cast<uint32_t>(type)));
  }
  return layout->block_elems;
}

int64_t RowBytes(GgmlType type, int64_t n) {
  auto layout = LayoutOf(static_cast<uint32_t>(type));
  if (!layout) {
    throw Error(ErrorCode::kBadRequest,
                "unsupported tensor type " + GgmlTypeName(static_cast<uint32_t>(type)));
  }
  if (n < 0 || n % layout->block_elems != 0) {
    throw Error(ErrorCode::kBadRequest, "row of " + std::to_string(n) + " elements is not a multiple of the " +
                                            GgmlTypeName(static_cast<uint32_t>(type)) + " block (" +
                                            std::to_string(layout->block_elems) + ")");
  }
  return n / layout->block_elems * layout->block_bytes;
}

namespace {

void DequantizeQ8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float d = HalfToFloat(x[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[i * kQK8_0 + j] = x[i].qs[j] * d;
  }
}

void DequantizeQ4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const float d = HalfToFloat(x[i].d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      y[i * kQK4_0 + j] = ((x[i].qs[j] & 0xf) - 8) * d;
      y[i * kQK4_0 + j + kQK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void DequantizeQ4K(const BlockQ4K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d);
    const float dmin = HalfToFloat(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0; j < 4; ++j) {  // 64 weights: sub-blocks 2j (low nibbles) and 2j+1 (high)
      int sc, m;
      Q4KScaleMin(2 * j, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      Q4KScaleMin(2 * j + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xf) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
      q += 32;
    }
  }
}

void DequantizeQ6K(const BlockQ6K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int half = 0; half < 2; ++half) {  // 128 weights each
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

}  // namespace

void DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  RowBytes(type, n);  // validates
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::kF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = HalfToFloat(h[i]);
      return;
    }
    case GgmlType::kBF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(h[i]);
      return;
    }
    case GgmlType::kQ8_0:
      return DequantizeQ8_0(static_cast<const BlockQ8_0*>(src), dst, n);
    case GgmlType::kQ4_0:
      return DequantizeQ4_0(static_cast<const BlockQ4_0*>(src), dst, n);
    case GgmlType::kQ4_K:
      return DequantizeQ4K(static_cast<const BlockQ4K*>(src), dst, n);
    case GgmlType::kQ6_K:
      return DequantizeQ6K(static_cast<const BlockQ6K*>(src), dst, n);
    default:
      throw Error(ErrorCode::kBadRequest,
                  "cannot dequantize tensor type " + GgmlTypeName(static_cast<uint32_t>(type)));
  }
}

void QuantizeRowQ8_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[i * kQK8_0 + j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = FloatToHalf(d);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::roundf(x[i * kQK8_0 + j] * id));
  }
}

void QuantizeRowQ4_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    // The value of largest magnitude maps to -8, so the full [-8, 7] range is used.
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK4_0; ++j) {
      const float v = x[i * kQK4_0 + j];
      if (amax < std::fabs(v)) {
        amax = std::fabs(v);
        max = v;
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = FloatToHalf(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const float x0 = x[i * kQK4_0 + j] * id;
      const float x1 = x[i * kQK4_0 + kQK4_0 / 2 + j] * id;
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 8.5f)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 8.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void ConvertRowF16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = FloatToHalf(src[i]);
}

void ConvertRowBf16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = FloatToBf16(src[i]);
}

void QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n) {
  RowBytes(type, n);
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::kF16:
      return ConvertRowF16(src, static_cast<uint16_t*>(dst), n);
    case GgmlType::kBF16:
      return ConvertRowBf16(src, static_cast<uint16_t*>(dst), n);
    case GgmlType::kQ8_0:
      return QuantizeRowQ8_0(src, dst, n);
    case GgmlType::kQ4_0:
      return QuantizeRowQ4_0(src, dst, n);
    default:
      throw Error(ErrorCode::kBadRequest,
                  "cannot quantize to tensor type " + GgmlTypeName(static_cast<uint32_t>(type)) +
                      " (supported: F32, F16, BF16, Q8_0, Q4_0)");
  }
}

}  // namespace haip::infer
