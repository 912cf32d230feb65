// Tokenizer tests: llama.cpp's own tokenizer vectors (../shared/data/tokenizer-tests),
// the llama-tokenize goldens for the qwen2 and llama-bpe vocabularies
// (../shared/models), decoding of the golden greedy continuations, and small
// vocabularies written here with GgufWriter.
#include "infer/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/json.h"
#include "infer/gguf.h"
#include "infer/gguf_writer.h"
#include "infer/pre_tokenizer.h"
#include "infer/unicode.h"

namespace haip::infer {
namespace {

const std::string kModels = std::string(HAIP_SHARED) + "/models";
const std::string kVocabs = std::string(HAIP_SHARED) + "/data/tokenizer-tests";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Join(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) s += " " + std::to_string(id);
  return s;
}

// The vocabulary file for a test-vector name: the vocab-only GGUFs, and for
// qwen2 / llama-bpe (whose vocab files are not in ../shared) the tiny models
// that carry the same tokenizer.
std::string VocabPath(const std::string& name) {
  if (name == "qwen2") return kModels + "/tiny-qwen2.q8_0.gguf";
  if (name == "llama-bpe") return kModels + "/tiny-llama3.q4_0-pure.gguf";
  return kVocabs + "/ggml-vocab-" + name + ".gguf";
}

const Tokenizer& Load(const std::string& path) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(path);
  if (it == cache.end()) {
    GgufFile f = GgufFile::Open(path);
    it = cache.emplace(path, std::make_unique<Tokenizer>(Tokenizer::FromGguf(f))).first;
  }
  return *it->second;
}

// ---- llama.cpp test vectors: .inp holds strings separated by
// "\n__ggml_vocab_test__\n", .out one line of ids per string; tokenized with
// add_special = false, parse_special = false.

class VocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectors, MatchLlamaCpp) {
  const std::string name = GetParam();
  const std::string inp = kVocabs + "/ggml-vocab-" + name + ".gguf.inp";
  const std::string vocab = VocabPath(name);
  if (!std::filesystem::exists(inp) || !std::filesystem::exists(vocab)) {
    GTEST_SKIP() << "tokenizer vectors or vocabulary not found under " << HAIP_SHARED;
  }
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  std::string all = ReadFile(inp);
  for (size_t pos = 0; pos < all.size();) {
    size_t at = all.find(sep, pos);
    if (at == std::string::npos) break;
    inputs.push_back(all.substr(pos, at - pos));
    pos = at + sep.size();
  }
  std::vector<std::string> expected;
  std::istringstream out(ReadFile(inp.substr(0, inp.size() - 4) + ".out"));
  for (std::string line; std::getline(out, line);) expected.push_back(line);
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_GE(inputs.size(), 40u);

