#include "infer/kernels/matmul.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/error.h"
#include "infer/kernels/blocks.h"
#include "infer/kernels/half.h"
#include "infer/kernels/matmul_impl.h"
#include "infer/kernels/quant.h"
#include "infer/thread_pool.h"

namespace haip::infer {

// ---------------------------------------------------------------- buffers

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& o) noexcept {
  if (this != &o) {
    std::free(data_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

void AlignedBuffer::Reserve(size_t bytes) {
  if (bytes <= size_) return;
  std::free(data_);
  data_ = nullptr;
  size_ = 0;
  const size_t rounded = (bytes + 63) / 64 * 64;
  data_ = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
  if (!data_) throw std::bad_alloc();
  size_ = rounded;
}

ActType ActTypeFor(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::kF32:
      return ActType::kF32;
    case GgmlType::kF16:
      return ActType::kF16;
    case GgmlType::kBF16:
      return ActType::kBF16;
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
      return ActType::kQ8_0;
    case GgmlType::kQ4_K:
    case GgmlType::kQ6_K:
      return ActType::kQ8_K;
    default:
      throw Error(ErrorCode::kBadRequest, "no matrix kernels for tensor type " +
                                              GgmlTypeName(static_cast<uint32_t>(weight_type)));
  }
}

// ---------------------------------------------------------------- activations

void ActRows::Reset(ActType type, int64_t rows, int64_t cols) {
  const int64_t block = type == ActType::kQ8_0 ? 32 : type == ActType::kQ8_K ? 256 : 1;
  if (cols % block != 0) {
    throw Error(ErrorCode::kBadRequest,
                "activation row of " + std::to_string(cols) + " values is not a multiple of " +
                    std::to_string(block));
  }
  type_ = type;
  rows_ = rows;
  cols_ = cols;
  const size_t n = static_cast<size_t>(rows * cols);
  switch (type) {
    case ActType::kF32:
      data_.Reserve(n * sizeof(float));
      break;
    case ActType::kF16:
    case ActType::kBF16:
      data_.Reserve(n * sizeof(uint16_t));
      break;
    case ActType::kQ8_0:
      data_.Reserve(n);
      scale_.Reserve(n / 32 * sizeof(float));
      offset_.Reserve(n / 32 * 2 * sizeof(int32_t));
      break;
    case ActType::kQ8_K:
      data_.Reserve(n / 256 * sizeof(BlockQ8K));
      break;
  }
}

void ActRows::Set(int64_t row, const float* x, KernelLevel level) {
  switch (type_) {
    case ActType::kF32:
      std::memcpy(data_.as<float>() + row * cols_, x, static_cast<size_t>(cols_) * sizeof(float));
      return;
    case ActType::kF16:
      ConvertRowF16(x, data_.as<uint16_t>() + row * cols_, cols_);
      return;
    case ActType::kBF16:
      ConvertRowBf16(x, data_.as<uint16_t>() + row * cols_, cols_);
      return;
    case ActType::kQ8_0: {
      const int64_t nb = cols_ / 32;
      int32_t* off = offset_.as<int32_t>() + row * nb * 2;
      detail::KernelsFor(level).quantize_q8_0(x, cols_, data_.as<int8_t>() + row * cols_,
                                              scale_.as<float>() + row * nb, off, off + nb);
      return;
    }
    case ActType::kQ8_K:
      detail::QuantizeQ8KScalar(x, cols_, data_.as<uint8_t>() + row * (cols_ / 256) * sizeof(BlockQ8K));
      return;
  }
}

// ---------------------------------------------------------------- weights

WeightMatrix::WeightMatrix(GgmlType type, int64_t rows, int64_t cols, const void* data)
    : type_(type), rows_(rows), cols_(cols), data_(static_cast<const uint8_t*>(data)) {
  ActTypeFor(type);  // rejects types without kernels
  row_bytes_ = RowBytes(type, cols);
  if (rows < 0) throw Error(ErrorCode::kBadRequest, "negative row count");
}

void WeightMatrix::Prepare(KernelLevel level, ThreadPool* pool) {
  const detail::LevelKernels& k = detail::KernelsFor(level);
  level_ = level;
  packed_.reset();
  detail::PackKernel pack = type_ == GgmlType::kQ8_0   ? k.pack_q8_0
                            : type_ == GgmlType::kQ4_0 ? k.pack_q4_0
                                                       : nullptr;
  if (!pack || rows_ == 0) return;
  const int64_t panels = detail::Panels(rows_);
  const int64_t block_bytes =
      type_ == GgmlType::kQ8_0 ? detail::kPackedQ8_0BlockBytes : detail::kPackedQ4_0BlockBytes;
  auto buf = std::make_unique<AlignedBuffer>();
  buf->Reserve(static_cast<size_t>(panels * (cols_ / 32) * block_bytes));
  uint8_t* dst = buf->as<uint8_t>();
  const int64_t chunk = 64;
  const int64_t tasks = (panels + chunk - 1) / chunk;
  auto run = [&](int64_t i) { pack(*this, i * chunk, std::min(panels, (i + 1) * chunk), dst); };
  if (pool && tasks > 1) {
    pool->Run(tasks, run);
  } else {
    for (int64_t i = 0; i < tasks; ++i) run(i);
  }
  packed_ = std::move(buf);
}

// ---------------------------------------------------------------- reference

namespace detail {

void QuantizeQ8_0Scalar(const float* x, int64_t n, int8_t* q, float* scale, int32_t* offset8,
                        int32_t* offset128) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + b * 32;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
    // llama.cpp's activation quantizer: the scale is stored as f16, the
    // quants use 127/amax and round half to even.
    scale[b] = HalfToFloat(FloatToHalf(amax / 127.0f));
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int32_t sum = 0;
    for (int j = 0; j < 32; ++j) {
      const int v = static_cast<int>(std::nearbyint(xb[j] * id));
      q[b * 32 + j] = static_cast<int8_t>(v);
      sum += v;
    }
    offset8[b] = -8 * sum;
    offset128[b] = -128 * sum;
  }
}

void QuantizeQ8KScalar(const float* x, int64_t n, void* blocks) {
  auto* y = static_cast<BlockQ8K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      std::memset(y[i].qs, 0, sizeof y[i].qs);
      std::memset(y[i].bsums, 0, sizeof y[i].bsums);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      const int v = static_cast<int>(std::nearbyint(iscale * x[j]));
      y[i].qs[j] = static_cast<int8_t>(std::min(127, v));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int k = 0; k < 16; ++k) sum += y[i].qs[j * 16 + k];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1.0f / iscale;
  }
}

