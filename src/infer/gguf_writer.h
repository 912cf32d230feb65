// Writes GGUF v3 files: typed metadata and tensors, each tensor's data
// aligned to general.alignment. Tensor data can be given as bytes or as a
// callback that fills the tensor when the file is written, so a multi-GB
// model is produced one tensor at a time (haip model synth / quantize).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "infer/gguf.h"

namespace haip::infer {

class GgufWriter {
 public:
  // Fills exactly the tensor's byte size (see LayoutOf) at `out`.
  using Fill = std::function<void(uint8_t* out)>;

  // Scalars, with the GGUF type each setter names. Setting a key again
  // replaces its value but keeps its position.
  void SetUint8(const std::string& key, uint8_t v);
  void SetInt8(const std::string& key, int8_t v);
  void SetUint16(const std::string& key, uint16_t v);
  void SetInt16(const std::string& key, int16_t v);
  void SetUint32(const std::string& key, uint32_t v);
  void SetInt32(const std::string& key, int32_t v);
  void SetUint64(const std::string& key, uint64_t v);
  void SetInt64(const std::string& key, int64_t v);
  void SetFloat32(const std::string& key, float v);
  void SetFloat64(const std::string& key, double v);
  void SetBool(const std::string& key, bool v);
  void SetString(const std::string& key, const std::string& v);
  // Arrays: `a.elem_type` says how the elements are written; the matching
  // vector of `a` is used. Throws haip::Error for nested arrays or a
  // mismatch between elem_type and the filled vector.
  void SetArray(const std::string& key, GgufArray a);
  void SetStringArray(const std::string& key, std::vector<std::string> v);
  void SetInt32Array(const std::string& key, const std::vector<int32_t>& v);
  void SetFloat32Array(const std::string& key, const std::vector<float>& v);
  // Any value with an explicit type (used to copy metadata from a reader).
  void Set(const std::string& key, GgufValueType type, const GgufValue& v);
  // Copies one key, with its original type, from a file.
  void CopyFrom(const GgufFile& f, const std::string& key);
  void Remove(const std::string& key);
  bool Has(const std::string& key) const;

  // Alignment of tensor data (a power of two); also written as the
  // general.alignment metadata (u32) when it differs from 32.
  void SetAlignment(uint32_t alignment);

  // Tensors, in the order added. The type must be supported (LayoutOf) and
  // ne[0] a multiple of its block size; `data` must hold exactly the tensor's
  // byte size. Throws haip::Error otherwise, or for a duplicate name.
  void AddTensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                 std::vector<uint8_t> data);
  void AddTensor(const std::string& name, GgmlType type, std::vector<int64_t> ne, Fill fill);
  // Byte size of a tensor of this type and shape; throws for bad shapes.
  static uint64_t TensorBytes(GgmlType type, const std::vector<int64_t>& ne);

  // Writes the file (to a temporary name, renamed into place when complete).
  void WriteFile(const std::string& path) const;
  // The whole file in memory (tests, small files).
  std::string WriteToString() const;

 private:
  struct Entry {
    std::string key;
    GgufValueType type;
    GgufValue value;
  };
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    uint64_t bytes;
    std::vector<uint8_t> data;
    Fill fill;
  };
  void Put(const std::string& key, GgufValueType type, GgufValue v);
  std::string Header(std::vector<uint64_t>* offsets) const;
  template <typename Sink>
  void Emit(Sink& sink) const;

  std::vector<Entry> entries_;
  std::vector<PendingTensor> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace haip::infer