  const Tokenizer& tok = Load(vocab);
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<TokenId> ids = tok.Encode(inputs[i], false, false);
    EXPECT_EQ(Join(ids), expected[i]) << name << " input " << i << ": '" << inputs[i] << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, VocabVectors,
                         ::testing::Values("gpt-2", "qwen2", "llama-bpe", "deepseek-llm",
                                           "llama-spm", "bert-bge"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---- llama-tokenize goldens: 296 strings, defaults (BOS as the vocabulary
// wants, special tokens parsed).

TEST(TokenizerGolden, MatchesLlamaTokenize) {
  const std::string path = kModels + "/tokenizer-golden.jsonl";
  if (!std::filesystem::exists(path) || !std::filesystem::exists(VocabPath("qwen2"))) {
    GTEST_SKIP() << "tokenizer goldens not found under " << kModels;
  }
  const Tokenizer& qwen = Load(VocabPath("qwen2"));
  const Tokenizer& llama = Load(VocabPath("llama-bpe"));
  std::istringstream in(ReadFile(path));
  int rows = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Json row = Json::parse(line);
    const std::string text = row["text"].get<std::string>();
    EXPECT_EQ(Join(qwen.Encode(text, true, true)), Join(row["qwen2"].get<std::vector<TokenId>>()))
        << "qwen2 row " << row["id"] << " (" << row["category"] << "): '" << text << "'";
    EXPECT_EQ(Join(llama.Encode(text, true, true)),
              Join(row["llama_bpe"].get<std::vector<TokenId>>()))
        << "llama-bpe row " << row["id"] << " (" << row["category"] << "): '" << text << "'";
    // Byte-level BPE loses nothing: decoding with special-token text gives
    // the input back (after the BOS llama-bpe adds).
    std::vector<TokenId> ids = llama.Encode(text, false, true);
    EXPECT_EQ(llama.Decode(ids, true), text);
    EXPECT_EQ(qwen.Decode(qwen.Encode(text, true, true), true), text);
    ++rows;
  }
  EXPECT_EQ(rows, 296);
}

// ---- the prompts of the model goldens, and decoding of their greedy
// continuations.

class ModelGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelGolden, PromptIdsAndGreedyPieces) {
  const std::string base = kModels + "/" + GetParam();
  if (!std::filesystem::exists(base + ".gguf"))
    GTEST_SKIP() << "shared models not found at " << kModels;
  const Tokenizer& tok = Load(base + ".gguf");
  Json golden = Json::parse(ReadFile(base + ".golden.json"));
  EXPECT_EQ(tok.bos(), golden["model"]["tokenizer"]["bos_token_id"].get<TokenId>());
  EXPECT_EQ(tok.eos(), golden["model"]["tokenizer"]["eos_token_id"].get<TokenId>());
  EXPECT_EQ(tok.chat_template(), golden["model"]["tokenizer"]["chat_template"].get<std::string>());
  for (const Json& p : golden["prompts"]) {
    const std::string text = p["prompt_text"].get<std::string>();
    EXPECT_EQ(Join(tok.Encode(text, true, true)), Join(p["token_ids"].get<std::vector<TokenId>>()))
        << GetParam() << " prompt " << p["id"];
    for (const char* config : {"default", "f32kv_nofa"}) {
      const Json& g = p[config]["greedy"];
      const std::vector<TokenId> ids = g["ids"].get<std::vector<TokenId>>();
      if (g.contains("pieces_hex")) {
        for (size_t i = 0; i < ids.size(); ++i) {
          std::string hex;
          for (unsigned char c : tok.Piece(ids[i], true)) {
            static const char* kDigits = "0123456789abcdef";
            hex += kDigits[c >> 4];
            hex += kDigits[c & 15];
          }
          EXPECT_EQ(hex, g["pieces_hex"][i].get<std::string>()) << "token " << ids[i];
        }
      }
      // The golden texts hold U+FFFD where pieces end inside a character.
      EXPECT_EQ(unicode::ToValidUtf8(tok.Decode(ids, false)), g["text"].get<std::string>())
          << GetParam() << " " << p["id"];
      if (g.contains("text_with_special")) {
        EXPECT_EQ(unicode::ToValidUtf8(tok.Decode(ids, true)),
                  g["text_with_special"].get<std::string>());
      }
      for (size_t k = 0; k < g["steps"].size(); ++k) {
        EXPECT_EQ(tok.IsEog(ids[k]), g["steps"][k]["is_eog"].get<bool>()) << "token " << ids[k];
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelGolden,
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

TEST(TokenizerShared, SpecialTokensOfTheModelVocabularies) {
  if (!std::filesystem::exists(VocabPath("qwen2")))
    GTEST_SKIP() << "shared models not found at " << kModels;
  const Tokenizer& qwen = Load(VocabPath("qwen2"));
  EXPECT_EQ(qwen.kind(), VocabKind::kBpe);
  EXPECT_EQ(qwen.pre_tokenizer(), PreTokenizer::kQwen2);
  EXPECT_FALSE(qwen.add_bos());
  EXPECT_EQ(qwen.eot(), qwen.Find("<|im_end|>"));
  EXPECT_TRUE(qwen.IsEog(qwen.Find("<|im_end|>")));
  EXPECT_TRUE(qwen.IsEog(qwen.Find("<|endoftext|>")));
  EXPECT_FALSE(qwen.IsEog(qwen.Find("<|im_start|>")));
  EXPECT_EQ(qwen.type(qwen.Find("<|im_start|>")), TokenType::kControl);
  EXPECT_EQ(qwen.type(qwen.Find("[PAD151650]")), TokenType::kUserDefined);
  // Control text is plain text unless parsing special tokens is asked for;
  // user-defined tokens are always recognised.
  EXPECT_EQ(qwen.Encode("<|im_start|>", false, true), std::vector<TokenId>{151644});
  EXPECT_GT(qwen.Encode("<|im_start|>", false, false).size(), 1u);
  EXPECT_EQ(qwen.Encode("[PAD151650]", false, false), std::vector<TokenId>{151650});
  EXPECT_EQ(qwen.Piece(151644), "");
  EXPECT_EQ(qwen.Piece(151644, true), "<|im_start|>");

  const Tokenizer& llama = Load(VocabPath("llama-bpe"));
  EXPECT_EQ(llama.pre_tokenizer(), PreTokenizer::kLlama3);
  EXPECT_TRUE(llama.add_bos());
  EXPECT_EQ(llama.bos(), 128000);
  EXPECT_EQ(llama.eot(), llama.Find("<|eot_id|>"));
  EXPECT_TRUE(llama.IsEog(128001));
  EXPECT_TRUE(llama.IsEog(128009));
  EXPECT_EQ(llama.Encode("", true, true), std::vector<TokenId>{128000});
  EXPECT_EQ(llama.Encode("", false, true), std::vector<TokenId>{});
}

TEST(TokenizerShared, SentencePieceAndWordPieceDecoding) {
  if (!std::filesystem::exists(VocabPath("llama-spm")))
    GTEST_SKIP() << "vocab files not found at " << kVocabs;
  const Tokenizer& spm = Load(VocabPath("llama-spm"));
  EXPECT_EQ(spm.kind(), VocabKind::kSpm);
  const std::string text = "Hello world! 我想在apple工作1314151天～ \xF0\x9F\xA6\x99";
  std::vector<TokenId> ids = spm.Encode(text, true, false);
  EXPECT_EQ(ids.front(), spm.bos());
  // The space SentencePiece puts in front of the text is removed again when
  // the text starts the sequence; llama.cpp keeps it after a removed BOS.
  EXPECT_EQ(spm.Detokenize(spm.Encode(text, false, false), false, false), text);
  EXPECT_EQ(spm.Detokenize(ids, true, false), " " + text);
  EXPECT_EQ(spm.Detokenize(ids, false, true), "<s> " + text);
  EXPECT_EQ(spm.Decode(ids), " " + text);
  // Byte fallback: the lobster has no token, its four bytes do.
  EXPECT_EQ(spm.type(ids.back()), TokenType::kByte);

  const Tokenizer& bert = Load(VocabPath("bert-bge"));
  EXPECT_EQ(bert.kind(), VocabKind::kWordPiece);
  ids = bert.Encode("Hello, World!", true, false);
  EXPECT_EQ(ids.front(), 101);
  EXPECT_EQ(ids.back(), 102);
  EXPECT_EQ(bert.Detokenize(ids, false, false), " hello, world!");
}

// Arbitrary bytes, random code points and special-token text never make a
// real vocabulary fail; byte-level BPE gives every byte back.
TEST(TokenizerShared, ArbitraryInputNeverFails) {
  if (!std::filesystem::exists(VocabPath("qwen2")) ||
      !std::filesystem::exists(VocabPath("bert-bge"))) {
    GTEST_SKIP() << "vocabularies not found under " << HAIP_SHARED;
  }
  std::mt19937 rng(11);
  const std::vector<std::string> pieces = {"<|im_start|>", "<|eot_id|>",  "[PAD151660]", "<s>",
                                           "[CLS]",        " ",           "\n",          "'s",
                                           "123",          "\xE2\x96\x81"};
  for (const char* name :
       {"qwen2", "llama-bpe", "gpt-2", "deepseek-llm", "llama-spm", "bert-bge"}) {
    const Tokenizer& tok = Load(VocabPath(name));
    for (int i = 0; i < 300; ++i) {
      std::string s;
      const int parts = static_cast<int>(rng() % 12);
      for (int k = 0; k < parts; ++k) {
        switch (rng() % 3) {
          case 0:
            for (int b = static_cast<int>(rng() % 8); b > 0; --b)
              s.push_back(static_cast<char>(rng() % 256));
            break;
          case 1:
            unicode::AppendUtf8(s, static_cast<uint32_t>(rng() % 0x30000));
            break;
          default:
            s += pieces[rng() % pieces.size()];
        }
      }
      std::vector<TokenId> ids = tok.Encode(s, i % 2 == 0, i % 3 == 0);
      for (TokenId id : ids) ASSERT_TRUE(id >= 0 && id < tok.size()) << name;
      const std::string back = tok.Decode(ids, true);
      // DeepSeek's vocabulary has user-defined tokens ("\xC3\xBD") whose
      // text equals a byte token's spelling; like llama.cpp, the later id
      // wins and decodes as UTF-8 text, so it does not give raw bytes back.
      if (tok.kind() == VocabKind::kBpe && tok.pre_tokenizer() != PreTokenizer::kDeepseekLlm) {
        std::string expected = s;
        if (i % 2 == 0 && tok.add_bos()) expected = tok.text(tok.bos()) + expected;
        EXPECT_EQ(back, expected) << name;
      }
      tok.Detokenize(ids, true, false);
    }
  }
}

// ---- small vocabularies written here

struct VocabSpec {
  std::string model = "gpt2";
  std::string pre = "gpt-2";
  std::vector<std::string> tokens;
  std::vector<int32_t> types;  // empty: all normal
  std::vector<float> scores;
  std::vector<std::string> merges;
  std::function<void(GgufWriter&)> extra;
};

Tokenizer MakeTokenizer(const VocabSpec& v) {
  GgufWriter w;
  w.SetString("general.architecture", "llama");
  w.SetString("tokenizer.ggml.model", v.model);
  if (!v.pre.empty()) w.SetString("tokenizer.ggml.pre", v.pre);
  w.SetStringArray("tokenizer.ggml.tokens", v.tokens);
  std::vector<int32_t> types = v.types;
  if (types.empty()) types.assign(v.tokens.size(), 1);
  w.SetInt32Array("tokenizer.ggml.token_type", types);
  if (!v.scores.empty()) w.SetFloat32Array("tokenizer.ggml.scores", v.scores);
  if (v.model == "gpt2") w.SetStringArray("tokenizer.ggml.merges", v.merges);
  if (v.extra) v.extra(w);
  GgufFile f = GgufFile::FromBuffer(w.WriteToString(), "tiny.gguf");
  return Tokenizer::FromGguf(f);
}

// The 256 single-byte tokens of byte-level BPE, in GPT-2 alphabet spelling.
std::vector<std::string> ByteTokens() {
  std::vector<std::string> out;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    std::string s;
    unicode::AppendUtf8(s, printable ? static_cast<uint32_t>(b) : next++);
    out.push_back(s);
  }
  return out;
}

class TinyBpe : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_.tokens = ByteTokens();
    for (const char* t :
         {"he", "ll", "hell", "hello", "\xC4\xA0w", "or", "\xC4\xA0wor", "ab", "bc", "aa"}) {
      spec_.tokens.push_back(t);
    }
    spec_.merges = {"h e",          "l l", "he ll", "hell o", "\xC4\xA0 w", "o r",
                    "\xC4\xA0w or", "a b", "b c",   "a a",    "x y"};  // "xy" is not a token
    spec_.tokens.push_back("<|end|>");
    spec_.tokens.push_back("<tool>");
    spec_.types.assign(spec_.tokens.size(), 1);
    spec_.types[spec_.tokens.size() - 2] = 3;  // control
    spec_.types[spec_.tokens.size() - 1] = 4;  // user-defined
    spec_.extra = [](GgufWriter& w) {
      w.SetUint32("tokenizer.ggml.bos_token_id", 266);
      w.SetUint32("tokenizer.ggml.eos_token_id", 266);
    };
  }
  TokenId Id(const Tokenizer& t, const std::string& s) { return t.Find(s); }
  VocabSpec spec_;
};

TEST_F(TinyBpe, MergesByRankThenLeftmost) {
  Tokenizer t = MakeTokenizer(spec_);
  EXPECT_EQ(t.size(), 268);
  EXPECT_EQ(t.Encode("hello world", false),
            (std::vector<TokenId>{Id(t, "hello"), Id(t, "\xC4\xA0wor"), 'l', 'd'}));
  // "a b" has a lower rank than "b c".
  EXPECT_EQ(t.Encode("abc", false), (std::vector<TokenId>{Id(t, "ab"), 'c'}));
  // Equal ranks: the leftmost pair first.
  EXPECT_EQ(t.Encode("aaa", false), (std::vector<TokenId>{Id(t, "aa"), 'a'}));
  // A merge whose result is not a token leaves its single-byte tokens.
  EXPECT_EQ(t.Encode("xy", false), (std::vector<TokenId>{'x', 'y'}));
  EXPECT_EQ(t.Decode(t.Encode("hello world xy abc")), "hello world xy abc");
}

TEST_F(TinyBpe, MergeRanksFollowListOrder) {
  spec_.merges = {"b c", "a b"};
  Tokenizer t = MakeTokenizer(spec_);
  EXPECT_EQ(t.Encode("abc", false), (std::vector<TokenId>{'a', Id(t, "bc")}));
}

TEST_F(TinyBpe, SpecialTokens) {
  Tokenizer t = MakeTokenizer(spec_);
  const TokenId end = Id(t, "<|end|>");
  const TokenId tool = Id(t, "<tool>");
  EXPECT_EQ(t.type(end), TokenType::kControl);
  EXPECT_TRUE(t.IsEog(end));
  EXPECT_EQ(t.eot(), end);
  // Control text is only a token when parsing special tokens.
  EXPECT_EQ(t.Encode("he<|end|>", false, true), (std::vector<TokenId>{Id(t, "he"), end}));
  std::vector<TokenId> plain = t.Encode("he<|end|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), end), 0);
  EXPECT_EQ(t.Decode(plain), "he<|end|>");
  // User-defined tokens are always recognised and decode to their text.
  EXPECT_EQ(t.Encode("a<tool>b", false, false), (std::vector<TokenId>{'a', tool, 'b'}));
  EXPECT_EQ(t.Decode(t.Encode("a<tool>b", false, false)), "a<tool>b");
  // Control tokens decode to nothing unless asked.
  EXPECT_EQ(t.Piece(end), "");
  EXPECT_EQ(t.Piece(end, true), "<|end|>");
  EXPECT_EQ(t.Decode(std::vector<TokenId>{Id(t, "he"), end}, true), "he<|end|>");
  // No BOS by default for GPT-2 style vocabularies; add_bos_token turns it on.
  EXPECT_FALSE(t.add_bos());
  EXPECT_EQ(t.Encode("he", true).size(), 1u);
  spec_.extra = [](GgufWriter& w) {
    w.SetUint32("tokenizer.ggml.bos_token_id", 266);
    w.SetBool("tokenizer.ggml.add_bos_token", true);
    w.SetBool("tokenizer.ggml.add_eos_token", true);
    w.SetUint32("tokenizer.ggml.eos_token_id", 267);
  };
  Tokenizer with_bos = MakeTokenizer(spec_);
  EXPECT_EQ(with_bos.Encode("he", true), (std::vector<TokenId>{266, Id(t, "he"), 267}));
  EXPECT_EQ(with_bos.Detokenize(with_bos.Encode("he", true), true, false), "he");
}

TEST_F(TinyBpe, LongestSpecialTokenWins) {
  spec_.tokens.push_back("<tool><tool>");
  spec_.types.push_back(4);
  Tokenizer t = MakeTokenizer(spec_);
  EXPECT_EQ(t.Encode("<tool><tool><tool>", false),
            (std::vector<TokenId>{Id(t, "<tool><tool>"), Id(t, "<tool>")}));
}

TEST_F(TinyBpe, ArbitraryBytesNeverFailAndRoundTrip) {
  Tokenizer t = MakeTokenizer(spec_);
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    if (i % 3 == 0) s += "<|end|>hello\xF0\x9F";
    std::vector<TokenId> ids = t.Encode(s, true, i % 2 == 0);
    for (TokenId id : ids) ASSERT_TRUE(id >= 0 && id < t.size());
    EXPECT_EQ(t.Decode(ids, true), s);
  }
  EXPECT_THROW(t.Piece(-1), Error);
  EXPECT_THROW(t.Piece(t.size()), Error);
  EXPECT_THROW(t.Decode(std::vector<TokenId>{1, 100000}), Error);
}

TEST_F(TinyBpe, EveryPreTokenizerLoads) {
  for (const char* pre :
       {"default", "gpt-2", "llama-bpe", "qwen2", "deepseek-r1-qwen", "deepseek-llm", ""}) {
    spec_.pre = pre;
    Tokenizer t = MakeTokenizer(spec_);
    const std::string text = "Hello, world!  It's 2024-11-05 \xE4\xBD\xA0\xE5\xA5\xBD\n\n\tok";
    EXPECT_EQ(t.Decode(t.Encode(text, false)), text) << pre;
  }
}

TEST_F(TinyBpe, ClearErrors) {
  auto expect_error = [](const VocabSpec& v, const std::string& needle) {
    try {
      MakeTokenizer(v);
      ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("tiny.gguf"), std::string::npos) << e.what();
    }
  };
  VocabSpec v = spec_;
  v.pre = "no-such-pre";
  expect_error(v, "unknown pre-tokenizer 'no-such-pre'");
  v = spec_;
  v.model = "rwkv";
  expect_error(v, "unsupported tokenizer model 'rwkv'");
  v = spec_;
  v.types.pop_back();
  expect_error(v, "token_type has 267 entries for 268 tokens");
  v = spec_;
  v.tokens.clear();
  v.types.clear();
  expect_error(v, "tokenizer.ggml.tokens is empty");

