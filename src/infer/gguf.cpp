#include "infer/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include "core/error.h"

namespace haip::infer {
namespace {

// ggml's limit on tensor dimensions.
constexpr uint32_t kMaxDims = 4;
// Longest key or tensor name accepted; llama.cpp's tensor names are < 64.
constexpr uint64_t kMaxNameLength = 1 << 16;

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::kBadRequest, "gguf: " + path + ": " + what);
}

// Reads little-endian values from the mapped bytes; every read is checked
// against the end, so a truncated or hostile file stops with an error.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  void Need(uint64_t n, const char* what) {
    if (n > remaining()) {
      Fail(path_, std::string("truncated: ") + what + " needs " + std::to_string(n) +
                      " bytes at offset " + std::to_string(pos_) + ", " +
                      std::to_string(remaining()) + " left");
    }
  }
  template <typename T>
  T Get(const char* what) {
    Need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string String(const char* what, uint64_t max_len = std::numeric_limits<uint64_t>::max()) {
    uint64_t n = Get<uint64_t>(what);
    if (n > max_len) {
      Fail(path_, std::string(what) + " is " + std::to_string(n) + " bytes long (at most " +
                      std::to_string(max_len) + ")");
    }
    Need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
};

// Smallest encoding of one value of a type, to reject element counts that
// cannot fit in the rest of the file before allocating for them.
uint64_t MinSize(uint32_t type) {
  switch (static_cast<GgufValueType>(type)) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
    case GgufValueType::kString:
      return 8;
    case GgufValueType::kArray:
      return 12;
  }
  return 0;
}

bool IsIntType(uint32_t t) {
  return t <= static_cast<uint32_t>(GgufValueType::kInt32) ||
         t == static_cast<uint32_t>(GgufValueType::kUint64) ||
         t == static_cast<uint32_t>(GgufValueType::kInt64);
}

// Reads one integer element of an integer type, widened.
int64_t ReadIntElem(Reader& r, uint32_t t) {
  switch (static_cast<GgufValueType>(t)) {
    case GgufValueType::kUint8: return r.Get<uint8_t>("array element");
    case GgufValueType::kInt8: return r.Get<int8_t>("array element");
    case GgufValueType::kUint16: return r.Get<uint16_t>("array element");
    case GgufValueType::kInt16: return r.Get<int16_t>("array element");
    case GgufValueType::kUint32: return r.Get<uint32_t>("array element");
    case GgufValueType::kInt32: return r.Get<int32_t>("array element");
    case GgufValueType::kUint64: return static_cast<int64_t>(r.Get<uint64_t>("array element"));
    case GgufValueType::kInt64: return r.Get<int64_t>("array element");
    default: return 0;
  }
}

bool ReadBool(Reader& r, const std::string& path, const std::string& key) {
  uint8_t b = r.Get<uint8_t>("bool value");
  if (b > 1) Fail(path, "metadata " + key + ": bool value " + std::to_string(b) + " is not 0 or 1");
  return b != 0;
}

GgufValue ReadValue(Reader& r, uint32_t type, const std::string& path, const std::string& key) {
  switch (static_cast<GgufValueType>(type)) {
    case GgufValueType::kUint8: return uint64_t{r.Get<uint8_t>("value")};
    case GgufValueType::kInt8: return int64_t{r.Get<int8_t>("value")};
    case GgufValueType::kUint16: return uint64_t{r.Get<uint16_t>("value")};
    case GgufValueType::kInt16: return int64_t{r.Get<int16_t>("value")};
    case GgufValueType::kUint32: return uint64_t{r.Get<uint32_t>("value")};
    case GgufValueType::kInt32: return int64_t{r.Get<int32_t>("value")};
    case GgufValueType::kUint64: return r.Get<uint64_t>("value");
    case GgufValueType::kInt64: return r.Get<int64_t>("value");
    case GgufValueType::kFloat32: return double{r.Get<float>("value")};
    case GgufValueType::kFloat64: return r.Get<double>("value");
    case GgufValueType::kBool: return ReadBool(r, path, key);
    case GgufValueType::kString: return r.String("string value");
    case GgufValueType::kArray: {
      GgufArray a;
      a.elem_type = r.Get<uint32_t>("array element type");
      uint64_t n = r.Get<uint64_t>("array length");
      if (a.elem_type == static_cast<uint32_t>(GgufValueType::kArray)) {
        Fail(path, "metadata " + key + ": nested arrays are not supported");
      }
      uint64_t min = MinSize(a.elem_type);
      if (min == 0) {
        Fail(path, "metadata " + key + ": unknown array element type " + std::to_string(a.elem_type));
      }
      if (n > r.remaining() / min) {
        Fail(path, "truncated: metadata " + key + ": array of " + std::to_string(n) +
                       " elements does not fit in the " + std::to_string(r.remaining()) +
                       " bytes left");
      }
      size_t count = static_cast<size_t>(n);
      if (IsIntType(a.elem_type)) {
        a.ints.reserve(count);
        for (size_t i = 0; i < count; ++i) a.ints.push_back(ReadIntElem(r, a.elem_type));
      } else if (a.elem_type == static_cast<uint32_t>(GgufValueType::kFloat32)) {
        a.floats.reserve(count);
        for (size_t i = 0; i < count; ++i) a.floats.push_back(r.Get<float>("array element"));
      } else if (a.elem_type == static_cast<uint32_t>(GgufValueType::kFloat64)) {
        a.floats.reserve(count);
        for (size_t i = 0; i < count; ++i) a.floats.push_back(r.Get<double>("array element"));
      } else if (a.elem_type == static_cast<uint32_t>(GgufValueType::kBool)) {
        a.bools.reserve(count);
        for (size_t i = 0; i < count; ++i) a.bools.push_back(ReadBool(r, path, key));
      } else {
        a.strings.reserve(count);
        for (size_t i = 0; i < count; ++i) a.strings.push_back(r.String("array string"));
      }
      return a;
    }
  }
  Fail(path, "metadata " + key + ": unknown value type " + std::to_string(type));
}