float DotQ4KScalar(const void* wv, const void* av, int64_t n) {
  const auto* w = static_cast<const BlockQ4K*>(wv);
  const auto* a = static_cast<const BlockQ8K*>(av);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int32_t sumi = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      Q4KScaleMin(j, w[i].scales, &sc, &m);
      const uint8_t* q = w[i].qs + (j / 2) * 32;
      const int8_t* y = a[i].qs + j * 32;
      int32_t s = 0;
      for (int l = 0; l < 32; ++l) s += ((j & 1) ? (q[l] >> 4) : (q[l] & 0xf)) * y[l];
      sumi += sc * s;
      summ += m * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
    }
    acc = std::fma(HalfToFloat(w[i].d) * a[i].d, static_cast<float>(sumi), acc);
    acc = std::fma(-(HalfToFloat(w[i].dmin) * a[i].d), static_cast<float>(summ), acc);
  }
  return acc;
}

float DotQ6KScalar(const void* wv, const void* av, int64_t n) {
  const auto* w = static_cast<const BlockQ6K*>(wv);
  const auto* a = static_cast<const BlockQ8K*>(av);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    const uint8_t* ql = w[i].ql;
    const uint8_t* qh = w[i].qh;
    for (int half = 0; half < 2; ++half) {
      int8_t* o = q + half * 128;
      for (int l = 0; l < 32; ++l) {
        o[l] = static_cast<int8_t>(((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32);
        o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
      ql += 64;
      qh += 32;
    }
    int32_t sumi = 0;
    for (int j = 0; j < 16; ++j) {
      int32_t s = 0;
      for (int l = 0; l < 16; ++l) s += q[j * 16 + l] * a[i].qs[j * 16 + l];
      sumi += w[i].scales[j] * s;
    }
    acc = std::fma(HalfToFloat(w[i].d) * a[i].d, static_cast<float>(sumi), acc);
  }
  return acc;
}

}  // namespace detail

float DotReference(const WeightMatrix& w, int64_t r, const ActRows& a, int64_t t) {
  const int64_t n = w.cols();
  const uint8_t* row = w.row(r);
  switch (w.type()) {
    case GgmlType::kF32: {
      const auto* wr = reinterpret_cast<const float*>(row);
      const float* x = a.f32(t);
      double acc = 0;
      for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(wr[i]) * x[i];
      return static_cast<float>(acc);
    }
    case GgmlType::kF16:
    case GgmlType::kBF16: {
      const bool f16 = w.type() == GgmlType::kF16;
      const auto* wr = reinterpret_cast<const uint16_t*>(row);
      const uint16_t* x = a.u16(t);
      double acc = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float wv = f16 ? HalfToFloat(wr[i]) : Bf16ToFloat(wr[i]);
        const float xv = f16 ? HalfToFloat(x[i]) : Bf16ToFloat(x[i]);
        acc += static_cast<double>(wv) * xv;
      }
      return static_cast<float>(acc);
    }
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0: {
      const int8_t* q = a.q8(t);
      const float* d = a.q8_scale(t);
      float acc = 0.0f;
      for (int64_t b = 0; b < n / 32; ++b) {
        int32_t s = 0;
        float dw;
        if (w.type() == GgmlType::kQ8_0) {
          const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
          for (int j = 0; j < 32; ++j) s += blk->qs[j] * q[b * 32 + j];
          dw = HalfToFloat(blk->d);
        } else {
          const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
          for (int j = 0; j < 16; ++j) {
            s += ((blk->qs[j] & 0xf) - 8) * q[b * 32 + j];
            s += ((blk->qs[j] >> 4) - 8) * q[b * 32 + 16 + j];
          }
          dw = HalfToFloat(blk->d);
        }
        acc = std::fma(dw * d[b], static_cast<float>(s), acc);
      }
      return acc;
    }
    case GgmlType::kQ4_K:
      return detail::DotQ4KScalar(row, a.q8k(t), n);
    case GgmlType::kQ6_K:
      return detail::DotQ6KScalar(row, a.q8k(t), n);
    default:
      throw Error(ErrorCode::kBadRequest,
                  "no matrix kernels for tensor type " + GgmlTypeName(static_cast<uint32_t>(w.type())));
  }
}

