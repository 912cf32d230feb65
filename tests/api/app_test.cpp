#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "api/app.h"
#include "api_test_support.h"
#include "core/error.h"

namespace haip::api {
namespace {

using security::Role;

class AppTest : public ::testing::Test {
 protected:
  AppTest() : app_(*tp_.platform) {}

  Platform& platform() { return *tp_.platform; }

  std::string TokenFor(const std::string& username, Role role, std::optional<std::string> dept = std::nullopt) {
    auto user = platform().users().Find(username);
    if (!user) {
      user = platform().users().Create({username, "a-good-password-1", username, static_cast<uint32_t>(role), dept});
    }
    return platform().tokens().Issue(*user, "test", security::TokenKind::kApi, 3600).secret;
  }
  std::string AdminToken() { return TokenFor("admin", Role::kAdmin); }

  // Fills path parameters of a route pattern with plausible values.
  static std::string Concrete(const std::string& pattern) {
    std::string out = pattern;
    for (auto [param, value] : {std::pair{"{username}", "admin"}, std::pair{"{id}", "1"}, std::pair{"{type}", "Patient"},
                                std::pair{"{vid}", "1"}}) {
      auto pos = out.find(param);
      if (pos != std::string::npos) out.replace(pos, std::string(param).size(), value);
    }
    return out;
  }

  // Responses leave only after their audit record is committed, so the
  // newest record is the last request's.
  security::AuditRecord LastAudit() { return platform().audit().Query({.limit = 1}).at(0); }

  haip::testing::TempPlatform tp_;
  App app_;
};

TEST_F(AppTest, EveryRouteDeclaresAPolicy) {
  ASSERT_FALSE(app_.router().routes().empty());
  for (const auto& r : app_.router().routes()) {
    EXPECT_TRUE(r.policy.has_value()) << r.method << " " << r.pattern << " has no declared policy";
    EXPECT_FALSE(r.summary.empty()) << r.method << " " << r.pattern;
  }
}

TEST_F(AppTest, ARouteWithoutPolicyIsRefused) {
  bool ran = false;
  app_.AddRoute({"GET", "/api/test/no-policy", std::nullopt, [&](RequestContext&) {
                   ran = true;
                   return HttpResponse::FromJson(200, Json::object());
                 },
                 "a route someone forgot to guard"});
  auto r = app_.HandleSync(Req("GET", "/api/test/no-policy", "", {Bearer(AdminToken())}));
  EXPECT_FALSE(ran);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(BodyOf(r)["message"], "route has no declared access policy");
}

TEST_F(AppTest, EveryRouteIsInTheOpenApiDocumentAndBack) {
  Json doc = Json::parse(App::OpenApiDocument());
  std::set<std::string> documented, registered;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(c));
      documented.insert(m + " " + path);
      EXPECT_TRUE(op.contains("x-haip-policy")) << m << " " << path;
    }
  }
  for (const auto& r : app_.router().routes()) {
    registered.insert(r.method + " " + r.pattern);
    auto it = doc["paths"].find(r.pattern);
    if (it != doc["paths"].end()) {
      std::string m = r.method;
      for (auto& c : m) c = static_cast<char>(std::tolower(c));
      if (it->contains(m)) {
        EXPECT_EQ((*it)[m]["x-haip-policy"], r.policy->Describe()) << r.method << " " << r.pattern;
      }
    }
  }
  for (const auto& r : registered) EXPECT_TRUE(documented.count(r)) << r << " is not in docs/openapi.json";
  for (const auto& d : documented) EXPECT_TRUE(registered.count(d)) << d << " is documented but not served";
  auto served = app_.HandleSync(Req("GET", "/api/openapi.json"));
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(BodyOf(served)["openapi"], "3.0.3");
}

