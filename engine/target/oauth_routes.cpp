// SPDX-License-Identifier: MIT
// OAuth 2.0 authorization server (RFC 6749) with PKCE (RFC 7636): just enough to load-test token flows.
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <string>

#include "engine/target/http_util.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

constexpr std::string_view kClientId = "luaload";
constexpr std::string_view kClientSecret = "secret";
constexpr std::string_view kPassword = "pass";
constexpr std::string_view kDefaultScope = "read";
constexpr std::string_view kAuthorizeSubject = "u1";

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// RFC 6749 §5.2. invalid_client is a 401 with a challenge; everything else a 400.
void oauth_error(Responder& res, std::string_view error, std::string_view description) {
  HeaderField headers[] = {{"Cache-Control", "no-store"},
                           {"Pragma", "no-cache"},
                           {"WWW-Authenticate", R"(Basic realm="luaload-target")"}};
  std::string body = dump({{"error", error}, {"error_description", description}});
  bool unauthorized = error == "invalid_client";
  res.respond(unauthorized ? 401 : 400, "application/json", body,
              std::span<const HeaderField>(headers, unauthorized ? 3 : 2));
}

struct ClientAuth {
  std::string id;
  std::string secret;
  int methods = 0;  // how many client authentication methods the request used
};

ClientAuth client_auth(const Request& req) {
  ClientAuth auth;
  const std::string* authorization = req.header("authorization");
  if (authorization != nullptr && authorization->size() > 6 && iequals(authorization->substr(0, 6), "basic ")) {
    ++auth.methods;
    // RFC 6749 §2.3.1: the id and secret are form-encoded before being joined with ':' and base64-encoded.
    auto decoded = base64_decode(std::string_view(*authorization).substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon != std::string::npos) {
      auth.id = url_decode(decoded->substr(0, colon)).value_or("");
      auth.secret = url_decode(decoded->substr(colon + 1)).value_or("");
    }
  }
  if (auto id = form_param(req.body, "client_id")) {
    if (auth.methods == 0 || form_param(req.body, "client_secret")) ++auth.methods;
    if (auth.methods == 1) {
      auth.id = *id;
      auth.secret = form_param(req.body, "client_secret").value_or("");
    }
  }
  return auth;
}

void send_tokens(Responder& res, const IssuedTokens& tokens, const std::string& scope) {
  nlohmann::json out = {{"access_token", tokens.access_token},
                        {"token_type", "Bearer"},
                        {"expires_in", tokens.expires_in_s},
                        {"scope", scope}};
  if (!tokens.refresh_token.empty()) out["refresh_token"] = tokens.refresh_token;
  HeaderField headers[] = {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}};
  res.respond(200, "application/json", dump(out), headers);
}

std::string pkce_s256(std::string_view verifier) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(verifier.data(), verifier.size(), digest, &length, EVP_sha256(), nullptr);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

void grant_password(const Request& req, Responder& res, ServerState& state, const std::string& client_id) {
  auto user = form_param(req.body, "username");
  auto password = form_param(req.body, "password");
  if (!user || !password) return oauth_error(res, "invalid_request", "username and password are required");
  if (user->empty() || (*user)[0] != 'u' || *password != kPassword) {
    return oauth_error(res, "invalid_grant", "invalid username or password");
  }
  std::string scope = form_param(req.body, "scope").value_or(std::string(kDefaultScope));
  send_tokens(res, state.oauth.issue({client_id, *user, scope, 0}, true), scope);
}

void grant_refresh(const Request& req, Responder& res, ServerState& state, const std::string& client_id) {
  auto token = form_param(req.body, "refresh_token");
  if (!token) return oauth_error(res, "invalid_request", "refresh_token is required");
  auto info = state.oauth.take_refresh(*token, client_id);
  if (!info) return oauth_error(res, "invalid_grant", "refresh token is invalid, expired or already used");
  send_tokens(res, state.oauth.issue(*info, true), info->scope);
}

