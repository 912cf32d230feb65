#include "core/metrics.h"

#include <gtest/gtest.h>

namespace haip {
namespace {

TEST(Metrics, RendersPrometheusTextWithHistograms) {
  Metrics m;
  m.SetBuildInfo("1.2.3", "abc123");
  m.ObserveRequest("GET", "/api/users", 200, 0.0007);
  m.ObserveRequest("GET", "/api/users", 200, 0.2);
  m.ObserveRequest("GET", "/api/users", 403, 0.0001);
  m.AddCounter("haip_audit_records_total", "Audit records committed.", 3);
  m.RegisterGauge("haip_test_gauge", "A gauge.", [] { return 42.0; });
  std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("haip_build_info{version=\"1.2.3\",commit=\"abc123\"} 1"), std::string::npos);
  EXPECT_NE(text.find("haip_http_requests_total{method=\"GET\",route=\"/api/users\",status=\"200\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("haip_http_requests_total{method=\"GET\",route=\"/api/users\",status=\"403\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("haip_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/users\",le=\"0.001\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("haip_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/users\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("haip_http_request_duration_seconds_count{method=\"GET\",route=\"/api/users\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("haip_audit_records_total 3"), std::string::npos);
  EXPECT_NE(text.find("haip_test_gauge 42"), std::string::npos);
  EXPECT_NE(text.find("# TYPE haip_http_request_duration_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace haip
