#include "infer/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"

namespace haip::infer {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  throw Error(ErrorCode::kBadRequest, "gguf writer: " + what);
}

template <typename T>
void Append(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

void AppendString(std::string& out, const std::string& s) {
  Append<uint64_t>(out, s.size());
  out += s;
}

bool IsInt(GgufValueType t) {
  return static_cast<uint32_t>(t) <= static_cast<uint32_t>(GgufValueType::kInt32) ||
         t == GgufValueType::kUint64 || t == GgufValueType::kInt64;
}

void AppendInt(std::string& out, GgufValueType t, int64_t v) {
  switch (t) {
    case GgufValueType::kUint8: Append<uint8_t>(out, static_cast<uint8_t>(v)); break;
    case GgufValueType::kInt8: Append<int8_t>(out, static_cast<int8_t>(v)); break;
    case GgufValueType::kUint16: Append<uint16_t>(out, static_cast<uint16_t>(v)); break;
    case GgufValueType::kInt16: Append<int16_t>(out, static_cast<int16_t>(v)); break;
    case GgufValueType::kUint32: Append<uint32_t>(out, static_cast<uint32_t>(v)); break;
    case GgufValueType::kInt32: Append<int32_t>(out, static_cast<int32_t>(v)); break;
    case GgufValueType::kUint64: Append<uint64_t>(out, static_cast<uint64_t>(v)); break;
    case GgufValueType::kInt64: Append<int64_t>(out, v); break;
    default: break;
  }
}

void AppendValue(std::string& out, GgufValueType t, const GgufValue& v) {
  if (IsInt(t)) {
    int64_t x = 0;
    if (const auto* u = std::get_if<uint64_t>(&v)) x = static_cast<int64_t>(*u);
    if (const auto* s = std::get_if<int64_t>(&v)) x = *s;
    AppendInt(out, t, x);
    return;
  }
  switch (t) {
    case GgufValueType::kFloat32: Append<float>(out, static_cast<float>(std::get<double>(v))); break;
    case GgufValueType::kFloat64: Append<double>(out, std::get<double>(v)); break;
    case GgufValueType::kBool: Append<uint8_t>(out, std::get<bool>(v) ? 1 : 0); break;
    case GgufValueType::kString: AppendString(out, std::get<std::string>(v)); break;
    case GgufValueType::kArray: {
      const auto& a = std::get<GgufArray>(v);
      auto et = static_cast<GgufValueType>(a.elem_type);
      Append<uint32_t>(out, a.elem_type);
      Append<uint64_t>(out, a.size());
      if (IsInt(et)) {
        for (int64_t x : a.ints) AppendInt(out, et, x);
      } else if (et == GgufValueType::kFloat32) {
        for (double x : a.floats) Append<float>(out, static_cast<float>(x));
      } else if (et == GgufValueType::kFloat64) {
        for (double x : a.floats) Append<double>(out, x);
      } else if (et == GgufValueType::kBool) {
        for (bool x : a.bools) Append<uint8_t>(out, x ? 1 : 0);
      } else {
        for (const auto& s : a.strings) AppendString(out, s);
      }
      break;
    }
    default: break;
  }
}

// The variant alternative a value of type `t` must hold.
bool Matches(GgufValueType t, const GgufValue& v) {
  if (IsInt(t)) return std::holds_alternative<uint64_t>(v) || std::holds_alternative<int64_t>(v);
  switch (t) {
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64: return std::holds_alternative<double>(v);
    case GgufValueType::kBool: return std::holds_alternative<bool>(v);
    case GgufValueType::kString: return std::holds_alternative<std::string>(v);
    case GgufValueType::kArray: return std::holds_alternative<GgufArray>(v);
    default: return false;
  }
}

void CheckArray(const std::string& key, const GgufArray& a) {
  auto et = static_cast<GgufValueType>(a.elem_type);
  size_t filled;
  if (IsInt(et)) {
    filled = a.ints.size();
  } else if (et == GgufValueType::kFloat32 || et == GgufValueType::kFloat64) {
    filled = a.floats.size();
  } else if (et == GgufValueType::kBool) {
    filled = a.bools.size();
  } else if (et == GgufValueType::kString) {
    filled = a.strings.size();
  } else {
    Fail("metadata " + key + ": arrays of type " + std::to_string(a.elem_type) + " cannot be written");
  }
  if (filled != a.size()) Fail("metadata " + key + ": array elements do not match elem_type");
}

}  // namespace

