#include "infer/tokenizer.h"

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "core/error.h"
#include "infer/unicode.h"

namespace haip::infer {
namespace {

// GPT-2's byte alphabet: printable Latin-1 bytes stand for themselves, the
// other 68 bytes for U+0100.. in byte order, so every byte string is a string
// of printable characters.
struct ByteAlphabet {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 512> to_byte{};  // code point -> byte, -1 when none
  ByteAlphabet() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? static_cast<uint32_t>(b) : next++;
      to_byte[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};
const ByteAlphabet& Bytes() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

// Byte string -> its GPT-2 alphabet spelling.
void AppendByteLevel(std::string& out, std::string_view bytes) {
  const ByteAlphabet& a = Bytes();
  for (char c : bytes) unicode::AppendUtf8(out, a.to_cp[static_cast<uint8_t>(c)]);
}

// GPT-2 alphabet spelling -> bytes. A character outside the alphabet (a
// vocabulary may hold raw UTF-8 in normal tokens) is kept as it is.
std::string ByteLevelToBytes(std::string_view text) {
  const ByteAlphabet& a = Bytes();
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    unicode::Utf8Char c = unicode::DecodeUtf8(text, pos);
    if (c.valid && c.cp < a.to_byte.size() && a.to_byte[c.cp] >= 0) {
      out.push_back(static_cast<char>(a.to_byte[c.cp]));
    } else {
      out.append(text.substr(pos, c.length));
    }
    pos += c.length;
  }
  return out;
}

// BPE merge ranks keyed by the two symbol ids: open addressing, linear probing.
class MergeTable {
 public:
  struct Value {
    int32_t rank;
    int32_t result;
  };
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    values_.assign(cap, Value{0, 0});
    mask_ = cap - 1;
  }
  // Keeps the first value inserted for a key (the lowest rank).
  void Insert(int32_t a, int32_t b, Value v) {
    const uint64_t key = Key(a, b);
    for (size_t i = Hash(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return;
      if (keys_[i] == kEmpty) {
        keys_[i] = key;
        values_[i] = v;
        ++size_;
        return;
      }
    }
  }
  const Value* Find(int32_t a, int32_t b) const {
    if (keys_.empty() || a < 0 || b < 0) return nullptr;
    const uint64_t key = Key(a, b);
    for (size_t i = Hash(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  static size_t Hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  std::vector<uint64_t> keys_;
  std::vector<Value> values_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Token strings -> ids: open addressing over (hash tag, id) pairs, so a
// probe touches the string only when the hash matches.
class TextIndex {
 public:
  void Build(const std::vector<std::string>& texts) {
    texts_ = &texts;
    size_t cap = 16;
    while (cap < texts.size() * 2) cap <<= 1;
    slots_.assign(cap, Slot{0, 0});
    mask_ = cap - 1;
    for (size_t i = 0; i < texts.size(); ++i) {
      const uint64_t h = Hash(texts[i]);
      for (size_t k = h & mask_;; k = (k + 1) & mask_) {
        Slot& slot = slots_[k];
        if (slot.id_plus_one == 0) {
          slot = {static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(i + 1)};
          break;
        }
        if (slot.tag == static_cast<uint32_t>(h >> 32) && texts[slot.id_plus_one - 1] == texts[i]) {
          slot.id_plus_one =
              static_cast<uint32_t>(i + 1);  // a later duplicate wins, as in llama.cpp
          break;
        }
      }
    }
  }
  TokenId Find(std::string_view s) const {
    if (slots_.empty()) return kNoToken;
    const uint64_t h = Hash(s);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t k = h & mask_;; k = (k + 1) & mask_) {
      const Slot& slot = slots_[k];
      if (slot.id_plus_one == 0) return kNoToken;
      if (slot.tag == tag && (*texts_)[slot.id_plus_one - 1] == s) {
        return static_cast<TokenId>(slot.id_plus_one - 1);
      }
    }
  }

 private:
  struct Slot {
    uint32_t tag;
    uint32_t id_plus_one;
  };
  static uint64_t Hash(std::string_view s) {
    // FNV-1a, then a finaliser so that both halves are well mixed.
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
  }
  const std::vector<std::string>* texts_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// Token ids of recently seen words; words repeat a lot in real text. Sharded
// so that concurrent requests rarely wait for each other.
class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 64;
  bool Get(std::string_view word, std::vector<TokenId>& out) const {
    Shard& s = shards_[ShardOf(word)];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(word);
    if (it == s.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  void Put(std::string_view word, const TokenId* ids, size_t n) const {
    Shard& s = shards_[ShardOf(word)];
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.map.size() >= kEntriesPerShard) s.map.clear();
    s.map.emplace(std::string(word), std::vector<TokenId>(ids, ids + n));
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kEntriesPerShard = 8192;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<TokenId>, Hash, std::equal_to<>> map;
  };
  static size_t ShardOf(std::string_view w) { return std::hash<std::string_view>{}(w) % kShards; }
  mutable std::array<Shard, kShards> shards_;
};

struct Fragment {
  TokenId token;  // kNoToken for text
  size_t begin;
  size_t length;
};

// Hugging Face's clean_up_tokenization_spaces, pass by pass as llama.cpp
// applies it to the detokenized text.
void CleanUpSpaces(std::string& text) {
  auto pass = [&text](auto step) {
    const size_t n = text.size();
    size_t total = n ? 1 : 0;
    for (size_t i = 1; i < n; ++i) step(i, n, total);
    text.resize(total);
  };
  // " ?", " !", " .", " ," lose the space.
  pass([&text](size_t& i, size_t, size_t& total) {
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    text[total++] = x;
  });
  // " ' " loses both spaces.
  pass([&text](size_t& i, size_t n, size_t& total) {
    const char x = text[i];
    if (x == '\'' && i + 1 < n && text[i - 1] == ' ' && text[i + 1] == ' ') {
      --total;
      text[++i] = '\0';
    }
    text[total++] = x;
  });
  // " 's", " 'm", " 're", " 've" lose the space.
  pass([&text](size_t& i, size_t n, size_t& total) {
    const char x = text[i];
    if (text[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = text[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
        const char x2 = text[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    text[total++] = x;
  });
}

bool IsChineseChar(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

const std::string kSpaceMarker = "\xE2\x96\x81";  // U+2581, SentencePiece's space

}  // namespace

struct Tokenizer::Impl {
  std::string source;
  VocabKind kind = VocabKind::kBpe;
  PreTokenizerInfo pre{PreTokenizer::kDefault, false, false, true};

  std::vector<std::string> texts;
  std::vector<TokenType> types;
  std::vector<float> scores;
  TextIndex by_text;
  std::vector<std::string> pieces;  // each token's bytes, control text included
  std::string empty;

  TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
          sep = kNoToken, pad = kNoToken, mask = kNoToken;
  bool add_bos = false, add_eos = false, add_space_prefix = false, clean_spaces = false;
  std::vector<TokenId> eog;
  std::vector<bool> is_eog;
  std::vector<TokenId> specials;  // control, user-defined, unknown; longest text first
  size_t max_token_len = 0;
  std::string chat_template;

  // Byte-level BPE: symbol ids are token ids, and ids past the vocabulary for
  // merge operands that are not tokens themselves.
  std::array<int32_t, 256> byte_symbol{};
  std::vector<std::string> extra_symbols;
  MergeTable merges;
  WordCache cache;

  int32_t n() const { return static_cast<int32_t>(texts.size()); }
  TokenId Lookup(std::string_view s) const { return by_text.Find(s); }

  void Load(const GgufFile& f);
  void LoadMerges(const GgufFile& f);
  void FindSpecialTokens(const GgufFile& f);
  std::string ComputePiece(TokenId id) const;

  std::vector<Fragment> Partition(std::string_view text, bool parse_special,
                                  std::span<const TextSpan> literal) const;
  std::vector<TokenId> Encode(std::string_view text, bool add_special, bool parse_special,
                              std::span<const TextSpan> literal) const;
  void EncodeBpe(std::string_view text, std::vector<TokenId>& out) const;
  void BpeWord(std::string_view word, std::vector<TokenId>& out) const;
  void EncodeSpm(std::string_view text, bool prefix_space, std::vector<TokenId>& out) const;
  TokenId ByteToken(uint8_t b) const;
  void EncodeWordPiece(std::string_view text, std::vector<TokenId>& out) const;
};

void Tokenizer::Impl::Load(const GgufFile& f) {
  source = f.path();
  auto fail = [&](const std::string& what) {
    return Error(ErrorCode::kBadRequest, source + ": tokenizer: " + what);
  };
  if (!f.Has("tokenizer.ggml.model")) throw fail("no tokenizer.ggml.model");
  const std::string model = f.GetString("tokenizer.ggml.model");
  if (model == "gpt2") {
    kind = VocabKind::kBpe;
    const std::string pre_name = f.GetStringOr("tokenizer.ggml.pre", "");
    std::optional<PreTokenizerInfo> info = LookupPreTokenizer(pre_name);
    if (!info) {
      throw fail("unknown pre-tokenizer '" + pre_name + "' (known: " + KnownPreTokenizers() + ")");
    }
    pre = *info;
    add_bos = pre.add_bos;
    clean_spaces = pre.clean_spaces;
  } else if (model == "llama") {
    kind = VocabKind::kSpm;
    bos = 1, eos = 2, unk = 0;
    add_space_prefix = true;
    add_bos = true;
  } else if (model == "bert") {
    kind = VocabKind::kWordPiece;
    bos = 101, unk = 100, sep = 102, pad = 0, mask = 103;
    add_bos = true;
    clean_spaces = true;
  } else {
    throw fail("unsupported tokenizer model '" + model + "' (supported: gpt2, llama, bert)");
  }
  add_space_prefix = f.GetBoolOr("tokenizer.ggml.add_space_prefix", add_space_prefix);

  if (!f.Has("tokenizer.ggml.tokens")) throw fail("no tokenizer.ggml.tokens");
  const GgufArray& tokens = f.GetArray("tokenizer.ggml.tokens");
  if (tokens.elem_type != static_cast<uint32_t>(GgufValueType::kString)) {
    throw fail("tokenizer.ggml.tokens is not an array of strings");
  }
  const size_t count = tokens.strings.size();
  if (count == 0) throw fail("tokenizer.ggml.tokens is empty");
  if (count > static_cast<size_t>(INT32_MAX) / 2) throw fail("too many tokens");
  texts.resize(count);
  types.assign(count, TokenType::kNormal);
  scores.assign(count, 0.0f);
  if (f.Has("tokenizer.ggml.token_type")) {
    const GgufArray& tt = f.GetArray("tokenizer.ggml.token_type");
    if (tt.ints.size() != count) {
      throw fail("tokenizer.ggml.token_type has " + std::to_string(tt.size()) + " entries for " +
                 std::to_string(count) + " tokens");
    }
    for (size_t i = 0; i < count; ++i) {
      const int64_t v = tt.ints[i];
      types[i] = v >= 1 && v <= 6 ? static_cast<TokenType>(v) : TokenType::kUndefined;
    }
  }
  if (f.Has("tokenizer.ggml.scores")) {
    const GgufArray& sc = f.GetArray("tokenizer.ggml.scores");
    if (sc.size() != count || (sc.floats.size() != count && sc.ints.size() != count)) {
      throw fail("tokenizer.ggml.scores has " + std::to_string(sc.size()) + " numbers for " +
                 std::to_string(count) + " tokens");
    }
    for (size_t i = 0; i < count; ++i) {
      scores[i] = static_cast<float>(sc.floats.size() == count ? sc.floats[i]
                                                               : static_cast<double>(sc.ints[i]));
    }
  }
  for (size_t i = 0; i < count; ++i) {
    texts[i] = tokens.strings[i].empty() ? "[EMPTY_" + std::to_string(i) + "]" : tokens.strings[i];
    max_token_len = std::max(max_token_len, texts[i].size());
  }
  by_text.Build(texts);

  if (kind == VocabKind::kBpe) LoadMerges(f);
  FindSpecialTokens(f);

  pieces.resize(count);
  for (size_t i = 0; i < count; ++i) pieces[i] = ComputePiece(static_cast<TokenId>(i));
  chat_template = f.GetStringOr("tokenizer.chat_template", "");
}

void Tokenizer::Impl::LoadMerges(const GgufFile& f) {
  if (!f.Has("tokenizer.ggml.merges")) {
    throw Error(ErrorCode::kBadRequest,
                source + ": tokenizer: gpt2 vocabulary without tokenizer.ggml.merges");
  }
  const GgufArray& list = f.GetArray("tokenizer.ggml.merges");
  std::unordered_map<std::string, int32_t> extra;
  auto symbol = [&](std::string_view s) -> int32_t {
    TokenId id = Lookup(s);
    if (id != kNoToken) return id;
    auto [it, added] =
        extra.emplace(std::string(s), n() + static_cast<int32_t>(extra_symbols.size()));
    if (added) extra_symbols.emplace_back(s);
    return it->second;
  };
  merges.Reserve(list.strings.size());
  std::string joined;
  for (size_t rank = 0; rank < list.strings.size(); ++rank) {
    const std::string_view m = list.strings[rank];
    const size_t space = m.find(' ', 1);
    if (space == std::string_view::npos) continue;
    const std::string_view left = m.substr(0, space);
    const std::string_view right = m.substr(space + 1);
    joined.assign(left);
    joined.append(right);
    const int32_t a = symbol(left);
    const int32_t b = symbol(right);
    const int32_t r = symbol(joined);
    merges.Insert(a, b, {static_cast<int32_t>(rank), r});
  }
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    unicode::AppendUtf8(ch, Bytes().to_cp[b]);
    TokenId id = Lookup(ch);
    if (id == kNoToken) {
      auto it = extra.find(ch);
      id = it == extra.end() ? kNoToken : it->second;
    }
    byte_symbol[b] = id;
  }
}

void Tokenizer::Impl::FindSpecialTokens(const GgufFile& f) {
  auto read_id = [&](const char* key, TokenId& id) {
    if (!f.Has(key)) return;
    const int64_t v = f.GetInt(key);
    if (v >= 0 && v < n()) id = static_cast<TokenId>(v);
  };
  TokenId fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken, fim_pad = kNoToken,
          fim_rep = kNoToken, fim_sep = kNoToken;
  read_id("tokenizer.ggml.bos_token_id", bos);
  read_id("tokenizer.ggml.eos_token_id", eos);
  read_id("tokenizer.ggml.eot_token_id", eot);
  read_id("tokenizer.ggml.eom_token_id", eom);
  read_id("tokenizer.ggml.unknown_token_id", unk);
  read_id("tokenizer.ggml.seperator_token_id", sep);
  read_id("tokenizer.ggml.padding_token_id", pad);
  read_id("tokenizer.ggml.mask_token_id", mask);
  read_id("tokenizer.ggml.fim_pre_token_id", fim_pre);
  read_id("tokenizer.ggml.fim_suf_token_id", fim_suf);
  read_id("tokenizer.ggml.fim_mid_token_id", fim_mid);
  read_id("tokenizer.ggml.fim_pad_token_id", fim_pad);
  read_id("tokenizer.ggml.fim_rep_token_id", fim_rep);
  read_id("tokenizer.ggml.fim_sep_token_id", fim_sep);
  read_id("tokenizer.ggml.prefix_token_id", fim_pre);
  read_id("tokenizer.ggml.suffix_token_id", fim_suf);
  read_id("tokenizer.ggml.middle_token_id", fim_mid);
  add_bos = f.GetBoolOr("tokenizer.ggml.add_bos_token", add_bos);
  add_eos = f.GetBoolOr("tokenizer.ggml.add_eos_token", add_eos);
  // Defaults of the vocabulary kind that this vocabulary is too small for.
  for (TokenId* id : {&bos, &eos, &unk, &sep, &pad, &mask}) {
    if (*id >= n()) *id = kNoToken;
  }

  // Converters do not always write ids for these tokens, so they are also
  // known by their text (the lists llama.cpp uses); a token found that way
  // becomes a control token.
  auto control = [&](TokenId t) {
    if (types[t] != TokenType::kControl && types[t] != TokenType::kUnknown)
      types[t] = TokenType::kControl;
  };
  auto by_text_if_unset = [&](std::initializer_list<std::string_view> names, TokenId& id) {
    if (id != kNoToken) return;
    for (std::string_view name : names) {
      TokenId t = Lookup(name);
      if (t == kNoToken) continue;
      control(t);
      id = t;
      return;
    }
  };
  by_text_if_unset({"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<end_of_utterance>"},
                   eot);
  by_text_if_unset({"<|eom_id|>"}, eom);
  by_text_if_unset(
      {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "<|code_prefix|>", "<|prefix|>"},
      fim_pre);
  by_text_if_unset(
      {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "<|code_suffix|>", "<|suffix|>"},
      fim_suf);
  by_text_if_unset(
      {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "<|code_middle|>", "<|middle|>"},
      fim_mid);
  by_text_if_unset({"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}, fim_pad);
  by_text_if_unset({"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"},
                   fim_rep);
  by_text_if_unset({"<|file_sep|>"}, fim_sep);

  // End of generation: the ids above, and tokens with these texts.
  is_eog.assign(texts.size(), false);
  auto mark = [&](TokenId id) {
    if (id != kNoToken) is_eog[id] = true;
  };
  for (TokenId id : {fim_pad, fim_rep, fim_sep}) mark(id);
  for (std::string_view name : {"<|eot_id|>",
                                "<|im_end|>",
                                "<|end|>",
                                "<|return|>",
                                "<|call|>",
                                "<|flush|>",
                                "<|calls|>",
                                "<end_of_turn>",
                                "<|endoftext|>",
                                "</s>",
                                "<|eom_id|>",
                                "<EOT>",
                                "_<EOT>",
                                "[EOT]",
                                "[EOS]",
                                "<|end_of_text|>",
                                "<end_of_utterance>",
                                "<eos>",
                                "<turn|>",
                                "<|tool_response>"}) {
    TokenId t = Lookup(name);
    if (t == kNoToken) continue;
    control(t);
    mark(t);
  }
  // gpt-oss channel markers are always text.
  for (std::string_view name : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    TokenId t = Lookup(name);
    if (t != kNoToken) types[t] = TokenType::kUserDefined;
  }
  for (TokenId id : {eos, eot, eom}) mark(id);
  // Harmony-style vocabularies (<|return|> and <|call|>, or <|calls|> and
  // <|flush|>) continue after <|end|>; a vocabulary with <|tool_response>
  // uses </s> as text.
  auto eog_text = [&](std::string_view name) {
    TokenId t = Lookup(name);
    return t != kNoToken && is_eog[t] ? t : kNoToken;
  };
  const TokenId end = eog_text("<|end|>");
  const bool has_call = eog_text("<|call|>") != kNoToken || eog_text("<|calls|>") != kNoToken;
  const bool has_return_or_flush =
      eog_text("<|return|>") != kNoToken || eog_text("<|flush|>") != kNoToken;
  if (end != kNoToken && has_call && has_return_or_flush) {
    is_eog[end] = false;
    types[end] = TokenType::kUserDefined;
  }
  const TokenId close_s = eog_text("</s>");
  if (close_s != kNoToken && eog_text("<|tool_response>") != kNoToken) {
    is_eog[close_s] = false;
    types[close_s] = TokenType::kNormal;
  }
  for (TokenId id = 0; id < n(); ++id) {
    if (is_eog[id]) eog.push_back(id);
  }

  for (TokenId id = 0; id < n(); ++id) {
    const TokenType t = types[id];
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
      specials.push_back(id);
    }
  }
  std::stable_sort(specials.begin(), specials.end(),
                   [&](TokenId a, TokenId b) { return texts[a].size() > texts[b].size(); });
}

std::string Tokenizer::Impl::ComputePiece(TokenId id) const {
  const std::string& t = texts[id];
  switch (types[id]) {
    case TokenType::kControl:
    case TokenType::kUserDefined:
    case TokenType::kUnknown:
      return t;
    case TokenType::kNormal:
      break;
    case TokenType::kByte:
      if (kind != VocabKind::kBpe && t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        return std::string(1, static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
      }
      return "";
    default:
      return "";
  }
  if (kind == VocabKind::kBpe) return ByteLevelToBytes(t);
  std::string out;
  size_t pos = 0;
  while (pos < t.size()) {
    if (t.compare(pos, kSpaceMarker.size(), kSpaceMarker) == 0) {
      out.push_back(' ');
      pos += kSpaceMarker.size();
    } else {
      out.push_back(t[pos++]);
    }
  }
  return out;
}

std::vector<Fragment> Tokenizer::Impl::Partition(std::string_view text, bool parse_special,
                                                 std::span<const TextSpan> literal) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({kNoToken, 0, text.size()});
  std::array<bool, 256> present{};
  for (char c : text) present[static_cast<uint8_t>(c)] = true;

  // True when [at, at + len) touches a literal span.
  auto in_literal = [&](size_t at, size_t len) {
    auto it = std::upper_bound(literal.begin(), literal.end(), at,
                               [](size_t v, const TextSpan& s) { return v < s.begin + s.length; });
    return it != literal.end() && it->begin < at + len;
  };

  std::vector<Fragment> next;
  // Longest special token first; each one splits every text fragment at its
  // occurrences, left to right.
  for (TokenId id : specials) {
    const TokenType type = types[id];
    const bool needs_parse = type == TokenType::kControl || type == TokenType::kUnknown;
    if (!parse_special && needs_parse) continue;
    const bool check_literal = needs_parse && !literal.empty();
    const std::string& s = texts[id];
    if (!present[static_cast<uint8_t>(s[0])] || s.size() > text.size()) continue;
    bool changed = false;
    next.clear();
    for (const Fragment& fr : frags) {
      if (fr.token != kNoToken) {
        next.push_back(fr);
        continue;
      }
      size_t begin = fr.begin;
      size_t search = fr.begin;
      const size_t end = fr.begin + fr.length;
      while (search < end) {
        size_t at = text.substr(search, end - search).find(s);
        if (at == std::string_view::npos) break;
        at += search - begin;
        if (check_literal && in_literal(begin + at, s.size())) {
          search = begin + at + 1;
          continue;
        }
        changed = true;
        if (at > 0) next.push_back({kNoToken, begin, at});
        next.push_back({id, begin + at, s.size()});
        begin += at + s.size();
        search = begin;
      }
      if (begin < end) next.push_back({kNoToken, begin, end - begin});
    }
    if (changed) frags.swap(next);
  }
  return frags;
}

void Tokenizer::Impl::BpeWord(std::string_view word, std::vector<TokenId>& out) const {
  if (pre.ignore_merges) {
    std::string spelled;
    AppendByteLevel(spelled, word);
    TokenId id = Lookup(spelled);
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    uint32_t begin;
    uint32_t length;  // 0: merged into the symbol on its left
  };
  struct Candidate {
    int32_t rank;
    int32_t left;
    int32_t right;
    int32_t left_id;
    int32_t right_id;
    int32_t result;
  };
  // Lowest rank first, then leftmost.
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  thread_local std::vector<Symbol> syms;
  thread_local std::vector<Candidate> heap;
  const int32_t n = static_cast<int32_t>(word.size());
  syms.resize(static_cast<size_t>(n));
  heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    syms[i] = {byte_symbol[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1,
               static_cast<uint32_t>(i), 1};
  }
  auto consider = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const MergeTable::Value* m = merges.Find(syms[l].id, syms[r].id);
    if (!m) return;
    heap.push_back({m->rank, l, r, syms[l].id, syms[r].id, m->result});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& l = syms[c.left];
    Symbol& r = syms[c.right];
    if (l.length == 0 || r.length == 0 || l.next != c.right || l.id != c.left_id ||
        r.id != c.right_id) {
      continue;  // stale: one side has changed since
    }
    l.length += r.length;
    l.id = c.result;
    r.length = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  for (int32_t i = 0; i >= 0 && i < n; i = syms[i].next) {
    const Symbol& s = syms[i];
    if (s.id >= 0 && s.id < this->n()) {
      out.push_back(s.id);
      continue;
    }
    // Not a token (only with vocabularies whose merges produce strings they do
    // not list): llama.cpp emits the single bytes of the spelling that are
    // tokens themselves.
    std::string spelled;
    AppendByteLevel(spelled, word.substr(s.begin, s.length));
    for (char ch : spelled) {
      TokenId id = Lookup(std::string_view(&ch, 1));
      if (id != kNoToken) out.push_back(id);
    }
  }
}

void Tokenizer::Impl::EncodeBpe(std::string_view text, std::vector<TokenId>& out) const {
  thread_local std::vector<std::string_view> words;
  thread_local std::vector<TokenId> ids;
  PreTokenize(pre.kind, text, words);
  for (std::string_view w : words) {
    if (w.size() > WordCache::kMaxWordBytes) {
      BpeWord(w, out);
      continue;
    }
    if (cache.Get(w, out)) continue;
    ids.clear();
    BpeWord(w, ids);
    cache.Put(w, ids.data(), ids.size());
    out.insert(out.end(), ids.begin(), ids.end());
  }
}

TokenId Tokenizer::Impl::ByteToken(uint8_t b) const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
  TokenId id = Lookup(std::string_view(name, 6));
  if (id != kNoToken) return id;
  const char raw = static_cast<char>(b);
  id = Lookup(std::string_view(&raw, 1));
  return id != kNoToken ? id : unk;
}

void Tokenizer::Impl::EncodeSpm(std::string_view raw, bool prefix_space,
                                std::vector<TokenId>& out) const {
  std::string text;
  text.reserve(raw.size() + 8);
  if (prefix_space) text += kSpaceMarker;
  for (char c : raw) {
    if (c == ' ') {
      text += kSpaceMarker;
    } else {
      text.push_back(c);
    }
  }
  struct Symbol {
    int32_t prev;
    int32_t next;
    uint32_t begin;
    uint32_t length;
  };
  struct Candidate {
    float score;
    int32_t left;
    int32_t right;
    uint32_t length;
  };
  // Highest score first, then leftmost.
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::vector<Symbol> syms;
  for (size_t pos = 0; pos < text.size();) {
    const size_t len =
        std::min(unicode::Utf8SequenceLength(static_cast<uint8_t>(text[pos])), text.size() - pos);
    const auto i = static_cast<int32_t>(syms.size());
    syms.push_back({i - 1, pos + len < text.size() ? i + 1 : -1, static_cast<uint32_t>(pos),
                    static_cast<uint32_t>(len)});
    pos += len;
  }
  std::vector<Candidate> heap;
  auto consider = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const uint32_t len = syms[l].length + syms[r].length;
    TokenId id = Lookup(std::string_view(text).substr(syms[l].begin, len));
    if (id == kNoToken) return;
    heap.push_back({scores[id], l, r, len});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) consider(i, i + 1);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& l = syms[c.left];
    Symbol& r = syms[c.right];
    if (l.length == 0 || r.length == 0 || l.length + r.length != c.length) continue;
    l.length += r.length;
    r.length = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[i].next) {
    const std::string_view piece = std::string_view(text).substr(syms[i].begin, syms[i].length);
    TokenId id = Lookup(piece);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      TokenId b = ByteToken(static_cast<uint8_t>(c));
      if (b != kNoToken) out.push_back(b);
    }
  }
}

void Tokenizer::Impl::EncodeWordPiece(std::string_view text, std::vector<TokenId>& out) const {
  // Lowercase, keep the first code point of each decomposition (drops
  // accents), split at whitespace; punctuation, ASCII symbols and CJK
  // ideographs are words of their own; controls are dropped.
  std::vector<std::string> words(1);
  for (size_t pos = 0; pos < text.size();) {
    const unicode::Utf8Char ch = unicode::DecodeUtf8(text, pos);
    pos += ch.length;
    const uint32_t cp = unicode::NfdFirst(ch.cp);
    const uint8_t fl = unicode::Flags(cp);
    if (fl & unicode::kWhitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == unicode::kReplacement || (fl & unicode::kOther)) continue;
    std::string s;
    unicode::AppendUtf8(s, unicode::ToLower(cp));
    if ((fl & unicode::kPunctuation) || (cp < 0x7F && (fl & unicode::kSymbol)) ||
        IsChineseChar(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  for (const std::string& w : words) {
    if (w.empty()) continue;
    const std::string word = kSpaceMarker + w;
    const size_t n = word.size();
    const size_t start = out.size();
    for (size_t i = 0; i < n; ++i) {
      bool matched = false;
      for (size_t j = std::min(n, i + max_token_len + 1); j > i; --j) {
        TokenId id = Lookup(std::string_view(word).substr(i, j - i));
        if (id != kNoToken) {
          out.push_back(id);
          matched = true;
          i = j - 1;
          break;
        }
      }
      if (!matched) {
        out.resize(start);  // the whole word becomes [UNK]
        break;
      }
    }
    if (out.size() == start && unk != kNoToken) out.push_back(unk);
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::FromGguf(const GgufFile& file) {
  auto impl = std::make_unique<Impl>();
  impl->Load(file);
  return Tokenizer(std::move(impl));
}

std::vector<TokenId> Tokenizer::Impl::Encode(std::string_view text, bool add_special,
                                             bool parse_special,
                                             std::span<const TextSpan> literal) const {
  const Impl& m = *this;
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  const std::vector<Fragment> frags = m.Partition(text, parse_special, literal);
  switch (m.kind) {
    case VocabKind::kBpe:
      if (add_special && m.add_bos && m.bos != kNoToken) out.push_back(m.bos);
      for (const Fragment& fr : frags) {
        if (fr.token != kNoToken) {
          out.push_back(fr.token);
        } else {
          m.EncodeBpe(text.substr(fr.begin, fr.length), out);
        }
      }
      if (add_special && m.add_eos && m.eos != kNoToken) out.push_back(m.eos);
      break;
    case VocabKind::kSpm: {
      bool after_special =
          true;  // a space is prefixed to text at the start and after a special token
      if (add_special && m.add_bos && m.bos != kNoToken) out.push_back(m.bos);
      for (const Fragment& fr : frags) {
        if (fr.token != kNoToken) {
          out.push_back(fr.token);
          after_special = true;
        } else {
          m.EncodeSpm(text.substr(fr.begin, fr.length), m.add_space_prefix && after_special, out);
          after_special = false;
        }
      }
      if (add_special && m.add_eos && m.eos != kNoToken) out.push_back(m.eos);
      break;
    }
    case VocabKind::kWordPiece:
      if (add_special && m.bos != kNoToken) out.push_back(m.bos);
      for (const Fragment& fr : frags) {
        if (fr.token != kNoToken) {
          out.push_back(fr.token);
        } else {
          m.EncodeWordPiece(text.substr(fr.begin, fr.length), out);
        }
      }
      if (add_special && m.sep != kNoToken) out.push_back(m.sep);
      break;
  }
  return out;
}

std::vector<TokenId> Tokenizer::Encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  return impl_->Encode(text, add_special, parse_special, {});
}

std::vector<TokenId> Tokenizer::Encode(std::string_view text, bool add_special,
                                       std::span<const TextSpan> literal) const {
  return impl_->Encode(text, add_special, true, literal);
}

const std::string& Tokenizer::Piece(TokenId id, bool special) const {
  const Impl& m = *impl_;
  if (id < 0 || id >= m.n()) {
    throw Error(ErrorCode::kBadRequest, "token id " + std::to_string(id) +
                                            " out of range (vocabulary of " +
                                            std::to_string(m.n()) + ")");
  }
  const TokenType t = m.types[id];
  if (!special && (t == TokenType::kControl || t == TokenType::kUnknown)) return m.empty;
  return m.pieces[id];
}

std::string Tokenizer::Decode(std::span<const TokenId> ids, bool special) const {
  std::string out;
  for (TokenId id : ids) out += Piece(id, special);
  return out;
}

std::string Tokenizer::Detokenize(std::span<const TokenId> ids, bool remove_special,
                                  bool unparse_special) const {
  const Impl& m = *impl_;
  bool strip_space = m.add_space_prefix;
  if (remove_special && m.add_bos && !ids.empty() && ids.front() == m.bos) {
    strip_space = false;
    ids = ids.subspan(1);
  }
  if (remove_special && m.add_eos && !ids.empty() && ids.back() == m.eos)
    ids = ids.first(ids.size() - 1);
  std::string out;
  for (TokenId id : ids) {
    std::string_view piece = Piece(id, unparse_special);
    if (strip_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    strip_space = false;
    out += piece;
  }
  if (m.clean_spaces) CleanUpSpaces(out);
  return out;
}

int32_t Tokenizer::size() const { return impl_->n(); }
VocabKind Tokenizer::kind() const { return impl_->kind; }
PreTokenizer Tokenizer::pre_tokenizer() const { return impl_->pre.kind; }

const std::string& Tokenizer::text(TokenId id) const {
  Piece(id, true);  // range check
  return impl_->texts[id];
}
TokenType Tokenizer::type(TokenId id) const {
  Piece(id, true);
  return impl_->types[id];
}
float Tokenizer::score(TokenId id) const {
  Piece(id, true);
  return impl_->scores[id];
}
TokenId Tokenizer::Find(std::string_view text) const { return impl_->Lookup(text); }

TokenId Tokenizer::bos() const { return impl_->bos; }
TokenId Tokenizer::eos() const { return impl_->eos; }
TokenId Tokenizer::eot() const { return impl_->eot; }
TokenId Tokenizer::eom() const { return impl_->eom; }
TokenId Tokenizer::unk() const { return impl_->unk; }
TokenId Tokenizer::sep() const { return impl_->sep; }
TokenId Tokenizer::pad() const { return impl_->pad; }
TokenId Tokenizer::mask() const { return impl_->mask; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
const std::vector<TokenId>& Tokenizer::eog_ids() const { return impl_->eog; }
bool Tokenizer::IsEog(TokenId id) const { return id >= 0 && id < impl_->n() && impl_->is_eog[id]; }
bool Tokenizer::IsSpecial(TokenId id) const {
  if (id < 0 || id >= impl_->n()) return false;
  const TokenType t = impl_->types[id];
  return t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUnused;
}
const std::string& Tokenizer::chat_template() const { return impl_->chat_template; }

}  // namespace haip::infer
