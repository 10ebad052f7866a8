// SPDX-License-Identifier: MIT
// Protected resources (RFC 6750 bearer tokens) issued by /oauth/token.
#include <nlohmann/json.hpp>
#include <string>

#include "engine/target/http_util.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void invalid_token(Responder& res, std::string_view description) {
  std::string challenge = R"(Bearer realm="luaload-target", error="invalid_token", error_description=")" +
                          std::string(description) + "\"";
  HeaderField headers[] = {{"WWW-Authenticate", challenge}};
  res.respond(401, "application/json", dump({{"error", "invalid_token"}, {"error_description", description}}),
              headers);
}

const nlohmann::json& items() {
  static const nlohmann::json kItems = nlohmann::json::array({
      {{"id", 1}, {"name", "anvil"}, {"price", 99.5}},
      {{"id", 2}, {"name", "rocket skates"}, {"price", 250}},
      {{"id", 3}, {"name", "giant magnet"}, {"price", 42}},
  });
  return kItems;
}

}  // namespace

void api(const Request& req, Responder& res, ServerState& state) {
  const std::string* authorization = req.header("authorization");
  if (authorization == nullptr || authorization->size() <= 7 || !iequals(authorization->substr(0, 7), "bearer ")) {
    return invalid_token(res, "missing bearer token");
  }
  auto grant = state.oauth.check_access(authorization->substr(7));
  if (!grant) return invalid_token(res, "token is invalid or expired");
  std::string_view path = req.path();
  if (path == "/api/items") {
    if (req.method == "GET") return res.respond(200, "application/json", dump({{"items", items()}}));
    if (req.method == "POST") {
      return res.respond(201, "application/json", dump({{"created", true}, {"body", req.body}}));
    }
    return method_not_allowed(res, "GET, POST");
  }
  if (path == "/api/profile") {
    return res.respond(200, "application/json",
                       dump({{"user", grant->subject}, {"client_id", grant->client_id}, {"scope", grant->scope}}));
  }
  not_found(req, res, state);
}

}  // namespace luaload::engine::target::routes
