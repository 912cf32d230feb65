// Login, logout and the caller's own account.
#include "api/app.h"
#include "core/clock.h"
#include "core/error.h"

namespace haip::api {

Json UserToJson(const security::User& u) {
  return Json{{"id", u.id},
              {"username", u.username},
              {"display_name", u.display_name},
              {"roles", security::RoleNames(u.roles)},
              {"department", u.department ? Json(*u.department) : Json(nullptr)},
              {"disabled", u.disabled},
              {"locked_until", IsoOrNull(u.locked_until) ? Json(*IsoOrNull(u.locked_until)) : Json(nullptr)},
              {"created_at", clock::FormatIso8601(u.created_at)},
              {"last_login_at", u.last_login_at ? Json(clock::FormatIso8601(*u.last_login_at)) : Json(nullptr)}};
}

namespace {
std::string RequireString(const Json& body, const char* key) {
  if (!body.contains(key) || !body[key].is_string()) {
    throw Error(ErrorCode::kBadRequest, std::string("'") + key + "' must be a string");
  }
  return body[key].get<std::string>();
}

std::string SessionCookie(std::string_view value, int64_t max_age_s, bool secure) {
  std::string c = std::string(kSessionCookie) + "=" + std::string(value) +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (secure) c += "; Secure";
  return c;
}
}  // namespace

void AddAuthRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Scope;

  router.Add({"POST", "/api/auth/login", Policy::Public(), [&app](RequestContext& ctx) {
                ctx.audit = true;
                ctx.audit_action = "auth.login";
                const Json& body = ctx.Body();
                std::string username = RequireString(body, "username");
                std::string password = RequireString(body, "password");
                ctx.audit_detail["username"] = username;
                Platform& p = app.platform();
                security::User user = p.users().Authenticate(username, password);
                int64_t ttl = p.config().GetDurationSeconds("security.session_ttl");
                security::IssuedToken session =
                    p.tokens().Issue(user, "console session", security::TokenKind::kSession, ttl);
                ctx.audit_detail["token_id"] = session.info.id;
                HttpResponse r = HttpResponse::FromJson(
                    200, Json{{"token", session.secret},
                              {"csrf_token", app.CsrfToken(session.secret)},
                              {"expires_at", clock::FormatIso8601(*session.info.expires_at)},
                              {"user", UserToJson(user)}});
                bool secure = !p.config().GetString("tls.cert_file").empty();
                r.headers.emplace_back("Set-Cookie", SessionCookie(session.secret, ttl, secure));
                return r;
              },
              "Sign in with username and password; returns a token and sets the session cookie"});

  router.Add({"POST", "/api/auth/logout", Policy::AnyUser(Scope::kSelf), [&app](RequestContext& ctx) {
                ctx.audit_action = "auth.logout";
                const auto& caller = ctx.Caller();
                auto info = app.platform().tokens().Get(caller.token_id);
                // Logging out ends the session; API tokens are revoked explicitly.
                if (info && info->kind == security::TokenKind::kSession) {
                  app.platform().tokens().Revoke(caller.token_id);
                }
                HttpResponse r = HttpResponse::NoContent();
                r.headers.emplace_back("Set-Cookie", SessionCookie("", 0, false));
                return r;
              },
              "End the current console session"});

  router.Add({"GET", "/api/auth/me", Policy::AnyUser(Scope::kSelf), [&app](RequestContext& ctx) {
                const auto& caller = ctx.Caller();
                auto user = app.platform().users().FindById(caller.user_id);
                if (!user) throw Error(ErrorCode::kUnauthorized, "the account no longer exists");
                Json out = UserToJson(*user);
                out["token_id"] = caller.token_id;
                if (caller.via_session) {
                  if (auto cookie = ctx.request.Cookie(kSessionCookie)) out["csrf_token"] = app.CsrfToken(*cookie);
                }
                return HttpResponse::FromJson(200, out);
              },
              "The signed-in user"});
}

}  // namespace haip::api