  GgufWriter w;
  w.SetString("tokenizer.ggml.model", "gpt2");
  w.SetStringArray("tokenizer.ggml.tokens", {"a"});
  try {
    Tokenizer::FromGguf(GgufFile::FromBuffer(w.WriteToString(), "tiny.gguf"));
    ADD_FAILURE() << "no error for missing merges";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("merges"), std::string::npos) << e.what();
  }
}

TEST_F(TinyBpe, ConcurrentEncodingAgrees) {
  Tokenizer t = MakeTokenizer(spec_);
  const std::string text = "hello world abc aaa xy <tool> hello hello world";
  const std::vector<TokenId> expected = t.Encode(text, false);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (t.Encode(text, false) != expected) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(TinySpm, ScoresAndByteFallback) {
  VocabSpec v;
  v.model = "llama";
  v.pre = "";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {2, 3, 3};
  v.scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    v.tokens.push_back(name);
    v.types.push_back(6);
    v.scores.push_back(0);
  }
  const std::string sp = "\xE2\x96\x81";
  for (auto [t, s] : std::vector<std::pair<std::string, float>>{{sp, -1},
                                                                {"h", -2},
                                                                {"e", -2},
                                                                {"l", -2},
                                                                {"o", -2},
                                                                {sp + "h", -3},
                                                                {"ll", -1.5f},
                                                                {"llo", -1},
                                                                {"he", -4},
                                                                {sp + "he", -0.5f}}) {
    v.tokens.push_back(t);
    v.types.push_back(1);
    v.scores.push_back(s);
  }
  Tokenizer t = MakeTokenizer(v);
  EXPECT_EQ(t.kind(), VocabKind::kSpm);
  EXPECT_TRUE(t.add_bos());
  EXPECT_EQ(t.bos(), 1);
  EXPECT_EQ(t.unk(), 0);
  // ▁ h e l l o: "▁h" (-3) vs "he" (-4) vs "ll" (-1.5): ll first, then
  // ▁h, then ▁he (-0.5), then llo.
  EXPECT_EQ(t.Encode("hello", true), (std::vector<TokenId>{1, t.Find(sp + "he"), t.Find("llo")}));
  // "€" has no token: its three bytes.
  EXPECT_EQ(
      t.Encode("\xE2\x82\xAC", false),
      (std::vector<TokenId>{t.Find(sp), t.Find("<0xE2>"), t.Find("<0x82>"), t.Find("<0xAC>")}));
  EXPECT_EQ(t.Detokenize(t.Encode("hello \xE2\x82\xAC", false), false, false),
            "hello \xE2\x82\xAC");
  EXPECT_EQ(t.Piece(t.Find("<0x41>")), "A");
  // The space prefix comes back after a special token.
  EXPECT_EQ(t.Encode("</s>hello", false, true),
            (std::vector<TokenId>{2, t.Find(sp + "he"), t.Find("llo")}));
  EXPECT_EQ(t.Piece(0), "");
  EXPECT_EQ(t.Piece(0, true), "<unk>");
}

