// User administration (admin only).
#include "api/app.h"
#include "core/error.h"

namespace haip::api {

namespace {
security::RoleSet RolesFromJson(const Json& v) {
  if (!v.is_array()) throw Error(ErrorCode::kBadRequest, "'roles' must be an array of role names");
  security::RoleSet roles = 0;
  for (const auto& r : v) {
    if (!r.is_string()) throw Error(ErrorCode::kBadRequest, "'roles' must be an array of role names");
    roles |= static_cast<uint32_t>(security::ParseRole(r.get<std::string>()));
  }
  return roles;
}

std::optional<std::string> OptionalString(const Json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  if (!body[key].is_string()) throw Error(ErrorCode::kBadRequest, std::string("'") + key + "' must be a string");
  std::string s = body[key].get<std::string>();
  if (s.empty()) return std::nullopt;
  return s;
}
}  // namespace

void AddUserRoutes(App& app, Router& router) {
  using security::Policy;
  using security::Role;
  using security::Scope;
  const Policy admin = Policy::Roles({Role::kAdmin}, Scope::kUsers);

  router.Add({"GET", "/api/users", admin, [&app](RequestContext&) {
                Json users = Json::array();
                for (const auto& u : app.platform().users().List()) users.push_back(UserToJson(u));
                return HttpResponse::FromJson(200, Json{{"users", users}});
              },
              "List users"});

  router.Add({"POST", "/api/users", admin, [&app](RequestContext& ctx) {
                ctx.audit_action = "user.create";
                const Json& body = ctx.Body();
                security::NewUser nu;
                nu.username = OptionalString(body, "username").value_or("");
                nu.password = OptionalString(body, "password").value_or("");
                nu.display_name = OptionalString(body, "display_name").value_or("");
                nu.department = OptionalString(body, "department");
                if (!body.contains("roles")) throw Error(ErrorCode::kBadRequest, "'roles' is required");
                nu.roles = RolesFromJson(body["roles"]);
                ctx.audit_detail["username"] = nu.username;
                ctx.audit_detail["roles"] = security::RoleNames(nu.roles);
                if (nu.department) ctx.audit_detail["department"] = *nu.department;
                security::User u = app.platform().users().Create(nu);
                return HttpResponse::FromJson(201, UserToJson(u));
              },
              "Create a user"});

  router.Add({"GET", "/api/users/{username}", admin, [&app](RequestContext& ctx) {
                auto u = app.platform().users().Find(ctx.Param("username"));
                if (!u) throw Error(ErrorCode::kNotFound, "no user '" + ctx.Param("username") + "'");
                return HttpResponse::FromJson(200, UserToJson(*u));
              },
              "One user"});

  router.Add({"PATCH", "/api/users/{username}", admin, [&app](RequestContext& ctx) {
                ctx.audit_action = "user.update";
                const std::string& username = ctx.Param("username");
                ctx.audit_detail["username"] = username;
                const Json& body = ctx.Body();
                security::UserChange change;
                if (body.contains("display_name")) change.display_name = OptionalString(body, "display_name").value_or("");
                if (body.contains("roles")) {
                  change.roles = RolesFromJson(body["roles"]);
                  ctx.audit_detail["roles"] = security::RoleNames(*change.roles);
                }
                if (body.contains("department")) {
                  change.department = OptionalString(body, "department");
                  ctx.audit_detail["department"] = *change.department ? Json(**change.department) : Json(nullptr);
                }
                if (body.contains("disabled")) {
                  if (!body["disabled"].is_boolean()) throw Error(ErrorCode::kBadRequest, "'disabled' must be true or false");
                  change.disabled = body["disabled"].get<bool>();
                  ctx.audit_detail["disabled"] = *change.disabled;
                  if (*change.disabled && username == ctx.Caller().username) {
                    throw Error(ErrorCode::kConflict, "you cannot disable your own account");
                  }
                }
                if (body.contains("password")) {
                  change.password = OptionalString(body, "password").value_or("");
                  ctx.audit_detail["password_changed"] = true;
                }
                security::User u = app.platform().users().Update(username, change);
                // Roles or status changed: cached token verifications are stale.
                app.platform().tokens().InvalidateCache();
                return HttpResponse::FromJson(200, UserToJson(u));
              },
              "Change a user's name, roles, department, status or password"});
}

}  // namespace haip::api
