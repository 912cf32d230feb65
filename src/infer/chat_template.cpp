#include "infer/chat_template.h"

#include <chrono>
#include <cmath>
#include <ctime>

#include "core/error.h"
#include "infer/unicode.h"

namespace haip::infer {
namespace {

using OJson = nlohmann::ordered_json;

bool IsPySpace(uint32_t cp) {
  return (cp >= 0x1C && cp <= 0x1F) || (unicode::Flags(cp) & unicode::kWhitespace);
}

// Python's str.strip() / lstrip() / rstrip() without arguments (Jinja's trim).
std::string_view PyStrip(std::string_view s, bool left = true, bool right = true) {
  size_t b = 0;
  size_t e = s.size();
  if (left) {
    while (b < e) {
      unicode::Utf8Char c = unicode::DecodeUtf8(s, b);
      if (!c.valid || !IsPySpace(c.cp)) break;
      b += c.length;
    }
  }
  if (right) {
    while (e > b) {
      size_t start = e - 1;
      while (start > b && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && e - start < 4) --start;
      unicode::Utf8Char c = unicode::DecodeUtf8(s.substr(0, e), start);
      if (!c.valid || start + c.length != e || !IsPySpace(c.cp)) break;
      e = start;
    }
  }
  return s.substr(b, e - b);
}

// str.strip('\n') and friends.
std::string_view StripNewlines(std::string_view s, bool left = true, bool right = true) {
  while (left && !s.empty() && s.front() == '\n') s.remove_prefix(1);
  while (right && !s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

std::string PythonFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  // nlohmann writes the shortest text that reads back, like Python's repr;
  // only the exponent spelling differs ("1e+16" in both, "1E..." never).
  return OJson(v).dump();
}

void WriteJson(std::string& out, const OJson& v, int indent, int level) {
  auto newline = [&](int lv) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(lv), ' ');
  };
  switch (v.type()) {
    case OJson::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += indent > 0 ? "," : ", ";
        first = false;
        if (indent > 0) newline(level + 1);
        out += OJson(it.key()).dump(-1, ' ', false, OJson::error_handler_t::replace);
        out += ": ";
        WriteJson(out, it.value(), indent, level + 1);
      }
      if (indent > 0) newline(level);
      out.push_back('}');
      return;
    }
    case OJson::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const OJson& item : v) {
        if (!first) out += indent > 0 ? "," : ", ";
        first = false;
        if (indent > 0) newline(level + 1);
        WriteJson(out, item, indent, level + 1);
      }
      if (indent > 0) newline(level);
      out.push_back(']');
      return;
    }
    case OJson::value_t::number_float:
      out += PythonFloat(v.get<double>());
      return;
    default:
      out += v.dump(-1, ' ', false, OJson::error_handler_t::replace);
  }
}

// A tool call's arguments as the templates print them: a JSON object through
// tojson; text that is not JSON as it is.
std::string ArgumentsText(const std::string& arguments) {
  OJson parsed = OJson::parse(arguments, nullptr, false);
  if (parsed.is_discarded()) return arguments;
  return PythonJson(parsed);
}

class PromptBuilder {
 public:
  // Template text: markers are parsed as special tokens.
  PromptBuilder& Markup(std::string_view s) {
    prompt_.text.append(s);
    return *this;
  }
  // Message content: never parsed as special tokens.
  PromptBuilder& Content(std::string_view s) {
    if (s.empty()) return *this;
    prompt_.literal.push_back({prompt_.text.size(), s.size()});
    prompt_.text.append(s);
    return *this;
  }
  ChatPrompt Take() { return std::move(prompt_); }

 private:
  ChatPrompt prompt_;
};

const std::string kQwenToolsIntro =
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
const std::string kQwenToolsOutro =
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
    "within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call><|im_end|>\n";

void QwenTools(PromptBuilder& b, const OJson& tools) {
  b.Markup(kQwenToolsIntro);
  for (const OJson& tool : tools) {
    b.Markup("\n");
    b.Content(PythonJson(tool));
  }
  b.Markup(kQwenToolsOutro);
}