TEST(TinyWordPiece, LowercasesStripsAccentsAndSplitsPunctuation) {
  VocabSpec v;
  v.model = "bert";
  v.pre = "";
  v.tokens = {"[PAD]",
              "[UNK]",
              "[CLS]",
              "[SEP]",
              "[MASK]",
              "\xE2\x96\x81hello",
              "\xE2\x96\x81"
              "caf",
              "e",
              "\xE2\x96\x81,",
              "\xE2\x96\x81!",
              "\xE2\x96\x81\xE4\xBD\xA0"};
  v.types = {3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1};
  v.extra = [](GgufWriter& w) {
    w.SetUint32("tokenizer.ggml.unknown_token_id", 1);
    w.SetUint32("tokenizer.ggml.cls_token_id", 2);
    w.SetUint32("tokenizer.ggml.bos_token_id", 2);
    w.SetUint32("tokenizer.ggml.seperator_token_id", 3);
    w.SetUint32("tokenizer.ggml.padding_token_id", 0);
  };
  Tokenizer t = MakeTokenizer(v);
  EXPECT_EQ(t.kind(), VocabKind::kWordPiece);
  // "Café" -> "cafe" -> ▁caf + e; "xyz" has no pieces -> [UNK]; 你 is a word.
  EXPECT_EQ(t.Encode("HELLO, Caf\xC3\xA9 xyz!\xE4\xBD\xA0", true),
            (std::vector<TokenId>{2, 5, 8, 6, 7, 1, 9, 10, 3}));
  EXPECT_EQ(t.Detokenize(t.Encode("hello!", false), false, false), " hello!");
}

