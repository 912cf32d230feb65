// Prometheus metrics: request counts and latency histograms per route, plus
// named gauges and counters that modules register. Rendered in the Prometheus
// text exposition format (version 0.0.4) for GET /metrics.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace haip {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // Records one finished HTTP request. `route` is the route pattern
  // ("/api/users/{username}"), never the raw path, so cardinality stays bounded.
  void ObserveRequest(std::string_view method, std::string_view route, int status, double seconds);

  // A counter added to by modules ("haip_audit_records_total").
  void AddCounter(std::string_view name, std::string_view help, double delta);
  // A gauge read when /metrics is scraped.
  void RegisterGauge(std::string name, std::string help, std::function<double()> read);

  void SetBuildInfo(std::string version, std::string commit);

  std::string RenderPrometheus() const;

  static const std::vector<double>& LatencyBuckets();

 private:
  struct RouteStats;
  struct Counter {
    std::string help;
    double value = 0;
  };
  struct Gauge {
    std::string help;
    std::function<double()> read;
  };

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<RouteStats>, std::less<>> routes_;  // key: method + ' ' + route
  std::map<std::string, Counter, std::less<>> counters_;
  std::map<std::string, Gauge, std::less<>> gauges_;
  std::string version_ = "unknown";
  std::string commit_ = "unknown";
};

}  // namespace haip