void QwenToolCalls(PromptBuilder& b, const std::vector<ToolCall>& calls,
                   bool newline_before_first) {
  for (size_t k = 0; k < calls.size(); ++k) {
    if (k > 0 || newline_before_first) b.Markup("\n");
    b.Markup("<tool_call>\n{\"name\": \"");
    b.Content(calls[k].name);
    b.Markup("\", \"arguments\": ");
    b.Content(ArgumentsText(calls[k].arguments));
    b.Markup("}\n</tool_call>");
  }
}

void QwenToolResponse(PromptBuilder& b, const std::vector<ChatMessage>& m, size_t i) {
  if (i == 0 || m[i - 1].role != "tool") b.Markup("<|im_start|>user");
  b.Markup("\n<tool_response>\n");
  b.Content(m[i].content);
  b.Markup("\n</tool_response>");
  if (i + 1 == m.size() || m[i + 1].role != "tool") b.Markup("<|im_end|>\n");
}

void CheckMessages(const std::vector<ChatMessage>& messages, const ChatOptions& options) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
      throw Error(ErrorCode::kBadRequest, "message " + std::to_string(i) + ": unknown role '" + r +
                                              "' (expected system, user, assistant or tool)");
    }
    if (!messages[i].tool_calls.empty() && r != "assistant") {
      throw Error(ErrorCode::kBadRequest,
                  "message " + std::to_string(i) + ": only assistant messages carry tool_calls");
    }
    for (const ToolCall& c : messages[i].tool_calls) {
      if (c.name.empty()) {
        throw Error(ErrorCode::kBadRequest,
                    "message " + std::to_string(i) + ": a tool call without a name");
      }
    }
  }
  if (!options.tools.is_array()) throw Error(ErrorCode::kBadRequest, "tools must be an array");
  for (const OJson& t : options.tools) {
    if (!t.is_object()) throw Error(ErrorCode::kBadRequest, "each tool must be a JSON object");
  }
}

std::string Today() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%d %b %Y", &tm);
  return buf;
}

// The text of a ChatML template's default system turn, when it has one
// written out as plain text ("<|im_start|>system\nYou are ...<|im_end|>").
std::string DefaultSystemPrompt(std::string_view jinja) {
  const std::string_view marker = "<|im_start|>system";
  for (size_t at = jinja.find(marker); at != std::string_view::npos;
       at = jinja.find(marker, at + 1)) {
    size_t p = at + marker.size();
    if (jinja.compare(p, 2, "\\n") == 0) {
      p += 2;
    } else if (jinja.compare(p, 1, "\n") == 0) {
      p += 1;
    } else {
      continue;
    }
    const size_t end = jinja.find("<|im_end|>", p);
    if (end == std::string_view::npos) continue;
    std::string_view text = jinja.substr(p, end - p);
    if (text.empty() || text.find_first_of("{}'\"+\\") != std::string_view::npos) continue;
    return std::string(text);
  }
  return "";
}

// The end of the JSON value starting at s[pos] ('{'), or npos.
size_t JsonObjectEnd(std::string_view s, size_t pos) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = pos; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// {"name": ..., "arguments"|"parameters": {...}} -> a call.
bool ToolCallFromJson(std::string_view text, ToolCall& call) {
  OJson j = OJson::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string())
    return false;
  const OJson* args = nullptr;
  if (j.contains("arguments")) {
    args = &j["arguments"];
  } else if (j.contains("parameters")) {
    args = &j["parameters"];
  }
  call.id.clear();
  call.name = j["name"].get<std::string>();
  if (!args || args->is_null()) {
    call.arguments = "{}";
  } else if (args->is_string()) {
    call.arguments = args->get<std::string>();
  } else {
    call.arguments = args->dump(-1, ' ', false, OJson::error_handler_t::replace);
  }
  return !call.name.empty();
}

}  // namespace