TEST_F(AppTest, WithoutATokenEveryApiRouteAnswers401AndIsAudited) {
  int checked = 0;
  for (const auto& r : app_.router().routes()) {
    if (!r.policy->authenticated) continue;
    int64_t before = platform().audit().Count();
    auto res = app_.HandleSync(Req(r.method, Concrete(r.pattern), "{}"));
    EXPECT_EQ(res.status, 401) << r.method << " " << r.pattern;
    Json body = BodyOf(res);
    if (r.pattern.rfind("/fhir", 0) == 0) {
      // FHIR clients get an OperationOutcome whose id is the request id.
      EXPECT_EQ(body["resourceType"], "OperationOutcome");
      EXPECT_EQ(body["issue"][0]["code"], "login");
      body["request_id"] = body["id"];
    } else {
      EXPECT_EQ(body["code"], "unauthorized");
      EXPECT_FALSE(body["message"].get<std::string>().empty());
    }
    EXPECT_EQ(body["request_id"].get<std::string>().size(), 16u);
    EXPECT_EQ(platform().audit().Count(), before + 1);
    auto denial = LastAudit();
    EXPECT_EQ(denial.outcome, "denied");
    EXPECT_EQ(denial.status, 401);
    EXPECT_EQ(denial.request_id, body["request_id"]);
    ++checked;
  }
  EXPECT_GE(checked, 10);
  // A bad token is the same as none.
  auto res = app_.HandleSync(Req("GET", "/api/users", "", {Bearer("haip_forged")}));
  EXPECT_EQ(res.status, 401);
  res = app_.HandleSync(Req("GET", "/api/users", "", {{"authorization", "Basic YWRtaW46eA=="}}));
  EXPECT_EQ(res.status, 401);
}

