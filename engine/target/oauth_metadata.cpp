// SPDX-License-Identifier: MIT
// Discovery and registration: protected resource metadata (RFC 9728), authorization server metadata (RFC 8414,
// and OpenID Connect Discovery at the same places clients look), the JWK Set, and Dynamic Client Registration
// (RFC 7591).
#include <nlohmann/json.hpp>

#include "engine/target/mcp_protocol.hpp"
#include "engine/target/oauth_common.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

using json = nlohmann::json;

json protected_resource_metadata(const Request& req, const ServerState& state) {
  return {{"resource", oauth::protected_resource(req, state)},
          {"authorization_servers", json::array({oauth::base_url(req, state) + "/oauth"})},
          {"scopes_supported", json::array({oauth::kReadScope, oauth::kWriteScope})},
          {"bearer_methods_supported", json::array({"header"})},
          {"resource_name", "luaload target (authorized MCP)"}};
}

// `issuer` is <base>/oauth (endpoints under /oauth/) or <base> (the 2025-03-26 default endpoints at the root).
json authorization_server_metadata(const Request& req, const ServerState& state, const std::string& issuer) {
  std::string base = oauth::base_url(req, state);
  return {{"issuer", issuer},
          {"authorization_endpoint", issuer + "/authorize"},
          {"token_endpoint", issuer + "/token"},
          {"registration_endpoint", issuer + "/register"},
          {"jwks_uri", base + "/oauth/jwks"},
          {"scopes_supported", json::array({oauth::kReadScope, oauth::kWriteScope, "offline_access", "openid", "read"})},
          {"response_types_supported", json::array({"code"})},
          {"response_modes_supported", json::array({"query"})},
          {"grant_types_supported", json::array({"authorization_code", "refresh_token", "client_credentials",
                                                 oauth::kTokenExchange, oauth::kJwtBearer})},
          {"token_endpoint_auth_methods_supported",
           json::array({"client_secret_basic", "client_secret_post", "none", "private_key_jwt"})},
          {"token_endpoint_auth_signing_alg_values_supported", json::array({"ES256", "RS256"})},
          {"code_challenge_methods_supported", json::array({"S256"})},
          {"client_id_metadata_document_supported", true},
          {"authorization_response_iss_parameter_supported", true},
          {"subject_types_supported", json::array({"public"})},
          {"id_token_signing_alg_values_supported", json::array({"ES256"})}};
}

void send_metadata(Responder& res, const json& body) {
  HeaderField headers[] = {{"Cache-Control", "max-age=300"}, {"Access-Control-Allow-Origin", "*"}};
  res.respond(200, "application/json", mcp::dump(body), headers);
}

}  // namespace

void well_known(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "GET") return method_not_allowed(res, "GET");
  std::string_view path = req.path();
  std::string base = oauth::base_url(req, state);
  if (path == "/.well-known/oauth-protected-resource" ||
      path == std::string("/.well-known/oauth-protected-resource") + oauth::kProtectedPath) {
    return send_metadata(res, protected_resource_metadata(req, state));
  }
  if (path == "/.well-known/oauth-authorization-server/oauth" || path == "/.well-known/openid-configuration/oauth" ||
      path == "/oauth/.well-known/openid-configuration") {
    return send_metadata(res, authorization_server_metadata(req, state, base + "/oauth"));
  }
  if (path == "/.well-known/oauth-authorization-server" || path == "/.well-known/openid-configuration") {
    return send_metadata(res, authorization_server_metadata(req, state, base));
  }
  not_found(req, res, state);
}

void oauth_jwks(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "GET") return method_not_allowed(res, "GET");
  send_metadata(res, state.signing_key.jwks());
}

// A ready-made Client ID Metadata Document, so a demo can use a URL client_id with nothing else running: a public
// client whose loopback redirect URIs match any port (RFC 8252).
void oauth_client_metadata(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "GET") return method_not_allowed(res, "GET");
  send_metadata(res, {{"client_id", oauth::base_url(req, state) + "/oauth/client-metadata.json"},
                      {"client_name", "luaload demo client"},
                      {"redirect_uris", json::array({"http://127.0.0.1/callback", "http://localhost/callback"})},
                      {"grant_types", json::array({"authorization_code", "refresh_token"})},
                      {"response_types", json::array({"code"})},
                      {"token_endpoint_auth_method", "none"}});
}

void oauth_register(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "POST") return method_not_allowed(res, "POST");
  std::string error, description;
  auto registered = state.oauth_clients.register_client(json::parse(req.body, nullptr, false), &error, &description);
  if (!registered) return oauth::send_json(res, 400, {{"error", error}, {"error_description", description}});
  oauth::send_json(res, 201, *registered);
}

}  // namespace luaload::engine::target::routes
