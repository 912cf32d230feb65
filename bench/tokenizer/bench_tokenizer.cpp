// Tokenizer speed on the shared tiny models' vocabularies (Qwen2 and Llama 3
// byte-level BPE): loading the vocabulary, encoding text whose words repeat
// (the word cache answers most of them), encoding text of distinct words
// (every word merged afresh), and decoding.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "core/json.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"

namespace {

using haip::infer::GgufFile;
using haip::infer::TokenId;
using haip::infer::Tokenizer;

const std::string kModels = std::string(HAIP_SHARED) + "/models";

std::string VocabFile(int which) {
  return kModels + (which == 0 ? "/tiny-qwen2.q8_0.gguf" : "/tiny-llama3.q4_0-pure.gguf");
}

const Tokenizer* Vocab(int which) {
  static std::map<int, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[which];
  if (!slot && std::filesystem::exists(VocabFile(which))) {
    GgufFile f = GgufFile::Open(VocabFile(which));
    slot = std::make_unique<Tokenizer>(Tokenizer::FromGguf(f));
  }
  return slot.get();
}

// The 296 strings of tokenizer-golden.jsonl (English, Chinese, code, emoji,
// whitespace runs, ...), one per line.
const std::string& MixedText() {
  static const std::string text = [] {
    std::string out;
    std::ifstream in(kModels + "/tokenizer-golden.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out += haip::Json::parse(line)["text"].get<std::string>() + "\n";
    }
    return out;
  }();
  return text;
}

// Words that never repeat: random lowercase strings and CJK runs.
std::string DistinctWords(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < bytes) {
    if (rng() % 4 == 0) {
      for (int k = 1 + static_cast<int>(rng() % 4); k > 0; --k) {
        const uint32_t cp = 0x4E00 + rng() % 0x5000;
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      for (int k = 3 + static_cast<int>(rng() % 8); k > 0; --k) out.push_back(static_cast<char>('a' + rng() % 26));
    }
    out.push_back(' ');
  }
  return out;
}

void BM_Load(benchmark::State& state) {
  if (!std::filesystem::exists(VocabFile(static_cast<int>(state.range(0))))) {
    state.SkipWithError("shared models not found");
    return;
  }
  GgufFile f = GgufFile::Open(VocabFile(static_cast<int>(state.range(0))));
  for (auto _ : state) benchmark::DoNotOptimize(Tokenizer::FromGguf(f));
}

void BM_EncodeMixed(benchmark::State& state) {
  const Tokenizer* tok = Vocab(static_cast<int>(state.range(0)));
  if (!tok) {
    state.SkipWithError("shared models not found");
    return;
  }
  const std::string& text = MixedText();
  size_t tokens = 0;
  for (auto _ : state) tokens += tok->Encode(text, true, true).size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_EncodeDistinctWords(benchmark::State& state) {
  const Tokenizer* tok = Vocab(static_cast<int>(state.range(0)));
  if (!tok) {
    state.SkipWithError("shared models not found");
    return;
  }
  uint32_t seed = 1;
  size_t bytes = 0;
  size_t tokens = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string text = DistinctWords(64 * 1024, seed++);
    state.ResumeTiming();
    tokens += tok->Encode(text, false, false).size();
    bytes += text.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state) {
  const Tokenizer* tok = Vocab(static_cast<int>(state.range(0)));
  if (!tok) {
    state.SkipWithError("shared models not found");
    return;
  }
  const std::vector<TokenId> ids = tok->Encode(MixedText(), false, true);
  for (auto _ : state) benchmark::DoNotOptimize(tok->Decode(ids, true));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}

// Argument: 0 = qwen2, 1 = llama-bpe.
BENCHMARK(BM_Load)->ArgName("vocab")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeMixed)->ArgName("vocab")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EncodeDistinctWords)->ArgName("vocab")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->ArgName("vocab")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