std::string Describe(const GgufValue& v) {
  switch (v.index()) {
    case 0: return "an unsigned integer";
    case 1: return "an integer";
    case 2: return "a float";
    case 3: return "a bool";
    case 4: return "a string";
    default: return "an array";
  }
}

}  // namespace

std::string GgmlTypeName(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32: return "F32";
    case GgmlType::kF16: return "F16";
    case GgmlType::kQ4_0: return "Q4_0";
    case GgmlType::kQ4_1: return "Q4_1";
    case GgmlType::kQ5_0: return "Q5_0";
    case GgmlType::kQ5_1: return "Q5_1";
    case GgmlType::kQ8_0: return "Q8_0";
    case GgmlType::kQ8_1: return "Q8_1";
    case GgmlType::kQ2_K: return "Q2_K";
    case GgmlType::kQ3_K: return "Q3_K";
    case GgmlType::kQ4_K: return "Q4_K";
    case GgmlType::kQ5_K: return "Q5_K";
    case GgmlType::kQ6_K: return "Q6_K";
    case GgmlType::kQ8_K: return "Q8_K";
    case GgmlType::kBF16: return "BF16";
  }
  return "type " + std::to_string(type);
}

std::optional<BlockLayout> LayoutOf(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32: return BlockLayout{1, 4};
    case GgmlType::kF16: return BlockLayout{1, 2};
    case GgmlType::kBF16: return BlockLayout{1, 2};
    case GgmlType::kQ8_0: return BlockLayout{32, 34};   // f16 scale + 32 x i8
    case GgmlType::kQ4_0: return BlockLayout{32, 18};   // f16 scale + 16 bytes of nibbles
    case GgmlType::kQ4_K: return BlockLayout{256, 144}; // 2 x f16 + 12 scale bytes + 128
    case GgmlType::kQ6_K: return BlockLayout{256, 210}; // 128 + 64 + 16 scales + f16
    default: return std::nullopt;
  }
}

size_t GgufArray::size() const {
  return ints.size() + floats.size() + bools.size() + strings.size();
}

int64_t GgufTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

int64_t GgufTensor::rows() const {
  if (ne.empty() || ne[0] == 0) return 0;
  return elements() / ne[0];
}

GgufFile GgufFile::Open(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kBadRequest,
                "gguf: cannot open " + path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    Fail(path, "not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      Fail(path, std::string("mmap failed: ") + std::strerror(err));
    }
    f.map_ = m;
    f.map_size_ = size;
    f.base_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);
  f.size_ = size;
  f.Parse();  // on error `f` unmaps in its destructor
  return f;
}

GgufFile GgufFile::FromBuffer(std::string bytes, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  f.owned_ = std::make_unique<std::string>(std::move(bytes));
  f.base_ = reinterpret_cast<const uint8_t*>(f.owned_->data());
  f.size_ = f.owned_->size();
  f.Parse();
  return f;
}

GgufFile::GgufFile(GgufFile&& o) noexcept { *this = std::move(o); }

