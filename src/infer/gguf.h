// GGUF v3 files (llama.cpp's model format), memory-mapped: the metadata
// key/values, the tensor directory, and pointers to tensor data inside the
// mapping. Nothing is copied; a GgufFile must outlive the views it hands out.
//
// Format: "GGUF", u32 version (2 or 3), u64 tensor count, u64 metadata count,
// metadata (key string, u32 value type, value), tensor infos (name, u32 n_dims,
// u64 ne[n_dims], u32 ggml type, u64 offset), padding to general.alignment
// (default 32), then the data section. Strings are u64 length + bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace haip::infer {

// ggml tensor types (the numbering is the file format's).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
};

// "F32", "Q4_K", ...; "type N" for numbers this build does not know.
std::string GgmlTypeName(uint32_t type);
// Elements per block and bytes per block; nullopt for unsupported types
// (only F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K are supported).
struct BlockLayout {
  int64_t block_elems;
  int64_t block_bytes;
};
std::optional<BlockLayout> LayoutOf(uint32_t type);

// GGUF metadata value types (the numbering is the file format's).
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// One metadata value. Arrays hold one vector of the element type.
struct GgufArray;
using GgufValue = std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray>;
struct GgufArray {
  uint32_t elem_type = 0;  // the GGUF value type of the elements
  // Exactly one of these is filled, by element type: integers (signed values
  // widened), floats, bools, strings.
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<bool> bools;
  std::vector<std::string> strings;
  size_t size() const;
};

struct GgufTensor {
  std::string name;
  uint32_t type = 0;           // GgmlType value
  std::vector<int64_t> ne;     // ne[0] is the fastest-varying (row length)
  uint64_t offset = 0;         // from the start of the data section
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
  int64_t elements() const;
  int64_t rows() const;        // elements() / ne[0]
};

class GgufFile {
 public:
  // Maps and parses the file. Throws haip::Error (kBadRequest) naming the
  // file and what is wrong: bad magic, unsupported version, truncated data,
  // a tensor past the end of the file, an unsupported tensor type (named).
  static GgufFile Open(const std::string& path);
  // Parses a file held in memory (tests, fuzzing); `name` stands for the path
  // in errors. The GgufFile owns the bytes.
  static GgufFile FromBuffer(std::string bytes, const std::string& name = "<memory>");
  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile();

  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  // Keys in file order, and each key's value type as written in the file
  // (GgufValue widens u8..u64 into one alternative; writers that copy
  // metadata need the original type).
  const std::vector<std::string>& metadata_keys() const { return metadata_keys_; }
  GgufValueType MetadataType(const std::string& key) const;
  uint32_t alignment() const { return alignment_; }
  // Byte offset of the data section from the start of the file.
  uint64_t data_offset() const { return data_offset_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  bool Has(const std::string& key) const { return metadata_.count(key) != 0; }
  // Typed getters: throw haip::Error naming the key when missing or of the
  // wrong type; the *Or forms return the default when missing.
  std::string GetString(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  double GetFloat(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  const GgufArray& GetArray(const std::string& key) const;
  std::string GetStringOr(const std::string& key, const std::string& fallback) const;
  int64_t GetIntOr(const std::string& key, int64_t fallback) const;
  double GetFloatOr(const std::string& key, double fallback) const;
  bool GetBoolOr(const std::string& key, bool fallback) const;

  // nullptr when absent.
  const GgufTensor* FindTensor(std::string_view name) const;
  // Throws haip::Error naming the tensor when absent.
  const GgufTensor& Tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  void Parse();
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<std::string> metadata_keys_;
  std::map<std::string, GgufValueType> metadata_types_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> by_name_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  // FromBuffer: the bytes, on the heap so moving the GgufFile keeps tensor
  // data pointers valid.
  std::unique_ptr<std::string> owned_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace haip::infer
