// API tokens: everyone manages their own, admins everyone's.
#include "api/app.h"
#include "core/clock.h"
#include "core/error.h"

namespace haip::api {

Json TokenToJson(const security::TokenInfo& t) {
  auto iso = [](const std::optional<int64_t>& v) { return v ? Json(clock::FormatIso8601(*v)) : Json(nullptr); };
  return Json{{"id", t.id},
              {"name", t.name},
              {"username", t.username},
              {"kind", security::TokenKindName(t.kind)},
              {"created_at", clock::FormatIso8601(t.created_at)},
              {"expires_at", iso(t.expires_at)},
              {"revoked_at", iso(t.revoked_at)},
              {"last_used_at", iso(t.last_used_at)}};
}

void AddTokenRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Role;
  using security::Scope;

  router.Add({"GET", "/api/tokens", Policy::AnyUser(Scope::kTokens), [&app](RequestContext& ctx) {
                const auto& caller = ctx.Caller();
                int64_t user_filter = caller.Has(Role::kAdmin) ? 0 : caller.user_id;
                Json tokens = Json::array();
                for (const auto& t : app.platform().tokens().List(user_filter, security::TokenKind::kApi)) {
                  tokens.push_back(TokenToJson(t));
                }
                return HttpResponse::FromJson(200, Json{{"tokens", tokens}});
              },
              "List API tokens (own; all for admins)"});

  router.Add({"POST", "/api/tokens", Policy::AnyUser(Scope::kTokens), [&app](RequestContext& ctx) {
                ctx.audit_action = "token.create";
                const auto& caller = ctx.Caller();
                const Json& body = ctx.Body();
                std::string name = body.value("name", std::string());
                if (name.empty()) throw Error(ErrorCode::kBadRequest, "'name' is required");
                std::string username = body.value("username", caller.username);
                if (username != caller.username && !caller.Has(Role::kAdmin)) {
                  throw Error(ErrorCode::kForbidden, "only an admin can create tokens for another user");
                }
                Platform& p = app.platform();
                auto user = p.users().Find(username);
                if (!user) throw Error(ErrorCode::kNotFound, "no user '" + username + "'");
                int64_t ttl = p.config().GetDurationSeconds("security.token_ttl");
                if (body.contains("ttl") && !body["ttl"].is_null()) {
                  if (!body["ttl"].is_string()) throw Error(ErrorCode::kBadRequest, "'ttl' must be a duration such as \"90d\"");
                  ttl = clock::ParseDurationSeconds(body["ttl"].get<std::string>());
                }
                auto issued = p.tokens().Issue(*user, name, security::TokenKind::kApi, ttl);
                ctx.audit_detail["token_id"] = issued.info.id;
                ctx.audit_detail["name"] = name;
                ctx.audit_detail["for_user"] = username;
                Json out = TokenToJson(issued.info);
                out["token"] = issued.secret;
                return HttpResponse::FromJson(201, out);
              },
              "Create an API token; the secret is returned only in this response"});

  router.Add({"DELETE", "/api/tokens/{id}", Policy::AnyUser(Scope::kTokens), [&app](RequestContext& ctx) {
                ctx.audit_action = "token.revoke";
                const auto& caller = ctx.Caller();
                int64_t id = 0;
                try {
                  id = std::stoll(ctx.Param("id"));
                } catch (const std::exception&) {
                  throw Error(ErrorCode::kBadRequest, "token id must be a number");
                }
                ctx.audit_detail["token_id"] = id;
                Platform& p = app.platform();
                auto info = p.tokens().Get(id);
                // Someone else's token reads as missing, so ids cannot be probed.
                if (!info || (info->user_id != caller.user_id && !caller.Has(Role::kAdmin))) {
                  throw Error(ErrorCode::kNotFound, "no token with id " + std::to_string(id));
                }
                p.tokens().Revoke(id);
                return HttpResponse::NoContent();
              },
              "Revoke a token"});
}

}  // namespace haip::api
