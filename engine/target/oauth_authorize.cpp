// SPDX-License-Identifier: MIT
// The authorization endpoint (GET /oauth/authorize and /authorize): approves every request at once, as user u1,
// and redirects back with the code, the state and the issuer (RFC 9207). Authorization code + PKCE (S256; the
// built-in client may still use plain), the resource indicator (RFC 8707) kept with the code, Client ID Metadata
// Document clients fetched on first use.
#include <nlohmann/json.hpp>

#include "engine/target/http_util.hpp"
#include "engine/target/oauth_common.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

constexpr std::string_view kAuthorizeSubject = "u1";

// RFC 6749 §4.1.2.1: with an unknown client or a bad redirect URI, tell the user agent; never redirect.
void refuse(Responder& res, const std::string& why) {
  oauth::send_json(res, 400, {{"error", "invalid_request"}, {"error_description", why}});
}

void redirect(Responder& res, std::string location) {
  HeaderField headers[] = {{"Location", location}, {"Cache-Control", "no-store"}};
  res.respond(302, "text/plain", "", headers);
}

// The query part after the code or error: state and iss.
std::string tail(const Request& req, const ServerState& state) {
  std::string out;
  if (auto client_state = form_param(req.query(), "state")) out += "&state=" + url_encode(*client_state);
  return out + "&iss=" + url_encode(oauth::issuer_for(req, state));
}

// Checks the request for `client` and answers with a redirect carrying a code or an error.
void approve(const Request& req, Responder& res, ServerState& state, const OAuthClient& client) {
  std::string_view q = req.query();
  std::string redirect_uri = form_param(q, "redirect_uri").value_or("");
  if (redirect_uri.empty() || !client.allows_redirect(redirect_uri)) {
    return refuse(res, "redirect_uri is missing or not registered for this client");
  }
  std::string location = redirect_uri + (redirect_uri.find('?') == std::string::npos ? "?" : "&");
  std::string method = form_param(q, "code_challenge_method").value_or(client.any_secret_method ? "plain" : "S256");
  auto challenge = form_param(q, "code_challenge");
  std::string resource = form_param(q, "resource").value_or("");
  bool method_ok = method == "S256" || (method == "plain" && client.any_secret_method);
  if (form_param(q, "response_type").value_or("") != "code") {
    location += "error=unsupported_response_type";
  } else if (!challenge || challenge->empty() || !method_ok) {
    location += "error=invalid_request&error_description=" + url_encode("PKCE code_challenge (S256) is required");
  } else if (!resource.empty() && (resource.find("://") == std::string::npos || resource.find('#') != std::string::npos)) {
    location += "error=invalid_target&error_description=" + url_encode("resource must be an absolute URI");
  } else {
    bool protected_mcp = resource == oauth::protected_resource(req, state);
    std::string fallback = protected_mcp ? oauth::kReadScope : (client.scope.empty() ? "read" : client.scope);
    std::string scope = form_param(q, "scope").value_or(fallback);
    AuthCode code{{client.id, std::string(kAuthorizeSubject), scope, 0, resource}, redirect_uri, *challenge, method};
    location += "code=" + state.oauth.issue_code(std::move(code));
  }
  redirect(res, location + tail(req, state));
}

}  // namespace

void oauth_authorize(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "GET") return method_not_allowed(res, "GET");
  std::string client_id = form_param(req.query(), "client_id").value_or("");
  if (client_id.empty()) return refuse(res, "client_id is required");
  oauth::resolve_client(res, state, client_id,
                        [&req, &res, &state](std::optional<OAuthClient> client, const std::string& why) {
                          if (!client) return refuse(res, why);
                          approve(req, res, state, *client);
                        });
}

}  // namespace luaload::engine::target::routes