TEST_F(AppTest, WrongRoleGets403AndIsAudited) {
  std::string clinician = TokenFor("dr.wang", Role::kClinician, "心内科");
  int checked = 0;
  for (const auto& r : app_.router().routes()) {
    if (!r.policy->authenticated || r.policy->roles == 0) continue;
    if (r.policy->roles & static_cast<uint32_t>(Role::kClinician)) continue;
    auto res = app_.HandleSync(Req(r.method, Concrete(r.pattern), "{}", {Bearer(clinician)}));
    EXPECT_EQ(res.status, 403) << r.method << " " << r.pattern;
    Json body = BodyOf(res);
    EXPECT_TRUE(body["code"] == "forbidden" || (body["resourceType"] == "OperationOutcome" && body["issue"][0]["code"] == "forbidden"))
        << body;
    auto rec = platform().audit().Query({.username = "dr.wang", .limit = 1}).at(0);
    EXPECT_EQ(rec.outcome, "denied");
    EXPECT_EQ(rec.status, 403);
    EXPECT_EQ(rec.path, Concrete(r.pattern));
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

TEST_F(AppTest, LoginIssuesASessionAndIsAudited) {
  auto bad = app_.HandleSync(Req("POST", "/api/auth/login", R"({"username":"admin","password":"nope"})"));
  EXPECT_EQ(bad.status, 401);
  auto rec = platform().audit().Query({.action = "auth.login", .limit = 1}).at(0);
  EXPECT_EQ(rec.outcome, "denied");
  EXPECT_EQ(rec.username, "admin");

  auto ok = app_.HandleSync(Req("POST", "/api/auth/login",
                                R"({"username":"admin","password":"admin-test-password"})"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  Json body = BodyOf(ok);
  std::string token = body["token"];
  std::string cookie;
  for (auto& [k, v] : ok.headers) {
    if (k == "Set-Cookie") cookie = v;
  }
  EXPECT_NE(cookie.find("haip_session=" + token), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  // The token works as a bearer token, as the interface contract says.
  auto me = app_.HandleSync(Req("GET", "/api/auth/me", "", {Bearer(token)}));
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(BodyOf(me)["username"], "admin");
  EXPECT_EQ(platform().audit().Query({.action = "auth.login", .limit = 1}).at(0).outcome, "success");

  EXPECT_EQ(app_.HandleSync(Req("POST", "/api/auth/login", "not json")).status, 400);
  EXPECT_EQ(app_.HandleSync(Req("POST", "/api/auth/login", R"({"username":1})")).status, 400);
}

TEST_F(AppTest, RepeatedFailedLoginsLockTheAccount) {
  platform().users().Create({"locky", "a-good-password-1", "", static_cast<uint32_t>(Role::kClinician), {}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(app_.HandleSync(Req("POST", "/api/auth/login", R"({"username":"locky","password":"bad"})")).status, 401);
  }
  auto locked = app_.HandleSync(Req("POST", "/api/auth/login", R"({"username":"locky","password":"a-good-password-1"})"));
  EXPECT_EQ(locked.status, 423);
  EXPECT_EQ(BodyOf(locked)["code"], "locked");
}

TEST_F(AppTest, CookieSessionsNeedTheCsrfTokenForChanges) {
  auto login = app_.HandleSync(Req("POST", "/api/auth/login",
                                   R"({"username":"admin","password":"admin-test-password"})"));
  Json body = BodyOf(login);
  std::pair<std::string, std::string> cookie{"cookie", "other=1; haip_session=" + body["token"].get<std::string>()};
  // Reads work with the cookie alone, and tell the console its CSRF token.
  auto me = app_.HandleSync(Req("GET", "/api/auth/me", "", {cookie}));
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(BodyOf(me)["csrf_token"], body["csrf_token"]);
  // A change without the header is refused; with it, accepted.
  auto refused = app_.HandleSync(Req("POST", "/api/tokens", R"({"name":"x"})", {cookie}));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(BodyOf(refused)["message"].get<std::string>().find("CSRF"), std::string::npos);
  auto wrong = app_.HandleSync(Req("POST", "/api/tokens", R"({"name":"x"})", {cookie, {"x-csrf-token", "00"}}));
  EXPECT_EQ(wrong.status, 403);
  auto ok = app_.HandleSync(Req("POST", "/api/tokens", R"({"name":"x"})",
                                {cookie, {"x-csrf-token", body["csrf_token"].get<std::string>()}}));
  EXPECT_EQ(ok.status, 201) << ok.body;
  // Logout ends the session.
  auto out = app_.HandleSync(Req("POST", "/api/auth/logout", "", {cookie, {"x-csrf-token", body["csrf_token"].get<std::string>()}}));
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(app_.HandleSync(Req("GET", "/api/auth/me", "", {cookie})).status, 401);
}

TEST_F(AppTest, AdminManagesUsersAndTokensThroughTheApi) {
  std::string admin = AdminToken();
  auto created = app_.HandleSync(Req("POST", "/api/users",
                                     R"({"username":"dr.chen","password":"a-good-password-1","display_name":"陈医生","roles":["clinician"],"department":"肾内科"})",
                                     {Bearer(admin)}));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(BodyOf(created)["department"], "肾内科");
  EXPECT_EQ(app_.HandleSync(Req("POST", "/api/users", R"({"username":"dr.chen","password":"a-good-password-1","roles":["clinician"]})", {Bearer(admin)})).status, 409);
  EXPECT_EQ(app_.HandleSync(Req("POST", "/api/users", R"({"username":"x","password":"short","roles":["clinician"]})", {Bearer(admin)})).status, 422);
  EXPECT_EQ(app_.HandleSync(Req("POST", "/api/users", R"({"username":"y","password":"a-good-password-1","roles":["surgeon"]})", {Bearer(admin)})).status, 400);
  auto rec = platform().audit().Query({.action = "user.create", .outcome = "success", .limit = 1}).at(0);
  EXPECT_EQ(rec.username, "admin");
  EXPECT_NE(rec.detail.find("dr.chen"), std::string::npos);

  // A token for the new user, made by the admin, works and shows the user's rights.
  auto tok = app_.HandleSync(Req("POST", "/api/tokens", R"({"name":"ward pc","username":"dr.chen","ttl":"1d"})", {Bearer(admin)}));
  ASSERT_EQ(tok.status, 201) << tok.body;
  std::string chen = BodyOf(tok)["token"];
  EXPECT_EQ(app_.HandleSync(Req("GET", "/api/users", "", {Bearer(chen)})).status, 403);
  auto mine = app_.HandleSync(Req("GET", "/api/tokens", "", {Bearer(chen)}));
  EXPECT_EQ(BodyOf(mine)["tokens"].size(), 1u);
  // Users cannot make tokens for others, or revoke others' tokens.
  EXPECT_EQ(app_.HandleSync(Req("POST", "/api/tokens", R"({"name":"x","username":"admin"})", {Bearer(chen)})).status, 403);
  auto admin_tokens = BodyOf(app_.HandleSync(Req("GET", "/api/tokens", "", {Bearer(admin)})))["tokens"];
  int64_t admin_token_id = 0;
  for (auto& t : admin_tokens) {
    if (t["username"] == "admin") admin_token_id = t["id"];
  }
  EXPECT_EQ(app_.HandleSync(Req("DELETE", "/api/tokens/" + std::to_string(admin_token_id), "", {Bearer(chen)})).status, 404);

  // Disabling the user stops the token at once.
  auto dis = app_.HandleSync(Req("PATCH", "/api/users/dr.chen", R"({"disabled":true})", {Bearer(admin)}));
  EXPECT_EQ(dis.status, 200);
  EXPECT_EQ(app_.HandleSync(Req("GET", "/api/auth/me", "", {Bearer(chen)})).status, 401);
  EXPECT_EQ(app_.HandleSync(Req("PATCH", "/api/users/admin", R"({"disabled":true})", {Bearer(admin)})).status, 409);
  EXPECT_EQ(app_.HandleSync(Req("PATCH", "/api/users/ghost", R"({"display_name":"x"})", {Bearer(admin)})).status, 404);
}

TEST_F(AppTest, AuditorsReadAndVerifyTheLog) {
  std::string auditor = TokenFor("auditor1", Role::kAuditor);
  auto page = app_.HandleSync(Req("GET", "/api/audit?limit=5&action=user.", "", {Bearer(auditor)}));
  ASSERT_EQ(page.status, 200) << page.body;
  auto v = app_.HandleSync(Req("GET", "/api/audit/verify", "", {Bearer(auditor)}));
  EXPECT_EQ(BodyOf(v)["ok"], true);
  EXPECT_EQ(app_.HandleSync(Req("GET", "/api/audit?since=yesterday", "", {Bearer(auditor)})).status, 400);
  EXPECT_EQ(app_.HandleSync(Req("GET", "/api/audit?limit=x", "", {Bearer(auditor)})).status, 400);
}

TEST_F(AppTest, UnknownRoutesAndMethods) {
  auto r = app_.HandleSync(Req("GET", "/api/nothing-here"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(BodyOf(r)["code"], "not_found");
  r = app_.HandleSync(Req("DELETE", "/api/users"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(app_.HandleSync(Req("GET", "/healthz")).status, 200);
  EXPECT_EQ(app_.HandleSync(Req("HEAD", "/healthz")).status, 200);
}

TEST_F(AppTest, MetricsCountRequestsPerRoute) {
  app_.HandleSync(Req("GET", "/healthz"));
  app_.HandleSync(Req("GET", "/api/users"));
  auto m = app_.HandleSync(Req("GET", "/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.content_type.find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find("haip_http_requests_total{method=\"GET\",route=\"/api/users\",status=\"401\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("haip_build_info"), std::string::npos);
  EXPECT_NE(m.body.find("haip_audit_records_total"), std::string::npos);
}

TEST(AppStatic, ServesTheConsoleWithFallbackAndNoTraversal) {
  haip::testing::TempDir web;
  std::filesystem::create_directories(web.path() / "assets");
  std::ofstream(web.path() / "index.html") << "<html>console</html>";
  std::ofstream(web.path() / "assets" / "app-123.js") << "console.log(1)";
  Config c;
  c.Set("server.web_root", web.path().string());
  haip::testing::TempPlatform tp(c);
  App app(*tp.platform);
  auto idx = app.HandleSync(Req("GET", "/"));
  EXPECT_EQ(idx.status, 200);
  EXPECT_EQ(idx.body, "<html>console</html>");
  EXPECT_EQ(idx.content_type, "text/html; charset=utf-8");
  auto js = app.HandleSync(Req("GET", "/assets/app-123.js"));
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(app.HandleSync(Req("GET", "/users/admin")).body, "<html>console</html>");  // client-side route
  EXPECT_EQ(app.HandleSync(Req("GET", "/assets/missing.js")).status, 404);
  auto trav = app.HandleSync(Req("GET", "/../../etc/passwd"));
  EXPECT_NE(trav.body.find("root:"), 0u);
  EXPECT_EQ(trav.body.find("root:x"), std::string::npos);
  EXPECT_EQ(app.HandleSync(Req("GET", "/%2e%2e/%2e%2e/etc/passwd")).body.find("root:x"), std::string::npos);
}

}  // namespace
}  // namespace haip::api
