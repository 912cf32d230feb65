// The real server over loopback sockets: keep-alive, limits, graceful shutdown.
#include "api/server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <thread>
#include <utility>

#include "api/app.h"
#include "api_test_support.h"

namespace haip::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions so = {}) {
    app_ = std::make_unique<App>(*tp_.platform);
    app_->AddRoute({"GET", "/api/test/slow", security::Policy::Public(), [](RequestContext&) {
                      std::this_thread::sleep_for(std::chrono::milliseconds(600));
                      return HttpResponse::FromJson(200, Json{{"slow", true}});
                    },
                    "test: a request that takes a while"});
    so.listen = "127.0.0.1:0";
    so.threads = 2;
    server_ = std::make_unique<HttpServer>(*app_, so);
    port_ = server_->Bind();
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  tcp::socket Connect() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)));
    return s;
  }

  http::response<http::string_body> Send(tcp::socket& s, http::verb verb, const std::string& target,
                                         const std::string& body = "", const std::string& token = "") {
    http::request<http::string_body> req(verb, target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }

  haip::testing::TempPlatform tp_;
  std::unique_ptr<App> app_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
  boost::asio::io_context ioc_;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  auto user = *tp_.platform->users().Find("admin");
  std::string token = tp_.platform->tokens().Issue(user, "t", security::TokenKind::kApi, 600).secret;
  auto s = Connect();
  for (int i = 0; i < 20; ++i) {
    auto res = Send(s, http::verb::get, "/api/auth/me", "", token);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(Json::parse(res.body())["username"], "admin");
    EXPECT_EQ(res[http::field::cache_control], "no-store");
    EXPECT_EQ(res["X-Request-Id"].size(), 16u);
  }
  auto health = Send(s, http::verb::get, "/healthz");
  EXPECT_EQ(Json::parse(health.body())["status"], "ok");
}

TEST_F(ServerTest, OversizedBodiesGet413AndMalformedRequests400) {
  ServerOptions so;
  so.max_body_bytes = 1024;
  StartServer(so);
  auto s = Connect();
  auto res = Send(s, http::verb::post, "/api/auth/login", std::string(4096, 'x'));
  EXPECT_EQ(res.result_int(), 413);
  Json body = Json::parse(res.body());
  EXPECT_EQ(body["code"], "payload_too_large");
  EXPECT_FALSE(body["request_id"].get<std::string>().empty());

  auto s2 = Connect();
  std::string garbage = "THIS IS NOT HTTP\r\n\r\n";
  boost::asio::write(s2, boost::asio::buffer(garbage));
  beast::flat_buffer buf;
  http::response<http::string_body> bad;
  http::read(s2, buf, bad);
  EXPECT_EQ(bad.result_int(), 400);
}

TEST_F(ServerTest, ShutdownFinishesRequestsInFlight) {
  StartServer();
  auto s = Connect();
  http::request<http::string_body> req(http::verb::get, "/api/test/slow", 11);
  req.set(http::field::host, "x");
  http::write(s, req);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the handler is running now
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(Json::parse(res.body())["slow"], true);
  EXPECT_FALSE(res.keep_alive());  // the connection closes after the last response
  thread_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // Nothing listens any more.
  tcp::socket late(ioc_);
  beast::error_code ec;
  late.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)), ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace haip::api