void GgufWriter::Put(const std::string& key, GgufValueType type, GgufValue v) {
  if (!Matches(type, v)) Fail("metadata " + key + ": value does not match its type");
  if (type == GgufValueType::kArray) CheckArray(key, std::get<GgufArray>(v));
  for (auto& e : entries_) {
    if (e.key == key) {
      e.type = type;
      e.value = std::move(v);
      return;
    }
  }
  entries_.push_back({key, type, std::move(v)});
}

void GgufWriter::SetUint8(const std::string& k, uint8_t v) { Put(k, GgufValueType::kUint8, uint64_t{v}); }
void GgufWriter::SetInt8(const std::string& k, int8_t v) { Put(k, GgufValueType::kInt8, int64_t{v}); }
void GgufWriter::SetUint16(const std::string& k, uint16_t v) { Put(k, GgufValueType::kUint16, uint64_t{v}); }
void GgufWriter::SetInt16(const std::string& k, int16_t v) { Put(k, GgufValueType::kInt16, int64_t{v}); }
void GgufWriter::SetUint32(const std::string& k, uint32_t v) { Put(k, GgufValueType::kUint32, uint64_t{v}); }
void GgufWriter::SetInt32(const std::string& k, int32_t v) { Put(k, GgufValueType::kInt32, int64_t{v}); }
void GgufWriter::SetUint64(const std::string& k, uint64_t v) { Put(k, GgufValueType::kUint64, v); }
void GgufWriter::SetInt64(const std::string& k, int64_t v) { Put(k, GgufValueType::kInt64, v); }
void GgufWriter::SetFloat32(const std::string& k, float v) { Put(k, GgufValueType::kFloat32, double{v}); }
void GgufWriter::SetFloat64(const std::string& k, double v) { Put(k, GgufValueType::kFloat64, v); }
void GgufWriter::SetBool(const std::string& k, bool v) { Put(k, GgufValueType::kBool, v); }
void GgufWriter::SetString(const std::string& k, const std::string& v) {
  Put(k, GgufValueType::kString, v);
}
void GgufWriter::SetArray(const std::string& k, GgufArray a) {
  if (a.elem_type == static_cast<uint32_t>(GgufValueType::kArray)) {
    Fail("metadata " + k + ": nested arrays cannot be written");
  }
  Put(k, GgufValueType::kArray, std::move(a));
}
void GgufWriter::SetStringArray(const std::string& k, std::vector<std::string> v) {
  GgufArray a;
  a.elem_type = static_cast<uint32_t>(GgufValueType::kString);
  a.strings = std::move(v);
  SetArray(k, std::move(a));
}
void GgufWriter::SetInt32Array(const std::string& k, const std::vector<int32_t>& v) {
  GgufArray a;
  a.elem_type = static_cast<uint32_t>(GgufValueType::kInt32);
  a.ints.assign(v.begin(), v.end());
  SetArray(k, std::move(a));
}
void GgufWriter::SetFloat32Array(const std::string& k, const std::vector<float>& v) {
  GgufArray a;
  a.elem_type = static_cast<uint32_t>(GgufValueType::kFloat32);
  a.floats.assign(v.begin(), v.end());
  SetArray(k, std::move(a));
}
void GgufWriter::Set(const std::string& k, GgufValueType type, const GgufValue& v) {
  if (type == GgufValueType::kArray && std::holds_alternative<GgufArray>(v)) {
    SetArray(k, std::get<GgufArray>(v));
  } else {
    Put(k, type, v);
  }
}
void GgufWriter::CopyFrom(const GgufFile& f, const std::string& key) {
  auto it = f.metadata().find(key);
  if (it == f.metadata().end()) Fail("metadata " + key + " is not in " + f.path());
  if (key == "general.alignment") {
    SetAlignment(static_cast<uint32_t>(f.alignment()));
    return;
  }
  Set(key, f.MetadataType(key), it->second);
}
void GgufWriter::Remove(const std::string& key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key == key) {
      entries_.erase(it);
      return;
    }
  }
}
bool GgufWriter::Has(const std::string& key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return true;
  }
  return false;
}

void GgufWriter::SetAlignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    Fail("alignment " + std::to_string(alignment) + " is not a power of two");
  }
  alignment_ = alignment;
  if (alignment == 32) {
    Remove("general.alignment");
  } else {
    SetUint32("general.alignment", alignment);
  }
}

