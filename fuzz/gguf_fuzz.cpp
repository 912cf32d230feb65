// GGUF reader: arbitrary bytes parsed as a model file. Must never crash or
// read outside the buffer; rejection with haip::Error is the expected path.
// Every tensor's first and last data byte is read so ASan catches a data
// pointer that the bounds checks let past the end.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "infer/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = haip::infer::GgufFile::FromBuffer(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    volatile uint8_t sink = 0;
    for (const auto& t : f.tensors()) {
      if (t.bytes > 0) {
        sink = sink ^ t.data[0] ^ t.data[t.bytes - 1];
      }
      if (f.FindTensor(t.name) == nullptr) __builtin_trap();
      (void)t.elements();
      (void)t.rows();
    }
    for (const auto& key : f.metadata_keys()) {
      (void)f.MetadataType(key);
      try {
        (void)f.GetInt(key);
      } catch (const haip::Error&) {
      }
      try {
        (void)f.GetString(key);
      } catch (const haip::Error&) {
      }
    }
  } catch (const haip::Error&) {
  }
  return 0;
}