void grant_code(const Request& req, Responder& res, ServerState& state, const std::string& client_id) {
  auto code = form_param(req.body, "code");
  if (!code) return oauth_error(res, "invalid_request", "code is required");
  auto grant = state.oauth.take_code(*code);
  if (!grant || grant->info.client_id != client_id) {
    return oauth_error(res, "invalid_grant", "authorization code is invalid, expired or already used");
  }
  if (form_param(req.body, "redirect_uri").value_or("") != grant->redirect_uri) {
    return oauth_error(res, "invalid_grant", "redirect_uri does not match the authorization request");
  }
  auto verifier = form_param(req.body, "code_verifier");
  if (!verifier) return oauth_error(res, "invalid_grant", "code_verifier is required");
  std::string derived = grant->code_challenge_method == "S256" ? pkce_s256(*verifier) : *verifier;
  if (derived != grant->code_challenge) return oauth_error(res, "invalid_grant", "PKCE verification failed");
  send_tokens(res, state.oauth.issue(grant->info, true), grant->info.scope);
}

}  // namespace

void oauth_token(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "POST") return method_not_allowed(res, "POST");
  ClientAuth auth = client_auth(req);
  if (auth.methods > 1) return oauth_error(res, "invalid_request", "use only one client authentication method");
  if (auth.methods == 0 || auth.id != kClientId || auth.secret != kClientSecret) {
    return oauth_error(res, "invalid_client", "client authentication failed");
  }
  auto grant_type = form_param(req.body, "grant_type");
  if (!grant_type) return oauth_error(res, "invalid_request", "grant_type is required");
  if (*grant_type == "client_credentials") {
    std::string scope = form_param(req.body, "scope").value_or(std::string(kDefaultScope));
    return send_tokens(res, state.oauth.issue({auth.id, auth.id, scope, 0}, false), scope);
  }
  if (*grant_type == "password") return grant_password(req, res, state, auth.id);
  if (*grant_type == "refresh_token") return grant_refresh(req, res, state, auth.id);
  if (*grant_type == "authorization_code") return grant_code(req, res, state, auth.id);
  oauth_error(res, "unsupported_grant_type", "grant_type " + *grant_type + " is not supported");
}

void oauth_authorize(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "GET") return method_not_allowed(res, "GET");
  std::string_view q = req.query();
  auto redirect_uri = form_param(q, "redirect_uri");
  // RFC 6749 §4.1.2.1: with an unknown client or a missing redirect URI, tell the user agent, never redirect.
  if (form_param(q, "client_id").value_or("") != kClientId || !redirect_uri || redirect_uri->empty()) {
    return res.respond(400, "application/json", dump({{"error", "invalid_request"},
                                                      {"error_description", "unknown client_id or no redirect_uri"}}));
  }
  std::string location = *redirect_uri + (redirect_uri->find('?') == std::string::npos ? "?" : "&");
  auto method = form_param(q, "code_challenge_method").value_or("plain");
  auto challenge = form_param(q, "code_challenge");
  if (form_param(q, "response_type").value_or("") != "code") {
    location += "error=unsupported_response_type";
  } else if (!challenge || challenge->empty() || (method != "S256" && method != "plain")) {
    location += "error=invalid_request&error_description=" + url_encode("PKCE code_challenge (S256) is required");
  } else {
    std::string scope = form_param(q, "scope").value_or(std::string(kDefaultScope));
    AuthCode code{{std::string(kClientId), std::string(kAuthorizeSubject), scope, 0}, *redirect_uri, *challenge, method};
    location += "code=" + state.oauth.issue_code(std::move(code));
  }
  if (auto client_state = form_param(q, "state")) location += "&state=" + url_encode(*client_state);
  HeaderField headers[] = {{"Location", location}, {"Cache-Control", "no-store"}};
  res.respond(302, "text/plain", "", headers);
}

}  // namespace luaload::engine::target::routes