std::string PythonJson(const nlohmann::ordered_json& value, int indent) {
  std::string out;
  WriteJson(out, value, indent, 0);
  return out;
}

ChatTemplate::ChatTemplate(ChatFamily family) : family_(family), default_date_("26 Jul 2024") {}

ChatTemplate ChatTemplate::Detect(std::string_view jinja, const Tokenizer* vocabulary) {
  auto has = [&](std::string_view s) { return jinja.find(s) != std::string_view::npos; };
  if (has("<|im_start|>")) {
    ChatTemplate t(has("<think>") ? ChatFamily::kQwen3 : ChatFamily::kChatMl);
    if (t.family_ == ChatFamily::kChatMl) t.default_system_ = DefaultSystemPrompt(jinja);
    return t;
  }
  if (has("<|start_header_id|>")) {
    const bool v31 = has("Cutting Knowledge Date") || has("Environment: ipython") || has("tools");
    ChatTemplate t(v31 ? ChatFamily::kLlama31 : ChatFamily::kLlama3);
    t.date_from_clock_ = has("strftime_now");
    return t;
  }
  if (vocabulary && vocabulary->Find("<|start_header_id|>") != kNoToken)
    return ChatTemplate(ChatFamily::kLlama3);
  return ChatTemplate(ChatFamily::kChatMl);
}

ChatTemplate ChatTemplate::ForTokenizer(const Tokenizer& tokenizer) {
  return Detect(tokenizer.chat_template(), &tokenizer);
}

std::string_view ChatTemplate::name() const {
  switch (family_) {
    case ChatFamily::kChatMl:
      return "chatml";
    case ChatFamily::kQwen3:
      return "qwen3";
    case ChatFamily::kLlama3:
      return "llama3";
    case ChatFamily::kLlama31:
      return "llama3.1";
  }
  return "unknown";
}

std::vector<std::string> ChatTemplate::end_of_turn_texts() const {
  if (family_ == ChatFamily::kLlama3 || family_ == ChatFamily::kLlama31)
    return {"<|eot_id|>", "<|eom_id|>"};
  return {"<|im_end|>"};
}

