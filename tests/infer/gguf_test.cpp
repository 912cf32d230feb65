#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/error.h"
#include "core/json.h"
#include "infer/gguf.h"
#include "infer/gguf_writer.h"

namespace haip::infer {
namespace {

const std::string kModels = std::string(HAIP_SHARED) + "/models";
const std::string kVocabs = std::string(HAIP_SHARED) + "/data/tokenizer-tests";

Json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

// Asserts that `fn` throws haip::Error whose message contains `needle`.
template <typename Fn>
void ExpectError(Fn fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

class GgufModels : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufModels, MatchesGoldenTensorDirectory) {
  std::string base = kModels + "/" + GetParam();
  if (!std::filesystem::exists(base + ".gguf")) GTEST_SKIP() << "shared models not found at " << kModels;
  Json golden = ReadJson(base + ".golden.json");
  GgufFile f = GgufFile::Open(base + ".gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.GetString("general.architecture"), golden["model"]["arch"].get<std::string>());
  EXPECT_EQ(f.GetString("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.GetString("tokenizer.ggml.pre"), golden["model"]["tokenizer"]["pre"].get<std::string>());
  EXPECT_EQ(static_cast<int64_t>(f.GetArray("tokenizer.ggml.tokens").size()),
            golden["model"]["n_vocab"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(f.GetArray("tokenizer.ggml.merges").size()),
            golden["model"]["tokenizer"]["n_merges"].get<int64_t>());
  EXPECT_EQ(f.GetInt("tokenizer.ggml.bos_token_id"),
            golden["model"]["tokenizer"]["bos_token_id"].get<int64_t>());
  std::string arch = f.GetString("general.architecture");
  EXPECT_EQ(f.GetInt(arch + ".block_count"), golden["model"]["n_layer"].get<int64_t>());
  EXPECT_EQ(f.GetInt(arch + ".embedding_length"), golden["model"]["n_embd"].get<int64_t>());
  EXPECT_NEAR(f.GetFloat(arch + ".rope.freq_base"), golden["model"]["rope_freq_base"].get<double>(), 1e-3);

  const Json& tensors = golden["model"]["tensors"];
  ASSERT_EQ(f.tensors().size(), tensors.size());
  uint64_t file_size = std::filesystem::file_size(base + ".gguf");
  std::map<std::string, int> types;
  for (const auto& [name, info] : tensors.items()) {
    const GgufTensor& t = f.Tensor(name);
    EXPECT_EQ(GgmlTypeName(t.type), info["type"].get<std::string>()) << name;
    EXPECT_EQ(t.ne, info["ne"].get<std::vector<int64_t>>()) << name;
    auto layout = LayoutOf(t.type);
    ASSERT_TRUE(layout);
    EXPECT_EQ(t.bytes, static_cast<uint64_t>(t.elements() / layout->block_elems * layout->block_bytes));
    EXPECT_EQ(t.offset % f.alignment(), 0u);
    EXPECT_EQ(t.data, f.Tensor(name).data);
    EXPECT_LE(f.data_offset() + t.offset + t.bytes, file_size);
    types[GgmlTypeName(t.type)]++;
  }
  EXPECT_EQ(f.FindTensor("no.such.tensor"), nullptr);
  ExpectError([&] { f.Tensor("no.such.tensor"); }, "no.such.tensor");
  ExpectError([&] { f.GetInt("tokenizer.ggml.model"); }, "tokenizer.ggml.model");
  ExpectError([&] { f.GetString("missing.key"); }, "missing.key");
  EXPECT_EQ(f.GetIntOr("missing.key", 7), 7);

  // Moving keeps tensor pointers valid (the mapping moves with the object).
  const uint8_t* p = f.tensors()[0].data;
  GgufFile moved = std::move(f);
  EXPECT_EQ(moved.tensors()[0].data, p);
  uint8_t first = p[0];
  (void)first;
  std::string summary;
  for (const auto& [ty, n] : types) summary += ty + "=" + std::to_string(n) + " ";
  std::cout << "[gguf] " << GetParam() << ": arch " << arch << ", " << moved.tensors().size()
            << " tensors (" << summary << "), " << moved.metadata().size() << " metadata keys\n";
}

INSTANTIATE_TEST_SUITE_P(All, GgufModels,
                         ::testing::Values("tiny-qwen2.f32-embf16", "tiny-qwen2.q8_0",
                                           "tiny-qwen2.q4_0-pure", "tiny-llama3.q4_0-pure",
                                           "tiny-qwen3.q4_0-pure"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(Gguf, ReadsVocabOnlyFiles) {
  if (!std::filesystem::exists(kVocabs)) GTEST_SKIP() << "tokenizer-tests not found at " << kVocabs;
  struct Case {
    const char* file;
    const char* model;
    size_t n_tokens;
  };
  for (const Case& c : {Case{"ggml-vocab-gpt-2.gguf", "gpt2", 50257},
                        Case{"ggml-vocab-deepseek-llm.gguf", "gpt2", 102400},
                        Case{"ggml-vocab-llama-spm.gguf", "llama", 32000},
                        Case{"ggml-vocab-bert-bge.gguf", "bert", 30522}}) {
    GgufFile f = GgufFile::Open(kVocabs + "/" + c.file);
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.GetString("tokenizer.ggml.model"), c.model) << c.file;
    EXPECT_EQ(f.GetArray("tokenizer.ggml.tokens").size(), c.n_tokens) << c.file;
  }
}

// The fuzz seeds are valid files, so fuzzing starts from the parser's deep paths.
TEST(Gguf, FuzzSeedsParse) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(HAIP_SOURCE_DIR) + "/fuzz/corpus/gguf")) {
    GgufFile f = GgufFile::Open(e.path().string());
    EXPECT_GT(f.metadata().size() + f.tensors().size(), 0u) << e.path();
    ++n;
  }
  EXPECT_GE(n, 4);
}

TEST(Gguf, MissingFileIsNotFound) {
  try {
    GgufFile::Open("/nonexistent/x.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
}

// A small file with metadata of every type and one tensor of every
// supported type.
GgufWriter SampleWriter(uint32_t alignment) {
  GgufWriter w;
  w.SetString("general.architecture", "test");
  w.SetUint8("t.u8", 200);
  w.SetInt8("t.i8", -100);
  w.SetUint16("t.u16", 60000);
  w.SetInt16("t.i16", -30000);
  w.SetUint32("t.u32", 4000000000u);
  w.SetInt32("t.i32", -2000000000);
  w.SetUint64("t.u64", 1ull << 40);
  w.SetInt64("t.i64", -(1ll << 40));
  w.SetFloat32("t.f32", 0.25f);
  w.SetFloat64("t.f64", 1e-300);
  w.SetBool("t.bool", true);
  w.SetString("t.str", std::string("with\0nul", 8));
  w.SetStringArray("t.strs", {"a", "", "ccc"});
  w.SetInt32Array("t.i32s", {1, -2, 3});
  w.SetFloat32Array("t.f32s", {0.5f, -1.5f});
  GgufArray bools;
  bools.elem_type = static_cast<uint32_t>(GgufValueType::kBool);
  bools.bools = {true, false, true};
  w.SetArray("t.bools", bools);
  GgufArray u8s;
  u8s.elem_type = static_cast<uint32_t>(GgufValueType::kUint8);
  u8s.ints = {0, 255};
  w.SetArray("t.u8s", u8s);
  GgufArray f64s;
  f64s.elem_type = static_cast<uint32_t>(GgufValueType::kFloat64);
  f64s.floats = {3.0};
  w.SetArray("t.f64s", f64s);
  if (alignment != 32) w.SetAlignment(alignment);
  uint8_t seed = 1;
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0,
                        GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    std::vector<int64_t> ne = {LayoutOf(static_cast<uint32_t>(type))->block_elems == 1 ? 3 : 256, 2};
    uint64_t bytes = GgufWriter::TensorBytes(type, ne);
    std::vector<uint8_t> data(bytes);
    for (auto& b : data) b = seed++;
    if (type == GgmlType::kQ4_K) {
      w.AddTensor("w." + GgmlTypeName(static_cast<uint32_t>(type)), type, ne,
                  [data](uint8_t* out) { std::memcpy(out, data.data(), data.size()); });
    } else {
      w.AddTensor("w." + GgmlTypeName(static_cast<uint32_t>(type)), type, ne, data);
    }
  }
  return w;
}

void CheckSample(const GgufFile& f, uint32_t alignment) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.GetString("general.architecture"), "test");
  EXPECT_EQ(f.GetInt("t.u8"), 200);
  EXPECT_EQ(f.GetInt("t.i8"), -100);
  EXPECT_EQ(f.GetInt("t.u16"), 60000);
  EXPECT_EQ(f.GetInt("t.i16"), -30000);
  EXPECT_EQ(f.GetInt("t.u32"), 4000000000ll);
  EXPECT_EQ(f.GetInt("t.i32"), -2000000000);
  EXPECT_EQ(f.GetInt("t.u64"), 1ll << 40);
  EXPECT_EQ(f.GetInt("t.i64"), -(1ll << 40));
  EXPECT_EQ(f.GetFloat("t.f32"), 0.25);
  EXPECT_EQ(f.GetFloat("t.f64"), 1e-300);
  EXPECT_TRUE(f.GetBool("t.bool"));
  EXPECT_EQ(f.GetString("t.str"), std::string("with\0nul", 8));
  EXPECT_EQ(f.GetArray("t.strs").strings, (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f.GetArray("t.i32s").ints, (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.GetArray("t.f32s").floats, (std::vector<double>{0.5, -1.5}));
  EXPECT_EQ(f.GetArray("t.bools").bools, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(f.GetArray("t.u8s").ints, (std::vector<int64_t>{0, 255}));
  EXPECT_EQ(f.GetArray("t.f64s").floats, (std::vector<double>{3.0}));
  EXPECT_EQ(f.MetadataType("t.u16"), GgufValueType::kUint16);
  EXPECT_EQ(f.MetadataType("t.f32"), GgufValueType::kFloat32);
  EXPECT_EQ(f.metadata_keys().front(), "general.architecture");
  ASSERT_EQ(f.tensors().size(), 7u);
  uint8_t seed = 1;
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.name, "w." + GgmlTypeName(t.type));
    EXPECT_EQ(t.offset % alignment, 0u);
    EXPECT_EQ((f.data_offset() + t.offset) % alignment, 0u);
    for (uint64_t i = 0; i < t.bytes; ++i) {
      ASSERT_EQ(t.data[i], seed++) << t.name << " byte " << i;
    }
  }
}

TEST(GgufWriter, RoundTripsEveryValueAndTensorType) {
  for (uint32_t alignment : {32u, 64u, 8u}) {
    GgufWriter w = SampleWriter(alignment);
    std::string bytes = w.WriteToString();
    GgufFile f = GgufFile::FromBuffer(bytes, "sample");
    CheckSample(f, alignment);

    // Through a file, and copying metadata with original types.
    auto path = std::filesystem::temp_directory_path() /
                ("haip-gguf-test-" + std::to_string(::getpid()) + ".gguf");
    w.WriteFile(path.string());
    GgufFile g = GgufFile::Open(path.string());
    CheckSample(g, alignment);
    GgufWriter copy;
    for (const auto& key : g.metadata_keys()) copy.CopyFrom(g, key);
    for (const auto& t : g.tensors()) {
      copy.AddTensor(t.name, static_cast<GgmlType>(t.type), t.ne,
                     std::vector<uint8_t>(t.data, t.data + t.bytes));
    }
    EXPECT_EQ(copy.WriteToString(), bytes);
    std::filesystem::remove(path);
  }
}

TEST(GgufWriter, RejectsBadInput) {
  GgufWriter w;
  ExpectError([&] { w.AddTensor("x", GgmlType::kQ8_0, {33}, std::vector<uint8_t>(34)); }, "block size");
  ExpectError([&] { w.AddTensor("x", GgmlType::kQ5_0, {32}, std::vector<uint8_t>(22)); }, "Q5_0");
  ExpectError([&] { w.AddTensor("x", GgmlType::kF32, {4}, std::vector<uint8_t>(3)); }, "16 expected");
  w.AddTensor("x", GgmlType::kF32, {1}, std::vector<uint8_t>(4));
  ExpectError([&] { w.AddTensor("x", GgmlType::kF32, {1}, std::vector<uint8_t>(4)); }, "duplicate");
  ExpectError([&] { w.SetAlignment(24); }, "power of two");
  GgufArray mismatched;
  mismatched.elem_type = static_cast<uint32_t>(GgufValueType::kString);
  mismatched.ints = {1};
  ExpectError([&] { w.SetArray("a", mismatched); }, "elem_type");
}

// --- hostile input -------------------------------------------------------

std::string Le32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string Le64(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }
std::string Str(const std::string& s) { return Le64(s.size()) + s; }

std::string OneTensorFile(uint32_t type, uint64_t ne0, uint64_t offset, size_t data_bytes) {
  std::string b = "GGUF" + Le32(3) + Le64(1) + Le64(0);
  b += Str("t") + Le32(1) + Le64(ne0) + Le32(type) + Le64(offset);
  b.append((32 - b.size() % 32) % 32, '\0');
  b.append(data_bytes, '\x01');
  return b;
}

TEST(Gguf, EveryTruncationIsAnError) {
  std::string bytes = SampleWriter(32).WriteToString();
  // Up to the end of the last tensor's data; the padding after it is not needed.
  GgufFile full = GgufFile::FromBuffer(bytes);
  const GgufTensor& last = full.tensors().back();
  size_t needed = full.data_offset() + last.offset + last.bytes;
  int errors = 0;
  for (size_t n = 0; n < needed; ++n) {
    try {
      GgufFile::FromBuffer(bytes.substr(0, n));
      ADD_FAILURE() << "prefix of " << n << " bytes parsed";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kBadRequest);
      ++errors;
    }
  }
  EXPECT_EQ(errors, static_cast<int>(needed));
  EXPECT_NO_THROW(GgufFile::FromBuffer(bytes.substr(0, needed)));
}

TEST(Gguf, RejectsHostileHeaders) {
  ExpectError([] { GgufFile::FromBuffer("GGML" + Le32(3) + Le64(0) + Le64(0)); }, "bad magic");
  ExpectError([] { GgufFile::FromBuffer("GGUF" + Le32(1) + Le64(0) + Le64(0)); }, "version 1");
  ExpectError([] { GgufFile::FromBuffer("GGUF" + Le32(3u << 24) + Le64(0) + Le64(0)); }, "big-endian");
  // Counts far beyond the file.
  ExpectError([] { GgufFile::FromBuffer("GGUF" + Le32(3) + Le64(0) + Le64(~0ull)); }, "metadata entries");
  ExpectError([] { GgufFile::FromBuffer("GGUF" + Le32(3) + Le64(~0ull >> 1) + Le64(0)); }, "tensor infos");
  // A string length past the end.
  ExpectError([] { GgufFile::FromBuffer("GGUF" + Le32(3) + Le64(0) + Le64(1) + Le64(1ull << 62) + "k"); },
              "truncated");
  // An array claiming 2^60 elements.
  ExpectError(
      [] {
        GgufFile::FromBuffer("GGUF" + Le32(3) + Le64(0) + Le64(1) + Str("k") + Le32(9) + Le32(4) +
                             Le64(1ull << 60) + std::string(64, '\0'));
      },
      "does not fit");
  ExpectError([] { GgufFile::FromBuffer("GGUF" + Le32(3) + Le64(0) + Le64(1) + Str("k") + Le32(99) + Le64(0)); },
              "unknown value type 99");
  ExpectError(
      [] {
        GgufFile::FromBuffer("GGUF" + Le32(3) + Le64(0) + Le64(1) + Str("k") + Le32(9) + Le32(9) + Le64(0) +
                             std::string(16, '\0'));
      },
      "nested");
  ExpectError([] { GgufFile::FromBuffer("GGUF" + Le32(3) + Le64(0) + Le64(1) + Str("k") + Le32(7) + "\x05"); },
              "bool");
  std::string dup = "GGUF" + Le32(3) + Le64(0) + Le64(2) + Str("k") + Le32(4) + Le32(1) + Str("k") + Le32(4) + Le32(2);
  ExpectError([&] { GgufFile::FromBuffer(dup); }, "duplicate metadata key k");
  std::string align = "GGUF" + Le32(3) + Le64(0) + Le64(1) + Str("general.alignment") + Le32(4) + Le32(24);
  ExpectError([&] { GgufFile::FromBuffer(align); }, "general.alignment");
}

TEST(Gguf, RejectsHostileTensors) {
  EXPECT_NO_THROW(GgufFile::FromBuffer(OneTensorFile(0, 4, 0, 16)));
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(6, 32, 0, 22)); }, "tensor t has unsupported type Q5_0");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(77, 32, 0, 22)); }, "unsupported type type 77");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(0, 5, 0, 16)); }, "past the end");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(0, 1, 16, 64)); }, "not aligned");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(0, 1, (1ull << 63) + 8, 64)); }, "not aligned");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(0, 1, (1ull << 63) - 32, 64)); }, "past the end");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(8, 33, 0, 64)); }, "block size");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(0, 1ull << 60, 0, 64)); }, "past the end");
  ExpectError([] { GgufFile::FromBuffer(OneTensorFile(0, ~0ull, 0, 64)); }, "overflow");
  // Two dimensions whose product overflows.
  std::string b = "GGUF" + Le32(3) + Le64(1) + Le64(0) + Str("t") + Le32(2) + Le64(1ull << 40) +
                  Le64(1ull << 40) + Le32(0) + Le64(0);
  b.append(64, '\0');
  ExpectError([&] { GgufFile::FromBuffer(b); }, "overflow");
  std::string dims = "GGUF" + Le32(3) + Le64(1) + Le64(0) + Str("t") + Le32(5) + std::string(80, '\0');
  ExpectError([&] { GgufFile::FromBuffer(dims); }, "5 dimensions");
}

}  // namespace
}  // namespace haip::infer