void MatMulReference(const float* x, int64_t x_stride, int64_t n, const WeightMatrix& w, float* y,
                     int64_t y_stride) {
  ActRows a;
  a.Reset(ActTypeFor(w.type()), n, w.cols());
  for (int64_t t = 0; t < n; ++t) a.Set(t, x + t * x_stride, KernelLevel::kScalar);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < w.rows(); ++r) y[t * y_stride + r] = DotReference(w, r, a, t);
  }
}

// ---------------------------------------------------------------- scalar level

namespace detail {
namespace {

void RowScalar(const WeightMatrix& w, int64_t r, const ActRows& a, int64_t t, int count, float* out) {
  for (int i = 0; i < count; ++i) out[i] = DotReference(w, r, a, t + i);
}

}  // namespace

const LevelKernels& ScalarKernels() {
  static const LevelKernels k = [] {
    LevelKernels s;
    s.quantize_q8_0 = QuantizeQ8_0Scalar;
    s.row_f32 = s.row_f16 = s.row_bf16 = s.row_q8_0 = s.row_q4_0 = s.row_q4_k = s.row_q6_k = RowScalar;
    return s;
  }();
  return k;
}

const LevelKernels& KernelsFor(KernelLevel level) {
  switch (level) {
    case KernelLevel::kAvx512:
      return Avx512Kernels();
    case KernelLevel::kAvx2:
      return Avx2Kernels();
    case KernelLevel::kScalar:
      break;
  }
  return ScalarKernels();
}

}  // namespace detail

// ---------------------------------------------------------------- driver

