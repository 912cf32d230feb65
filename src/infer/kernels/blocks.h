// ggml's quantized block layouts, byte for byte as they sit in a GGUF file.
//   Q8_0: 32 weights = f16 scale d + 32 x int8; w = d * q
//   Q4_0: 32 weights = f16 scale d + 16 bytes; byte j holds weight j (low
//         nibble) and weight j+16 (high nibble); w = d * (nibble - 8)
//   Q4_K: 256 weights in 8 sub-blocks of 32, f16 d and dmin, 6-bit
//         per-sub-block scale and min packed in 12 bytes, 4-bit quants (each
//         32-byte run holds sub-block 2i in low nibbles, 2i+1 in high);
//         w = d * scale * q - dmin * min
//   Q6_K: 256 weights in 16 sub-blocks of 16, 4 low bits in ql, 2 high bits
//         in qh, int8 scale per sub-block, f16 d; w = d * scale * (q - 32)
//   Q8_K: activations only: f32 d, 256 x int8, and the sums of each 16 quants.
#pragma once

#include <cstdint>

namespace haip::infer {

constexpr int kQK8_0 = 32;
constexpr int kQK4_0 = 32;
constexpr int kQK_K = 256;

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4K) == 144);

struct BlockQ6K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6K) == 210);

struct BlockQ8K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8K) == 292);

// Scale and min of Q4_K sub-block j (0..7) from the 12 packed bytes.
inline void Q4KScaleMin(int j, const uint8_t* q, int* scale, int* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
    *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace haip::infer