ChatPrompt ChatTemplate::Render(const std::vector<ChatMessage>& m,
                                const ChatOptions& options) const {
  CheckMessages(m, options);
  PromptBuilder b;
  const bool tools = !options.tools.empty();
  const bool has_system = !m.empty() && m[0].role == "system";
  const size_t n = m.size();

  if (family_ == ChatFamily::kChatMl) {
    if (tools) {
      b.Markup("<|im_start|>system\n");
      if (has_system) {
        b.Content(m[0].content).Markup("\n\n");
      } else if (!default_system_.empty()) {
        b.Markup(default_system_).Markup("\n\n");
      }
      QwenTools(b, options.tools);
    } else if (has_system) {
      b.Markup("<|im_start|>system\n").Content(m[0].content).Markup("<|im_end|>\n");
    } else if (!default_system_.empty()) {
      b.Markup("<|im_start|>system\n" + default_system_ + "<|im_end|>\n");
    }
    for (size_t i = has_system ? 1 : 0; i < n; ++i) {
      const ChatMessage& msg = m[i];
      if (msg.role == "tool") {
        QwenToolResponse(b, m, i);
      } else if (msg.role == "assistant" && !msg.tool_calls.empty()) {
        b.Markup("<|im_start|>assistant");
        if (!msg.content.empty()) b.Markup("\n").Content(msg.content);
        QwenToolCalls(b, msg.tool_calls, true);
        b.Markup("<|im_end|>\n");
      } else {
        b.Markup("<|im_start|>" + msg.role + "\n").Content(msg.content).Markup("<|im_end|>\n");
      }
    }
    if (options.add_generation_prompt) b.Markup("<|im_start|>assistant\n");
    return b.Take();
  }

  if (family_ == ChatFamily::kQwen3) {
    if (tools) {
      b.Markup("<|im_start|>system\n");
      if (has_system) b.Content(m[0].content).Markup("\n\n");
      QwenTools(b, options.tools);
    } else if (has_system) {
      b.Markup("<|im_start|>system\n").Content(m[0].content).Markup("<|im_end|>\n");
    }
    // Reasoning is kept only after the last real user query.
    size_t last_query = n == 0 ? 0 : n - 1;
    for (size_t i = n; i-- > 0;) {
      const std::string& c = m[i].content;
      const bool wrapped_response =
          c.starts_with("<tool_response>") && c.ends_with("</tool_response>");
      if (m[i].role == "user" && !wrapped_response) {
        last_query = i;
        break;
      }
    }
    for (size_t i = has_system ? 1 : 0; i < n; ++i) {
      const ChatMessage& msg = m[i];
      if (msg.role == "tool") {
        QwenToolResponse(b, m, i);
        continue;
      }
      if (msg.role != "assistant") {
        b.Markup("<|im_start|>" + msg.role + "\n").Content(msg.content).Markup("<|im_end|>\n");
        continue;
      }
      std::string_view content = msg.content;
      std::string_view reasoning = msg.reasoning_content;
      if (reasoning.empty()) {
        const size_t close = content.find("</think>");
        if (close != std::string_view::npos) {
          std::string_view before = StripNewlines(content.substr(0, close), false, true);
          const size_t open = before.rfind("<think>");
          if (open != std::string_view::npos) before = before.substr(open + 7);
          reasoning = StripNewlines(before, true, false);
          content = StripNewlines(content.substr(content.rfind("</think>") + 8), true, false);
        }
      }
      if (i > last_query && (i + 1 == n || !reasoning.empty())) {
        b.Markup("<|im_start|>assistant\n<think>\n")
            .Content(StripNewlines(reasoning))
            .Markup("\n</think>\n\n")
            .Content(StripNewlines(content, true, false));
      } else {
        b.Markup("<|im_start|>assistant\n").Content(content);
      }
      QwenToolCalls(b, msg.tool_calls, !content.empty());
      b.Markup("<|im_end|>\n");
    }
    if (options.add_generation_prompt) {
      b.Markup("<|im_start|>assistant\n");
      if (!options.enable_thinking) b.Markup("<think>\n\n</think>\n\n");
    }
    return b.Take();
  }

  bool uses_tools = tools;
  for (const ChatMessage& msg : m) uses_tools |= msg.role == "tool" || !msg.tool_calls.empty();
  if (family_ == ChatFamily::kLlama3 && !uses_tools) {
    for (const ChatMessage& msg : m) {
      b.Markup("<|start_header_id|>" + msg.role + "<|end_header_id|>\n\n")
          .Content(PyStrip(msg.content))
          .Markup("<|eot_id|>");
    }
    if (options.add_generation_prompt)
      b.Markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
    return b.Take();
  }

  // Llama 3.1 and later.
  std::string date = options.date;
  if (date.empty()) date = date_from_clock_ ? Today() : default_date_;
  b.Markup("<|start_header_id|>system<|end_header_id|>\n\n");
  if (tools) b.Markup("Environment: ipython\n");
  b.Markup("Cutting Knowledge Date: December 2023\nToday Date: " + date + "\n\n");
  size_t i = 0;
  if (has_system) b.Content(PyStrip(m[i++].content));
  b.Markup("<|eot_id|>");
  if (tools) {
    if (i == n) {
      throw Error(ErrorCode::kBadRequest,
                  "tools are given in the first user message, and there is none");
    }
    b.Markup(
        "<|start_header_id|>user<|end_header_id|>\n\n"
        "Given the following functions, please respond with a JSON for a function call with its "
        "proper "
        "arguments that best answers the given prompt.\n\n"
        "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument "
        "name and its "
        "value}.Do not use variables.\n\n");
    for (const OJson& tool : options.tools) b.Content(PythonJson(tool, 4)).Markup("\n\n");
    b.Content(PyStrip(m[i++].content)).Markup("<|eot_id|>");
  }
  for (; i < n; ++i) {
    const ChatMessage& msg = m[i];
    if (!msg.tool_calls.empty()) {
      // One call per assistant turn, the format's limit: several calls become
      // consecutive turns.
      for (const ToolCall& call : msg.tool_calls) {
        b.Markup("<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"")
            .Content(call.name)
            .Markup("\", \"parameters\": ")
            .Content(ArgumentsText(call.arguments))
            .Markup("}<|eot_id|>");
      }
    } else if (msg.role == "tool") {
      // The template runs tojson over the content: JSON stays JSON, other
      // text becomes a JSON string.
      OJson parsed = OJson::parse(msg.content, nullptr, false);
      const bool structured = !parsed.is_discarded() && (parsed.is_object() || parsed.is_array());
      b.Markup("<|start_header_id|>ipython<|end_header_id|>\n\n")
          .Content(PythonJson(structured ? parsed : OJson(msg.content)))
          .Markup("<|eot_id|>");
    } else {
      b.Markup("<|start_header_id|>" + msg.role + "<|end_header_id|>\n\n")
          .Content(PyStrip(msg.content))
          .Markup("<|eot_id|>");
    }
  }
  if (options.add_generation_prompt) b.Markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
  return b.Take();
}

std::vector<TokenId> ChatTemplate::Tokenize(const Tokenizer& tokenizer,
                                            const std::vector<ChatMessage>& messages,
                                            const ChatOptions& options) const {
  ChatPrompt p = Render(messages, options);
  return tokenizer.Encode(p.text, true, p.literal);
}

ChatReply ChatTemplate::ParseReply(std::string_view text) const {
  ChatReply reply;
  // Reasoning: everything before </think> (Qwen3, DeepSeek-R1 distills).
  const size_t close = text.find("</think>");
  if (close != std::string_view::npos) {
    std::string_view before = text.substr(0, close);
    const size_t open = before.find("<think>");
    if (open != std::string_view::npos) before = before.substr(open + 7);
    reply.reasoning_content = std::string(PyStrip(before));
    text = StripNewlines(text.substr(close + 8), true, false);
  }

  if (family_ == ChatFamily::kLlama3 || family_ == ChatFamily::kLlama31) {
    std::string_view t = PyStrip(text);
    if (t.starts_with("<|python_tag|>")) t = PyStrip(t.substr(14));
    std::vector<ToolCall> calls;
    size_t pos = 0;
    bool all_calls = !t.empty() && t.front() == '{';
    while (all_calls && pos < t.size()) {
      const size_t end = t[pos] == '{' ? JsonObjectEnd(t, pos) : std::string_view::npos;
      ToolCall call;
      if (end == std::string_view::npos || !ToolCallFromJson(t.substr(pos, end - pos), call)) {
        all_calls = false;
        break;
      }
      calls.push_back(std::move(call));
      pos = end;
      while (pos < t.size() && (t[pos] == ';' || IsPySpace(static_cast<uint8_t>(t[pos])))) ++pos;
    }
    if (all_calls) {
      reply.tool_calls = std::move(calls);
    } else {
      reply.content = std::string(text);
    }
    return reply;
  }

  std::string content;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("<tool_call>", pos);
    if (open == std::string_view::npos) {
      content.append(text.substr(pos));
      break;
    }
    content.append(text.substr(pos, open - pos));
    const size_t body = open + 11;
    const size_t end_tag = text.find("</tool_call>", body);
    const size_t body_end = end_tag == std::string_view::npos ? text.size() : end_tag;
    const size_t next = end_tag == std::string_view::npos ? text.size() : end_tag + 12;
    ToolCall call;
    if (ToolCallFromJson(PyStrip(text.substr(body, body_end - body)), call)) {
      reply.tool_calls.push_back(std::move(call));
    } else {
      content.append(text.substr(open, next - open));
    }
    pos = next;
  }
  reply.content =
      std::string(reply.tool_calls.empty() ? std::string_view(content) : PyStrip(content));
  return reply;
}

}  // namespace haip::infer
