// Helpers for the decoding tests: vocabularies (from a GGUF file's tokenizer
// metadata, or synthetic), a random JSON Schema generator, a JSON Schema
// validator for the subset the grammar converter supports (written
// independently of the converter), and a constrained generation loop driven
// by seeded random logits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "infer/grammar.h"
#include "infer/grammar_constraint.h"

namespace haip::infer::testing {

// ../shared/models, or "" when absent.
std::string SharedModelsDir();

// Token byte strings from tokenizer.ggml.tokens (GPT-2 byte-level strings
// mapped back to bytes; user-defined tokens taken as written), control and
// unused tokens and Qwen's "[PAD<n>]" filler entries marked special, EOS from
// tokenizer.ggml.eos_token_id (and eot_token_id when present).
std::shared_ptr<const DecodeVocab> LoadGgufVocab(const std::string& path);

// A small byte-level vocabulary: every single byte, JSON punctuation pieces,
// digits runs, ASCII words with and without a leading space, some multi-byte
// characters (Chinese, accents, an emoji), tokens that split UTF-8 sequences,
// and special tokens <|endoftext|> (EOS) and <|im_start|>.
std::shared_ptr<const DecodeVocab> SyntheticVocab();

// The GPT-2 byte-level string for `bytes` and back.
std::string Gpt2Encode(const std::string& bytes);
std::string Gpt2Decode(const std::string& text);

// A random schema within the converter's subset (seeded; deterministic).
nlohmann::ordered_json RandomSchema(std::mt19937_64& rng);

// Validates `instance` against `schema` (the subset: type, enum, const,
// properties, required, additionalProperties, items, min/maxItems,
// min/maxLength, pattern, format date/time/date-time/uuid, minimum, maximum,
// exclusive bounds, anyOf, oneOf, allOf, $ref). On failure returns false and
// says where in `why`.
bool ValidateJson(const nlohmann::json& instance, const nlohmann::ordered_json& schema,
                  std::string* why);

struct Generation {
  std::string text;
  int tokens = 0;
  bool finished = false;  // the grammar reached a complete sentence
  bool used_finishing = false;
};

// The next step's logits (vocab size) given the tokens generated so far; a
// model engine plugs in here.
using LogitsSource = std::function<std::span<const float>(const std::vector<int32_t>& generated)>;

// Generates under `grammar`: free sampling (seeded, temperature 1) for
// `free_tokens` tokens, then FillFinishingMask until the grammar is complete.
Generation GenerateConstrained(const std::shared_ptr<const Grammar>& grammar,
                               const std::shared_ptr<const DecodeVocab>& vocab, uint64_t seed,
                               int free_tokens, const LogitsSource& logits);

// The same with seeded random logits standing in for a model.
Generation GenerateWithRandomLogits(const std::shared_ptr<const Grammar>& grammar,
                                    const std::shared_ptr<const DecodeVocab>& vocab, uint64_t seed,
                                    int free_tokens);

}  // namespace haip::infer::testing