// ---- Unicode helpers and pre-tokenizers on their own

TEST(Unicode, CategoriesCaseAndDecomposition) {
  using namespace unicode;
  EXPECT_EQ(Flags('A'), kLetter);
  EXPECT_EQ(Flags('7'), kNumber);
  EXPECT_EQ(Flags(' '), kSeparator | kWhitespace);
  EXPECT_EQ(Flags('\n'), kOther | kWhitespace);
  EXPECT_EQ(Flags(0xA0), kSeparator | kWhitespace);  // no-break space
  EXPECT_EQ(Flags(0x200D), kOther);                  // zero width joiner
  EXPECT_EQ(Flags(0x4E2D), kLetter);                 // 中
  EXPECT_EQ(Flags(0x0301), kMark);                   // combining acute
  EXPECT_EQ(Flags(0xFF11), kNumber);                 // fullwidth 1
  EXPECT_EQ(Flags(0x1F600), kSymbol);                // emoji
  EXPECT_EQ(Flags(0x0378), kOther);                  // unassigned
  EXPECT_EQ(Flags(0x110000), kOther);
  EXPECT_EQ(Flags(0x1C), kOther);   // not White_Space
  EXPECT_EQ(ToLower(0xC4), 0xE4u);  // Ä
  EXPECT_EQ(ToLower(0x130), 'i');   // İ
  EXPECT_EQ(ToLower('Z'), 'z');
  EXPECT_EQ(NfdFirst(0xE9), 'e');        // é
  EXPECT_EQ(NfdFirst(0x1EA5), 'a');      // ấ, two marks deep
  EXPECT_EQ(NfdFirst(0xD55C), 0x1112u);  // 한 -> ᄒ
  EXPECT_EQ(NfdFirst('x'), 'x');
  EXPECT_STREQ(Version(), "15.0.0");
}

