// Issue 6, must-show 2: generations under random JSON schemas all parse and
// validate against their schema. Until the model engine is wired here, the
// "model" is seeded random logits over a real vocabulary (the tokenizer
// metadata of ../shared/models/*.gguf, decoded from GPT-2 byte-level strings)
// and over a small synthetic vocabulary; constrained decoding must make every
// output valid no matter what the logits say.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "decode_testing.h"
#include "infer/json_schema_grammar.h"

namespace haip::infer {
namespace {

using OJson = nlohmann::ordered_json;

struct RunStats {
  int generations = 0;
  int tokens = 0;
  int finishing = 0;
};

// Generates `count` outputs for random schemas and checks each one.
RunStats GenerateAndValidate(const std::shared_ptr<const DecodeVocab>& vocab, int count,
                             uint64_t seed) {
  std::mt19937_64 rng(seed);
  RunStats stats;
  for (int i = 0; i < count; ++i) {
    OJson schema = testing::RandomSchema(rng);
    std::shared_ptr<const Grammar> grammar;
    try {
      grammar = Grammar::Parse(JsonSchemaToGrammar(schema));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "schema " << i << " did not convert: " << e.what() << "\n" << schema.dump(2);
      continue;
    }
    testing::Generation g =
        testing::GenerateWithRandomLogits(grammar, vocab, seed * 1000003 + static_cast<uint64_t>(i),
                                          /*free_tokens=*/48);
    ++stats.generations;
    if (std::getenv("HAIP_DECODE_VERBOSE")) {
      std::cout << "schema: " << schema.dump() << "\noutput (" << g.tokens << " tokens): " << g.text
                << "\n\n";
    }
    stats.tokens += g.tokens;
    stats.finishing += g.used_finishing ? 1 : 0;
    EXPECT_TRUE(g.finished) << "generation " << i << " did not finish: " << g.text;
    nlohmann::json parsed;
    try {
      parsed = nlohmann::json::parse(g.text);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "generation " << i << " is not JSON (" << e.what() << "):\n"
                    << g.text << "\nschema: " << schema.dump() << "\ngrammar:\n"
                    << grammar->source();
      continue;
    }
    std::string why;
    EXPECT_TRUE(testing::ValidateJson(parsed, schema, &why))
        << "generation " << i << " does not validate: " << why << "\noutput: " << g.text
        << "\nschema: " << schema.dump() << "\ngrammar:\n"
        << grammar->source();
  }
  return stats;
}

TEST(SchemaGeneration, SyntheticVocabularyAllValidate) {
  RunStats s = GenerateAndValidate(testing::SyntheticVocab(), 300, 1);
  EXPECT_EQ(s.generations, 300);
  RecordProperty("tokens", s.tokens);
}

TEST(SchemaGeneration, AThousandRandomSchemasOnQwen2VocabularyAllValidate) {
  std::string dir = testing::SharedModelsDir();
  if (dir.empty()) GTEST_SKIP() << "../shared/models is absent; the real-vocabulary run needs it";
  auto vocab = testing::LoadGgufVocab(dir + "/tiny-qwen2.q4_0-pure.gguf");
  ASSERT_GT(vocab->size(), 150000);
  RunStats s = GenerateAndValidate(vocab, 1000, 2);
  EXPECT_EQ(s.generations, 1000);
  std::cout << "qwen2 vocabulary: " << s.generations << " generations, " << s.tokens << " tokens, "
            << s.finishing << " used the finishing mask\n";
}

TEST(SchemaGeneration, Llama3VocabularyAllValidate) {
  std::string dir = testing::SharedModelsDir();
  if (dir.empty()) GTEST_SKIP() << "../shared/models is absent; the real-vocabulary run needs it";
  auto vocab = testing::LoadGgufVocab(dir + "/tiny-llama3.q4_0-pure.gguf");
  ASSERT_GT(vocab->size(), 128000);
  RunStats s = GenerateAndValidate(vocab, 200, 3);
  EXPECT_EQ(s.generations, 200);
}

TEST(SchemaGeneration, RealVocabularyDecodesLikeTheTokenizer) {
  std::string dir = testing::SharedModelsDir();
  if (dir.empty()) GTEST_SKIP() << "../shared/models is absent";
  auto vocab = testing::LoadGgufVocab(dir + "/tiny-qwen2.q4_0-pure.gguf");
  // Qwen2: "!" is token 0, " the" is a single token, <|im_end|> is a control token and EOS-like.
  EXPECT_EQ(vocab->bytes(0), "!");
  bool found_space_the = false;
  for (int32_t t = 0; t < vocab->size() && !found_space_the; ++t)
    found_space_the = vocab->bytes(t) == " the";
  EXPECT_TRUE(found_space_the);
  ASSERT_FALSE(vocab->eos_ids().empty());
  for (int32_t id : vocab->eos_ids())
    EXPECT_TRUE(vocab->is_special(id) || !vocab->bytes(id).empty());
}

}  // namespace
}  // namespace haip::infer