GgufFile& GgufFile::operator=(GgufFile&& o) noexcept {
  if (this == &o) return *this;
  if (map_ != nullptr) ::munmap(map_, map_size_);
  path_ = std::move(o.path_);
  version_ = o.version_;
  alignment_ = o.alignment_;
  data_offset_ = o.data_offset_;
  metadata_ = std::move(o.metadata_);
  metadata_keys_ = std::move(o.metadata_keys_);
  metadata_types_ = std::move(o.metadata_types_);
  tensors_ = std::move(o.tensors_);
  by_name_ = std::move(o.by_name_);
  map_ = o.map_;
  map_size_ = o.map_size_;
  owned_ = std::move(o.owned_);
  base_ = o.base_;
  size_ = o.size_;
  o.map_ = nullptr;
  o.map_size_ = 0;
  o.base_ = nullptr;
  o.size_ = 0;
  return *this;
}

GgufFile::~GgufFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

void GgufFile::Parse() {
  Reader r(base_, size_, path_);
  if (size_ < 4 || std::memcmp(base_, "GGUF", 4) != 0) Fail(path_, "not a GGUF file (bad magic)");
  r.Get<uint32_t>("magic");
  version_ = r.Get<uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    std::string hint = (version_ & 0xFFFF) == 0 ? " (a big-endian file?)" : "";
    Fail(path_, "unsupported GGUF version " + std::to_string(version_) + hint +
                    "; versions 2 and 3 are supported");
  }
  uint64_t n_tensors = r.Get<uint64_t>("tensor count");
  uint64_t n_kv = r.Get<uint64_t>("metadata count");
  // A key/value is at least 8 (key length) + 4 (type) + 1 bytes.
  if (n_kv > r.remaining() / 13) {
    Fail(path_, "truncated: " + std::to_string(n_kv) + " metadata entries cannot fit in the file");
  }
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = r.String("metadata key", kMaxNameLength);
    uint32_t type = r.Get<uint32_t>("metadata value type");
    if (MinSize(type) == 0) {
      Fail(path_, "metadata " + key + ": unknown value type " + std::to_string(type));
    }
    GgufValue v = ReadValue(r, type, path_, key);
    if (metadata_.count(key) != 0) Fail(path_, "duplicate metadata key " + key);
    metadata_.emplace(key, std::move(v));
    metadata_keys_.push_back(key);
    metadata_types_.emplace(key, static_cast<GgufValueType>(type));
  }

  auto al = metadata_.find("general.alignment");
  if (al != metadata_.end()) {
    const auto* u = std::get_if<uint64_t>(&al->second);
    const auto* s = std::get_if<int64_t>(&al->second);
    int64_t a = u != nullptr ? static_cast<int64_t>(*u & 0xFFFFFFFFu) : s != nullptr ? *s : -1;
    if ((u == nullptr && s == nullptr) || (u != nullptr && *u > 0xFFFFFFFFu) || a <= 0 ||
        (a & (a - 1)) != 0) {
      Fail(path_, "general.alignment must be a power-of-two integer");
    }
    alignment_ = static_cast<uint32_t>(a);
  }

  // A tensor info is at least 8 (name length) + 4 + 8 + 4 + 8 bytes.
  if (n_tensors > r.remaining() / 32) {
    Fail(path_, "truncated: " + std::to_string(n_tensors) + " tensor infos cannot fit in the file");
  }
  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    t.name = r.String("tensor name", kMaxNameLength);
    uint32_t n_dims = r.Get<uint32_t>("tensor dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) {
      Fail(path_, "tensor " + t.name + ": " + std::to_string(n_dims) +
                      " dimensions (1 to 4 are supported)");
    }
    t.ne.resize(n_dims);
    int64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t v = r.Get<uint64_t>("tensor dimension");
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (v != 0 && static_cast<uint64_t>(elements) >
                         static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / v)) {
        Fail(path_, "tensor " + t.name + ": dimensions overflow");
      }
      t.ne[d] = static_cast<int64_t>(v);
      elements *= t.ne[d];
    }
    t.type = r.Get<uint32_t>("tensor type");
    t.offset = r.Get<uint64_t>("tensor offset");
    auto layout = LayoutOf(t.type);
    if (!layout) {
      Fail(path_, "tensor " + t.name + " has unsupported type " + GgmlTypeName(t.type) +
                      " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
    }
    if (t.ne[0] % layout->block_elems != 0) {
      Fail(path_, "tensor " + t.name + ": row length " + std::to_string(t.ne[0]) +
                      " is not a multiple of the " + GgmlTypeName(t.type) + " block size " +
                      std::to_string(layout->block_elems));
    }
    uint64_t blocks = static_cast<uint64_t>(elements / layout->block_elems);
    if (blocks > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(layout->block_bytes)) {
      Fail(path_, "tensor " + t.name + ": size overflows");
    }
    t.bytes = blocks * static_cast<uint64_t>(layout->block_bytes);
    if (t.offset % alignment_ != 0) {
      Fail(path_, "tensor " + t.name + ": data offset " + std::to_string(t.offset) +
                      " is not aligned to " + std::to_string(alignment_));
    }
    if (by_name_.count(t.name) != 0) Fail(path_, "duplicate tensor name " + t.name);
    by_name_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  uint64_t pos = r.pos();
  data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
  if (!tensors_.empty() && data_offset_ > size_) {
    Fail(path_, "truncated: the data section would start at " + std::to_string(data_offset_) +
                    " past the end of the file (" + std::to_string(size_) + " bytes)");
  }
  uint64_t data_size = data_offset_ <= size_ ? size_ - data_offset_ : 0;
  for (auto& t : tensors_) {
    if (t.offset > data_size || t.bytes > data_size - t.offset) {
      Fail(path_, "tensor " + t.name + " (" + std::to_string(t.bytes) + " bytes at data offset " +
                      std::to_string(t.offset) + ") lies past the end of the file");
    }
    t.data = base_ + data_offset_ + t.offset;
  }
}