TEST(Unicode, Utf8) {
  using namespace unicode;
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
  EXPECT_EQ(DecodeUtf8(s, 1).cp, 0xE9u);
  EXPECT_EQ(DecodeUtf8(s, 3).cp, 0x4E2Du);
  EXPECT_EQ(DecodeUtf8(s, 6).cp, 0x1F600u);
  EXPECT_EQ(DecodeUtf8(s, 6).length, 4u);
  Utf8Char bad = DecodeUtf8("\xC0\x80", 0);  // overlong
  EXPECT_FALSE(bad.valid);
  EXPECT_EQ(bad.length, 1u);
  EXPECT_FALSE(DecodeUtf8("\xED\xA0\x80", 0).valid);  // surrogate
  EXPECT_FALSE(DecodeUtf8("\xE4\xB8", 0).valid);      // truncated
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE4\xB8"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE4\xB8\xAD"), 5u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xF0\x9F\x98"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\x80"), 3u);
  EXPECT_EQ(ToValidUtf8("a\xE6\x91/b"), "a\xEF\xBF\xBD/b");
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("\xF0\x9F\x98\x80\xFF"), "\xF0\x9F\x98\x80\xEF\xBF\xBD");
  std::string out;
  AppendUtf8(out, 0xD800);
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

std::vector<std::string> Words(PreTokenizer kind, std::string_view text) {
  std::vector<std::string_view> words;
  PreTokenize(kind, text, words);
  return {words.begin(), words.end()};
}