uint64_t GgufWriter::TensorBytes(GgmlType type, const std::vector<int64_t>& ne) {
  auto layout = LayoutOf(static_cast<uint32_t>(type));
  if (!layout) Fail("tensor type " + GgmlTypeName(static_cast<uint32_t>(type)) + " is not supported");
  if (ne.empty() || ne.size() > 4) Fail("a tensor has 1 to 4 dimensions");
  uint64_t elements = 1;
  for (int64_t d : ne) {
    if (d < 0) Fail("negative tensor dimension");
    if (d != 0 && elements > std::numeric_limits<uint64_t>::max() / 2 / static_cast<uint64_t>(d)) {
      Fail("tensor dimensions overflow");
    }
    elements *= static_cast<uint64_t>(d);
  }
  if (ne[0] % layout->block_elems != 0) {
    Fail("row length " + std::to_string(ne[0]) + " is not a multiple of the " +
         GgmlTypeName(static_cast<uint32_t>(type)) + " block size " + std::to_string(layout->block_elems));
  }
  return elements / static_cast<uint64_t>(layout->block_elems) * static_cast<uint64_t>(layout->block_bytes);
}

void GgufWriter::AddTensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                           std::vector<uint8_t> data) {
  uint64_t bytes = TensorBytes(type, ne);
  if (data.size() != bytes) {
    Fail("tensor " + name + ": " + std::to_string(data.size()) + " bytes given, " +
         std::to_string(bytes) + " expected");
  }
  for (const auto& t : tensors_) {
    if (t.name == name) Fail("duplicate tensor " + name);
  }
  tensors_.push_back({name, type, std::move(ne), bytes, std::move(data), nullptr});
}

void GgufWriter::AddTensor(const std::string& name, GgmlType type, std::vector<int64_t> ne, Fill fill) {
  uint64_t bytes = TensorBytes(type, ne);
  if (!fill) Fail("tensor " + name + ": no data");
  for (const auto& t : tensors_) {
    if (t.name == name) Fail("duplicate tensor " + name);
  }
  tensors_.push_back({name, type, std::move(ne), bytes, {}, std::move(fill)});
}

std::string GgufWriter::Header(std::vector<uint64_t>* offsets) const {
  std::string out;
  out += "GGUF";
  Append<uint32_t>(out, 3);
  Append<uint64_t>(out, tensors_.size());
  Append<uint64_t>(out, entries_.size());
  for (const auto& e : entries_) {
    AppendString(out, e.key);
    Append<uint32_t>(out, static_cast<uint32_t>(e.type));
    AppendValue(out, e.type, e.value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    AppendString(out, t.name);
    Append<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) Append<uint64_t>(out, static_cast<uint64_t>(d));
    Append<uint32_t>(out, static_cast<uint32_t>(t.type));
    Append<uint64_t>(out, offset);
    offsets->push_back(offset);
    offset += (t.bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  out.append((alignment_ - out.size() % alignment_) % alignment_, '\0');
  return out;
}

template <typename Sink>
void GgufWriter::Emit(Sink& sink) const {
  std::vector<uint64_t> offsets;
  std::string header = Header(&offsets);
  sink(reinterpret_cast<const uint8_t*>(header.data()), header.size());
  std::vector<uint8_t> buf;
  static const uint8_t kZeros[256] = {};
  for (const auto& t : tensors_) {
    if (t.fill) {
      buf.assign(t.bytes, 0);
      t.fill(buf.data());
      sink(buf.data(), buf.size());
    } else {
      sink(t.data.data(), t.data.size());
    }
    uint64_t pad = (alignment_ - t.bytes % alignment_) % alignment_;
    while (pad > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof(kZeros)));
      sink(kZeros, n);
      pad -= n;
    }
  }
}

std::string GgufWriter::WriteToString() const {
  std::string out;
  auto sink = [&out](const uint8_t* p, size_t n) { out.append(reinterpret_cast<const char*>(p), n); };
  Emit(sink);
  return out;
}

void GgufWriter::WriteFile(const std::string& path) const {
  std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    throw Error(ErrorCode::kBadRequest, "gguf writer: cannot create " + tmp + ": " + std::strerror(errno));
  }
  bool ok = true;
  auto sink = [&](const uint8_t* p, size_t n) {
    if (ok && n > 0 && std::fwrite(p, 1, n, f) != n) ok = false;
  };
  try {
    Emit(sink);
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) ok = false;
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error(ErrorCode::kInternal, "gguf writer: writing " + path + " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(ErrorCode::kInternal, "gguf writer: cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
}

}  // namespace haip::infer
