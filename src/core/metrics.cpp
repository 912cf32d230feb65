#include "core/metrics.h"

#include <fmt/format.h>

#include <array>
#include <atomic>

namespace haip {

const std::vector<double>& Metrics::LatencyBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1,    2.5,
                                              5,      10,    30};
  return buckets;
}

// Per route: counts by status code and one latency histogram; updated with
// atomics so the hot path takes the map lock only to find the entry.
struct Metrics::RouteStats {
  std::string method;
  std::string route;
  std::array<std::atomic<uint64_t>, 600> by_status{};
  std::vector<std::atomic<uint64_t>> buckets;
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_micros{0};
  RouteStats() : buckets(LatencyBuckets().size()) {}
};

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

void Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                             double seconds) {
  std::string key;
  key.reserve(method.size() + route.size() + 1);
  key.append(method).append(" ").append(route);
  RouteStats* stats;
  {
    std::lock_guard lock(mu_);
    auto it = routes_.find(key);
    if (it == routes_.end()) {
      auto s = std::make_unique<RouteStats>();
      s->method = method;
      s->route = route;
      it = routes_.emplace(std::move(key), std::move(s)).first;
    }
    stats = it->second.get();
  }
  if (status < 0 || status >= 600) status = 0;
  stats->by_status[status].fetch_add(1, std::memory_order_relaxed);
  const auto& bounds = LatencyBuckets();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) {
      stats->buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  stats->count.fetch_add(1, std::memory_order_relaxed);
  stats->sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::AddCounter(std::string_view name, std::string_view help, double delta) {
  std::lock_guard lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) it = counters_.emplace(std::string(name), Counter{std::string(help), 0}).first;
  it->second.value += delta;
}

void Metrics::RegisterGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_[std::move(name)] = Gauge{std::move(help), std::move(read)};
}

void Metrics::SetBuildInfo(std::string version, std::string commit) {
  std::lock_guard lock(mu_);
  version_ = std::move(version);
  commit_ = std::move(commit);
}

namespace {
// Label values escape backslash, double quote and newline.
std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::string Metrics::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "# HELP haip_build_info Build of the running server.\n# TYPE haip_build_info gauge\n");
  fmt::format_to(it, "haip_build_info{{version=\"{}\",commit=\"{}\"}} 1\n", EscapeLabel(version_),
                 EscapeLabel(commit_));

  fmt::format_to(it, "# HELP haip_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE haip_http_requests_total counter\n");
  for (const auto& [key, s] : routes_) {
    for (int code = 0; code < 600; ++code) {
      uint64_t n = s->by_status[code].load(std::memory_order_relaxed);
      if (n == 0) continue;
      fmt::format_to(it, "haip_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                     s->method, EscapeLabel(s->route), code, n);
    }
  }
  fmt::format_to(it, "# HELP haip_http_request_duration_seconds HTTP request latency by route.\n"
                     "# TYPE haip_http_request_duration_seconds histogram\n");
  const auto& bounds = LatencyBuckets();
  for (const auto& [key, s] : routes_) {
    std::string labels = fmt::format("method=\"{}\",route=\"{}\"", s->method, EscapeLabel(s->route));
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += s->buckets[i].load(std::memory_order_relaxed);
      fmt::format_to(it, "haip_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                     bounds[i], cumulative);
    }
    uint64_t count = s->count.load(std::memory_order_relaxed);
    fmt::format_to(it, "haip_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, count);
    fmt::format_to(it, "haip_http_request_duration_seconds_sum{{{}}} {}\n", labels,
                   static_cast<double>(s->sum_micros.load(std::memory_order_relaxed)) / 1e6);
    fmt::format_to(it, "haip_http_request_duration_seconds_count{{{}}} {}\n", labels, count);
  }
  for (const auto& [name, c] : counters_) {
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, c.help, name, name, c.value);
  }
  for (const auto& [name, g] : gauges_) {
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, g.help, name, name, g.read());
  }
  return fmt::to_string(out);
}

}  // namespace haip
