// Chat prompts: OpenAI-style messages rendered into the text a model was
// trained on, and the model's reply parsed back into content, reasoning and
// tool calls.
//
// Families (chosen from the tokenizer.chat_template text, see Detect):
//   kChatMl  Qwen2 / Qwen2.5: <|im_start|>role\n...<|im_end|>\n. Tools go into
//            the system turn inside <tools></tools>; calls are
//            <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>;
//            results come back as <tool_response> blocks in a user turn.
//   kQwen3   ChatML as above plus <think>...</think> reasoning: kept for the
//            turns after the last user query, dropped before it;
//            enable_thinking = false renders an empty think block.
//   kLlama3  <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>.
//   kLlama31 Llama 3.1-3.3: the system header with "Cutting Knowledge Date"
//            and "Today Date"; tools as JSON in the first user turn; a call is
//            {"name": ..., "parameters": {...}}; results in ipython turns.
//            kLlama3 renders tools this way too.
// The rendering follows each family's Jinja template (Hugging Face
// semantics: tojson writes ", " and ": " separators and non-ASCII as is)
// without running Jinja. Like llama.cpp, the text has no BOS: tokenizing
// with add_special adds it for Llama 3.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "infer/tokenizer.h"

namespace haip::infer {

struct ToolCall {
  std::string id;  // the client's id ("call_..."); empty when parsed from a reply
  std::string name;
  std::string arguments;  // a JSON object as text, as in OpenAI's API
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" or "tool"
  std::string content;
  std::string reasoning_content;     // assistant: thinking (Qwen3); may be empty
  std::vector<ToolCall> tool_calls;  // assistant
  std::string tool_call_id;          // tool: the call this answers
  std::string name;                  // tool: the function's name
};

enum class ChatFamily { kChatMl, kQwen3, kLlama3, kLlama31 };

struct ChatOptions {
  bool add_generation_prompt = true;
  // OpenAI tool definitions ({"type": "function", "function": {"name",
  // "description", "parameters"}}); an ordered_json keeps the client's key
  // order, which the prompt shows.
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();
  // Qwen3: false adds an empty think block so the model answers directly.
  bool enable_thinking = true;
  // Llama 3.1+: the "Today Date" line ("26 Jul 2024" style); empty: the
  // template's own default, or today for templates that use the clock.
  std::string date;
};

// A rendered prompt and where the message contents are in it.
struct ChatPrompt {
  std::string text;
  // Byte ranges of `text` copied from message contents, ascending: special
  // token text inside them must stay text (see Tokenizer::Encode).
  std::vector<TextSpan> literal;
};

// A model reply split into its parts.
struct ChatReply {
  std::string content;
  std::string reasoning_content;
  std::vector<ToolCall> tool_calls;
};

class ChatTemplate {
 public:
  explicit ChatTemplate(ChatFamily family);

  // The family a tokenizer.chat_template is written for, recognised by its
  // markers (<|im_start|>, <think>, <|start_header_id|>, "Cutting Knowledge
  // Date", ...). An empty or unrecognised template falls back on the
  // vocabulary: <|im_start|> -> ChatML, <|start_header_id|> -> Llama 3, else
  // ChatML. A ChatML template's default system prompt (used when the
  // messages have none) is taken from the template text.
  static ChatTemplate Detect(std::string_view jinja, const Tokenizer* vocabulary = nullptr);
  // Detect(tokenizer.chat_template(), &tokenizer).
  static ChatTemplate ForTokenizer(const Tokenizer& tokenizer);

  ChatFamily family() const { return family_; }
  // "chatml", "qwen3", "llama3", "llama3.1".
  std::string_view name() const;
  const std::string& default_system_prompt() const { return default_system_; }

  // Throws haip::Error (kBadRequest) for an unknown role, a tool message
  // with nothing to answer, or a tool definition that is not an object.
  ChatPrompt Render(const std::vector<ChatMessage>& messages,
                    const ChatOptions& options = {}) const;
  // Render, then tokenize: BOS as the vocabulary wants, template markers as
  // special tokens, message contents as text.
  std::vector<TokenId> Tokenize(const Tokenizer& tokenizer,
                                const std::vector<ChatMessage>& messages,
                                const ChatOptions& options = {}) const;

  // Splits generated text (decoded without special tokens). ChatML/Qwen3:
  // <tool_call> blocks become tool calls (an unterminated last block too),
  // text before </think> becomes reasoning. Llama 3: a reply that is one or
  // more {"name": ..., "parameters"|"arguments": {...}} objects (optionally
  // after <|python_tag|>, separated by ';') becomes tool calls. Text that
  // does not parse stays content.
  ChatReply ParseReply(std::string_view text) const;

  // Token texts that end the assistant's turn for this family.
  std::vector<std::string> end_of_turn_texts() const;

 private:
  ChatFamily family_;
  std::string default_system_;
  std::string default_date_;
  bool date_from_clock_ = false;
};

// Python's json.dumps(value, ensure_ascii=False) as Jinja's tojson writes
// it: ", " and ": " separators, or with indent > 0 one item per line.
std::string PythonJson(const nlohmann::ordered_json& value, int indent = -1);

}  // namespace haip::infer
