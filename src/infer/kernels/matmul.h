// Matrix products of model weights with activations, the way llama.cpp does
// them on the CPU: activations are first converted to the weight type's
// partner (Q8_0 blocks of 32 for Q8_0/Q4_0 weights, Q8_K for K-quants, F16 for
// F16, BF16 for BF16, F32 for F32), then each output is a dot product of a
// weight row with a converted activation row.
//
// Q8_0 and Q4_0 weights are repacked at load time into panels of 8 rows
// whose quants are interleaved 4 bytes per row, so one 256-bit integer
// multiply-add serves 8 output rows (VNNI vpdpbusd, or vpmaddubsw on AVX2).
// Every output is accumulated block by block in the same order at every
// level, so the SIMD kernels give bit-identical results to the scalar
// reference for quantized weights, and no result depends on how rows or
// tokens were split into tiles or threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "infer/gguf.h"
#include "infer/kernels/cpu.h"

namespace haip::infer {

class ThreadPool;

// 64-byte aligned, uninitialised, growable storage.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer();
  // Ensures at least `bytes` of capacity; contents are not preserved.
  void Reserve(size_t bytes);
  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(data_);
  }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data_);
  }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// The activation format paired with a weight type.
enum class ActType { kF32, kF16, kBF16, kQ8_0, kQ8_K };
ActType ActTypeFor(GgmlType weight_type);

// Rows of activations converted to one ActType.
//   F32 / F16 / BF16: `cols` values per row.
//   Q8_0: int8 quants (cols per row), a float scale per 32 (the f16-rounded
//         amax/127, as llama.cpp stores it), and per block -8 and -128 times
//         the quants' sum (the offsets of the unsigned-weight kernels).
//   Q8_K: BlockQ8K per 256.
class ActRows {
 public:
  // Sizes the buffers; cols must be a multiple of the type's block.
  void Reset(ActType type, int64_t rows, int64_t cols);
  // Converts one row; bit-identical results at every kernel level.
  void Set(int64_t row, const float* x, KernelLevel level);

  ActType type() const { return type_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  const float* f32(int64_t r) const { return data_.as<float>() + r * cols_; }
  const uint16_t* u16(int64_t r) const { return data_.as<uint16_t>() + r * cols_; }
  const int8_t* q8(int64_t r) const { return data_.as<int8_t>() + r * cols_; }
  const float* q8_scale(int64_t r) const { return scale_.as<float>() + r * (cols_ / 32); }
  const int32_t* q8_offset8(int64_t r) const { return offset_.as<int32_t>() + r * (cols_ / 32) * 2; }
  const int32_t* q8_offset128(int64_t r) const { return q8_offset8(r) + cols_ / 32; }
  const void* q8k(int64_t r) const { return data_.as<uint8_t>() + r * (cols_ / 256) * 292; }

 private:
  ActType type_ = ActType::kF32;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
  AlignedBuffer data_;
  AlignedBuffer scale_;
  AlignedBuffer offset_;
};

// A weight matrix: `rows` rows of `cols` elements of a ggml type, row-major
// as in a GGUF file (GGUF ne = [cols, rows]). The original rows are only
// referenced (they live in the memory-mapped file); Prepare() may add a
// repacked copy for the SIMD kernels.
class WeightMatrix {
 public:
  WeightMatrix() = default;
  // Throws haip::Error for unsupported types or cols not a multiple of the block.
  WeightMatrix(GgmlType type, int64_t rows, int64_t cols, const void* data);
  WeightMatrix(WeightMatrix&&) noexcept = default;
  WeightMatrix& operator=(WeightMatrix&&) noexcept = default;

  // Readies the matrix for `level`'s kernels (repacking Q8_0 / Q4_0 into
  // 8-row panels at AVX2 and AVX-512); the pool, when given, shares the work.
  void Prepare(KernelLevel level, ThreadPool* pool = nullptr);

  GgmlType type() const { return type_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t row_bytes() const { return row_bytes_; }
  const uint8_t* row(int64_t r) const { return data_ + r * row_bytes_; }
  KernelLevel level() const { return level_; }
  bool packed() const { return packed_ != nullptr; }
  const uint8_t* packed_data() const { return packed_ ? packed_->as<uint8_t>() : nullptr; }
  // Bytes the kernels stream per full pass (the packed copy when present).
  int64_t bytes() const { return row_bytes_ * rows_; }

 private:
  GgmlType type_ = GgmlType::kF32;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
  int64_t row_bytes_ = 0;
  const uint8_t* data_ = nullptr;
  KernelLevel level_ = KernelLevel::kScalar;
  std::unique_ptr<AlignedBuffer> packed_;
};

// One product of a shared input: y[t * y_stride + r] = W[r] . x[t].
struct MatMulTarget {
  const WeightMatrix* w;
  float* y;
  int64_t y_stride;
};

// Reusable conversion buffers for MatMul (one per activation type).
struct MatMulScratch {
  ActRows acts[5];
};

// Computes every target for the n rows of x (row stride x_stride floats).
// All targets take the same number of input columns. Each target is computed
// with the kernels of the level its matrix was prepared for.
void MatMul(const float* x, int64_t x_stride, int64_t n, std::span<const MatMulTarget> targets,
            MatMulScratch& scratch, ThreadPool& pool);

// The plain reference: converts x with the scalar code and computes each
// output as a sequential dot product over the original rows.
void MatMulReference(const float* x, int64_t x_stride, int64_t n, const WeightMatrix& w, float* y,
                     int64_t y_stride);
// One reference dot product of weight row `r` with converted activation row `t`.
float DotReference(const WeightMatrix& w, int64_t r, const ActRows& a, int64_t t);

}  // namespace haip::infer
