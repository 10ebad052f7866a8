// SPDX-License-Identifier: MIT
// /protected/mcp: the same MCP server as /mcp (both eras), behind bearer tokens of the target's authorization
// server. A token must be valid, issued for this resource (its audience, from the RFC 8707 resource indicator)
// and carry mcp:read; calling the tool test_step_up needs mcp:write, and a token without it gets 403
// insufficient_scope — the step-up case.
#include <nlohmann/json.hpp>

#include "engine/target/http_util.hpp"
#include "engine/target/oauth_common.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

using json = nlohmann::json;

constexpr const char* kStepUpTool = "test_step_up";

std::string quote_param(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// RFC 6750 §3 / RFC 9728 §5.1: 401 (no, bad or foreign token) or 403 (insufficient_scope) with a Bearer challenge
// naming the protected resource metadata and the scope needed.
void challenge(const Request& req, Responder& res, ServerState& state, int status, std::string_view error,
               std::string_view description, std::string_view scope) {
  std::string value = "Bearer resource_metadata=" + quote_param(oauth::resource_metadata_url(req, state)) +
                      ", scope=" + quote_param(scope);
  if (!error.empty()) value += ", error=" + quote_param(error) + ", error_description=" + quote_param(description);
  HeaderField headers[] = {{"WWW-Authenticate", value}};
  json body = {{"error", error.empty() ? "unauthorized" : error}, {"error_description", description}};
  res.respond(status, "application/json", body.dump(), headers);
}

std::optional<std::string> bearer_token(const Request& req) {
  const std::string* authorization = req.header("authorization");
  if (authorization == nullptr || authorization->size() <= 7 || !iequals(authorization->substr(0, 7), "bearer ")) {
    return std::nullopt;
  }
  return authorization->substr(7);
}

// True when the request calls the step-up tool (the only operation needing more than mcp:read).
bool needs_write(const Request& req) {
  if (req.method != "POST" || req.body.find(kStepUpTool) == std::string::npos) return false;
  json message = json::parse(req.body, nullptr, false);
  if (!message.is_object() || message.value("method", "") != "tools/call") return false;
  auto params = message.find("params");
  return params != message.end() && params->is_object() && params->value("name", "") == kStepUpTool;
}

}  // namespace

void protected_mcp(const Request& req, Responder& res, ServerState& state) {
  auto token = bearer_token(req);
  if (!token) return challenge(req, res, state, 401, "", "a bearer token is required", oauth::kReadScope);
  auto info = state.oauth.check_access(*token);
  if (!info) {
    return challenge(req, res, state, 401, "invalid_token", "the access token is unknown or expired", oauth::kReadScope);
  }
  if (info->resource != oauth::protected_resource(req, state)) {
    return challenge(req, res, state, 401, "invalid_token", "the access token was not issued for this resource",
                     oauth::kReadScope);
  }
  if (!oauth::scope_covers(info->scope, oauth::kReadScope)) {
    return challenge(req, res, state, 403, "insufficient_scope", "mcp:read is required", oauth::kReadScope);
  }
  if (needs_write(req) && !oauth::scope_covers(info->scope, oauth::kWriteScope)) {
    return challenge(req, res, state, 403, "insufficient_scope", "test_step_up needs mcp:write", oauth::kWriteScope);
  }
  mcp(req, res, state);
}

}  // namespace luaload::engine::target::routes