namespace {

int ActIndex(ActType t) { return static_cast<int>(t); }

detail::RowKernel RowKernelFor(const detail::LevelKernels& k, GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return k.row_f32;
    case GgmlType::kF16:
      return k.row_f16;
    case GgmlType::kBF16:
      return k.row_bf16;
    case GgmlType::kQ8_0:
      return k.row_q8_0;
    case GgmlType::kQ4_0:
      return k.row_q4_0;
    case GgmlType::kQ4_K:
      return k.row_q4_k;
    case GgmlType::kQ6_K:
      return k.row_q6_k;
    default:
      return nullptr;
  }
}

struct Task {
  int target;
  int64_t begin;  // panels when packed, rows otherwise
  int64_t end;
};

}  // namespace

void MatMul(const float* x, int64_t x_stride, int64_t n, std::span<const MatMulTarget> targets,
            MatMulScratch& scratch, ThreadPool& pool) {
  if (n <= 0 || targets.empty()) return;
  const int64_t cols = targets[0].w->cols();
  bool need[5] = {};
  KernelLevel level = KernelLevel::kScalar;
  for (const MatMulTarget& t : targets) {
    if (t.w->cols() != cols) {
      throw Error(ErrorCode::kInternal, "MatMul targets disagree on the input width");
    }
    need[ActIndex(ActTypeFor(t.w->type()))] = true;
    level = std::max(level, t.w->level());
  }
  // Convert the input once per activation type (bit-identical at every level).
  for (int i = 0; i < 5; ++i) {
    if (!need[i]) continue;
    ActRows& a = scratch.acts[i];
    a.Reset(static_cast<ActType>(i), n, cols);
    const int64_t rows_per_task = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
    const int64_t tasks = (n + rows_per_task - 1) / rows_per_task;
    pool.Run(tasks, [&](int64_t task) {
      const int64_t end = std::min(n, (task + 1) * rows_per_task);
      for (int64_t r = task * rows_per_task; r < end; ++r) a.Set(r, x + r * x_stride, level);
    });
  }
  // Split every target into row ranges; enough pieces to balance the threads.
  std::vector<Task> tasks;
  const int64_t want = static_cast<int64_t>(pool.threads()) * 16;
  for (size_t ti = 0; ti < targets.size(); ++ti) {
    const WeightMatrix& w = *targets[ti].w;
    const int64_t units = w.packed() ? detail::Panels(w.rows()) : w.rows();
    const int64_t align = w.packed() ? 4 : 8;
    int64_t chunk = (units + want - 1) / want;
    chunk = std::max<int64_t>(align, (chunk + align - 1) / align * align);
    for (int64_t b = 0; b < units; b += chunk) {
      tasks.push_back({static_cast<int>(ti), b, std::min(units, b + chunk)});
    }
  }
  pool.Run(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
    const Task& task = tasks[static_cast<size_t>(i)];
    const MatMulTarget& t = targets[static_cast<size_t>(task.target)];
    const WeightMatrix& w = *t.w;
    const ActRows& a = scratch.acts[ActIndex(ActTypeFor(w.type()))];
    const detail::LevelKernels& k = detail::KernelsFor(w.level());
    if (w.packed()) {
      auto kernel = w.type() == GgmlType::kQ8_0 ? k.panels_q8_0 : k.panels_q4_0;
      kernel(w, task.begin, task.end, a, t.y, t.y_stride);
      return;
    }
    detail::RowKernel kernel = RowKernelFor(k, w.type());
    // Token blocks keep a slice of the activations in cache while the rows stream.
    const int64_t token_block = 64;
    float out[4];
    for (int64_t t0 = 0; t0 < n; t0 += token_block) {
      const int64_t t1 = std::min(n, t0 + token_block);
      for (int64_t r = task.begin; r < task.end; ++r) {
        for (int64_t tt = t0; tt < t1; tt += 4) {
          const int count = static_cast<int>(std::min<int64_t>(4, t1 - tt));
          kernel(w, r, a, tt, count, out);
          for (int c = 0; c < count; ++c) t.y[(tt + c) * t.y_stride + r] = out[c];
        }
      }
    }
  });
}

}  // namespace haip::infer
