#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <random>

#include "core/crypto.h"
#include "core/error.h"

namespace haip::log {

namespace {
thread_local std::string t_request_id = "-";

class RequestIdFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    dest.append(t_request_id.data(), t_request_id.data() + t_request_id.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RequestIdFlag>();
  }
};
}  // namespace

void Init(std::string_view level, const std::string& file) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    throw Error(ErrorCode::kBadRequest, "unknown log level '" + std::string(level) +
                                            "' (trace, debug, info, warn, error, off)");
  }
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!file.empty()) sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
  auto logger = std::make_shared<spdlog::logger>("haip", sinks.begin(), sinks.end());
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<RequestIdFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%*] %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

std::string_view CurrentRequestId() { return t_request_id; }

RequestIdScope::RequestIdScope(std::string_view id) : previous_(std::move(t_request_id)) {
  t_request_id.assign(id);
}

RequestIdScope::~RequestIdScope() { t_request_id = std::move(previous_); }

std::string NewRequestId() {
  // Request ids need to be unique, not secret: a per-thread generator seeded
  // from the CSPRNG avoids a syscall per request.
  thread_local std::mt19937_64 rng([] {
    std::string seed = crypto::RandomBytes(8);
    uint64_t s = 0;
    for (char c : seed) s = (s << 8) | static_cast<unsigned char>(c);
    return s;
  }());
  static constexpr char kDigits[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) id[i] = kDigits[v & 0xf];
  return id;
}

}  // namespace haip::log