GgufValueType GgufFile::MetadataType(const std::string& key) const {
  auto it = metadata_types_.find(key);
  if (it == metadata_types_.end()) {
    throw Error(ErrorCode::kNotFound, "gguf: " + path_ + ": no metadata key " + key);
  }
  return it->second;
}

namespace {
const GgufValue& Lookup(const std::map<std::string, GgufValue>& m, const std::string& path,
                        const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) throw Error(ErrorCode::kBadRequest, "gguf: " + path + ": missing metadata key " + key);
  return it->second;
}
[[noreturn]] void WrongType(const std::string& path, const std::string& key, const GgufValue& v,
                            const char* want) {
  throw Error(ErrorCode::kBadRequest, "gguf: " + path + ": metadata " + key + " is " + Describe(v) +
                                          ", expected " + want);
}
}  // namespace

std::string GgufFile::GetString(const std::string& key) const {
  const GgufValue& v = Lookup(metadata_, path_, key);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  WrongType(path_, key, v, "a string");
}

int64_t GgufFile::GetInt(const std::string& key) const {
  const GgufValue& v = Lookup(metadata_, path_, key);
  if (const auto* s = std::get_if<int64_t>(&v)) return *s;
  if (const auto* u = std::get_if<uint64_t>(&v)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error(ErrorCode::kBadRequest, "gguf: " + path_ + ": metadata " + key + " is out of range");
    }
    return static_cast<int64_t>(*u);
  }
  WrongType(path_, key, v, "an integer");
}

double GgufFile::GetFloat(const std::string& key) const {
  const GgufValue& v = Lookup(metadata_, path_, key);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<int64_t>(&v)) return static_cast<double>(*s);
  if (const auto* u = std::get_if<uint64_t>(&v)) return static_cast<double>(*u);
  WrongType(path_, key, v, "a number");
}

bool GgufFile::GetBool(const std::string& key) const {
  const GgufValue& v = Lookup(metadata_, path_, key);
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  WrongType(path_, key, v, "a bool");
}

const GgufArray& GgufFile::GetArray(const std::string& key) const {
  const GgufValue& v = Lookup(metadata_, path_, key);
  if (const auto* a = std::get_if<GgufArray>(&v)) return *a;
  WrongType(path_, key, v, "an array");
}

std::string GgufFile::GetStringOr(const std::string& key, const std::string& fallback) const {
  return Has(key) ? GetString(key) : fallback;
}
int64_t GgufFile::GetIntOr(const std::string& key, int64_t fallback) const {
  return Has(key) ? GetInt(key) : fallback;
}
double GgufFile::GetFloatOr(const std::string& key, double fallback) const {
  return Has(key) ? GetFloat(key) : fallback;
}
bool GgufFile::GetBoolOr(const std::string& key, bool fallback) const {
  return Has(key) ? GetBool(key) : fallback;
}

const GgufTensor* GgufFile::FindTensor(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensor& GgufFile::Tensor(std::string_view name) const {
  const GgufTensor* t = FindTensor(name);
  if (t == nullptr) {
    throw Error(ErrorCode::kBadRequest, "gguf: " + path_ + ": no tensor " + std::string(name));
  }
  return *t;
}

}  // namespace haip::infer