TEST(PreTokenizers, SplitLikeTheirRegexes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Words(PreTokenizer::kGpt2, "Hello  world's 12345!!\n\n x"),
            (V{"Hello", " ", " world", "'s", " 12345", "!!", "\n\n", " x"}));
  EXPECT_EQ(Words(PreTokenizer::kLlama3, "Hello  WORLD'S 12345!!\n\n x"),
            (V{"Hello", " ", " WORLD", "'S", " ", "123", "45", "!!\n\n", " x"}));
  EXPECT_EQ(Words(PreTokenizer::kQwen2, "x=12;  \n\t y"),
            (V{"x", "=", "1", "2", ";", "  \n", "\t", " y"}));
  EXPECT_EQ(Words(PreTokenizer::kQwen2,
                  "\xE6\x82\xA3\xE8\x80\x85"
                  "65\xE5\xB2\x81"),
            (V{"\xE6\x82\xA3\xE8\x80\x85", "6", "5", "\xE5\xB2\x81"}));
  EXPECT_EQ(Words(PreTokenizer::kDefault, "a+b=1234"), (V{"a", "+", "b", "=", "123", "4"}));
  EXPECT_EQ(Words(PreTokenizer::kDeepseekLlm, "Hello, \xE4\xB8\xAD\xE6\x96\x87 42  \n"),
            (V{"Hello", ",", " ", "\xE4\xB8\xAD\xE6\x96\x87", " ", "42", "  ", "\n"}));
  // Invalid UTF-8 bytes are kept, never dropped.
  EXPECT_EQ(Words(PreTokenizer::kQwen2, "a\xFF\xFE b"), (V{"a", "\xFF\xFE", " b"}));
  EXPECT_TRUE(Words(PreTokenizer::kQwen2, "").empty());
  EXPECT_TRUE(LookupPreTokenizer("qwen2").has_value());
  EXPECT_TRUE(LookupPreTokenizer("llama-bpe")->ignore_merges);
  EXPECT_FALSE(LookupPreTokenizer("nope").has_value());
}

}  // namespace
}  // namespace haip::infer
