// SPDX-License-Identifier: MIT
// The token endpoint (POST /oauth/token and /token): client authentication — client_secret_basic,
// client_secret_post, none (public clients), private_key_jwt (RFC 7523 §2.2 client assertions, ES256 or RS256,
// verified against the client's jwks or jwks_uri) — then the grant (oauth_grants.cpp).
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/clock.hpp"
#include "engine/target/http_util.hpp"
#include "engine/target/oauth_common.hpp"
#include "engine/target/oauth_grants.hpp"
#include "engine/target/oauth_jose.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

using json = nlohmann::json;
using oauth::oauth_error;

struct Credentials {
  std::string id;
  std::string secret;
  std::string method;     // how the request authenticates: one of OAuthClient::auth_method's values
  std::string assertion;  // private_key_jwt
  int methods = 0;        // how many client authentication methods the request used
};

Credentials read_credentials(const Request& req) {
  Credentials c;
  const std::string* authorization = req.header("authorization");
  if (authorization != nullptr && authorization->size() > 6 && iequals(authorization->substr(0, 6), "basic ")) {
    ++c.methods;
    c.method = "client_secret_basic";
    // RFC 6749 §2.3.1: the id and secret are form-encoded before being joined with ':' and base64-encoded.
    auto decoded = base64_decode(std::string_view(*authorization).substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon != std::string::npos) {
      c.id = url_decode(decoded->substr(0, colon)).value_or("");
      c.secret = url_decode(decoded->substr(colon + 1)).value_or("");
    }
  }
  if (auto assertion = form_param(req.body, "client_assertion")) {
    ++c.methods;
    c.method = "private_key_jwt";
    c.assertion = *assertion;
    auto jws = parse_jws(*assertion);
    c.id = form_param(req.body, "client_id").value_or(jws ? jws->claims.value("sub", "") : "");
    return c;
  }
  if (auto id = form_param(req.body, "client_id")) {
    auto secret = form_param(req.body, "client_secret");
    if (c.methods == 0 || secret) ++c.methods;
    if (c.methods == 1) {
      c.id = *id;
      c.method = secret ? "client_secret_post" : "none";
      c.secret = secret.value_or("");
    }
  }
  return c;
}

bool audience_ok(const Request& req, const ServerState& state, const json& aud) {
  std::string token_endpoint = oauth::issuer_for(req, state) + "/token";
  auto one = [&](const json& a) {
    return a.is_string() && (oauth::is_our_issuer(req, state, a.get<std::string>()) || a == token_endpoint ||
                             a == oauth::base_url(req, state) + "/oauth/token");
  };
  if (aud.is_array()) return std::any_of(aud.begin(), aud.end(), one);
  return one(aud);
}

// RFC 7523 §3 checks of a client assertion, given the keys to verify it with; "" when it is good.
std::string assertion_problem(const Request& req, ServerState& state, const Jws& jws, const OAuthClient& client,
                              const json& jwks) {
  if (jws.claims.value("iss", "") != client.id || jws.claims.value("sub", "") != client.id) {
    return "client_assertion iss and sub must be the client_id";
  }
  if (!audience_ok(req, state, jws.claims.value("aud", json()))) return "client_assertion aud must name this issuer";
  int64_t exp = jws.claims.value("exp", int64_t{0});
  int64_t now = oauth::unix_now_s();
  if (exp <= now) return "client_assertion has expired";
  if (!verify_jws(jws, jwks)) return "client_assertion signature does not verify";
  std::string jti = jws.claims.value("jti", "");
  int64_t forget_at = core::mono_now_ns() / 1'000'000 + (exp - now) * 1000;
  if (!jti.empty() && !state.oauth.first_use(client.id + " " + jti, forget_at)) {
    return "client_assertion jti was already used";
  }
  return "";
}

void with_jwks(Responder& res, ServerState& state, const OAuthClient& client, std::function<void(const json&)> fn) {
  if (!client.jwks.is_null() || client.jwks_uri.empty()) return fn(client.jwks);
  oauth::fetch(res, state, client.jwks_uri, [fn = std::move(fn)](const DocumentFetcher::Fetch& f) {
    fn(f.status == 200 ? json::parse(f.body, nullptr, false) : json());
  });
}

void run_grant(const Request& req, Responder& res, ServerState& state, const OAuthClient& client) {
  std::string grant = form_param(req.body, "grant_type").value_or("");
  if (grant == "client_credentials") return oauth::grant_client_credentials(req, res, state, client);
  if (grant == "authorization_code") return oauth::grant_code(req, res, state, client);
  if (grant == "refresh_token") return oauth::grant_refresh(req, res, state, client);
  if (grant == "password" && client.any_secret_method) return oauth::grant_password(req, res, state, client);
  if (grant == oauth::kTokenExchange) return oauth::grant_token_exchange(req, res, state, client);
  if (grant == oauth::kJwtBearer) return oauth::grant_jwt_bearer(req, res, state, &client);
  oauth_error(res, "unsupported_grant_type", "grant_type " + grant + " is not supported");
}

void check_assertion(const Request& req, Responder& res, ServerState& state, const Credentials& creds,
                     const OAuthClient& client) {
  if (client.auth_method != "private_key_jwt") {
    return oauth_error(res, "invalid_client", "the client is not registered for private_key_jwt");
  }
  if (form_param(req.body, "client_assertion_type").value_or("") != oauth::kAssertionType) {
    return oauth_error(res, "invalid_client", "client_assertion_type must be " + std::string(oauth::kAssertionType));
  }
  auto jws = parse_jws(creds.assertion);
  if (!jws) return oauth_error(res, "invalid_client", "client_assertion is not a JWT");
  with_jwks(res, state, client, [&req, &res, &state, client, jws = std::move(*jws)](const json& jwks) {
    std::string problem = assertion_problem(req, state, jws, client, jwks);
    if (!problem.empty()) return oauth_error(res, "invalid_client", problem);
    run_grant(req, res, state, client);
  });
}

void check_client(const Request& req, Responder& res, ServerState& state, const Credentials& creds,
                  const OAuthClient& client) {
  if (creds.method == "private_key_jwt") return check_assertion(req, res, state, creds, client);
  bool secret_method = creds.method == "client_secret_basic" || creds.method == "client_secret_post";
  bool method_ok = creds.method == client.auth_method || (client.any_secret_method && secret_method);
  if (!method_ok) {
    return oauth_error(res, "invalid_client",
                       "the client authenticates with " + client.auth_method + ", not " + creds.method);
  }
  if (secret_method && creds.secret != client.secret) {
    return oauth_error(res, "invalid_client", "client authentication failed");
  }
  run_grant(req, res, state, client);
}

}  // namespace

void oauth_token(const Request& req, Responder& res, ServerState& state) {
  if (req.method != "POST") return method_not_allowed(res, "POST");
  Credentials creds = read_credentials(req);
  if (creds.methods > 1) return oauth_error(res, "invalid_request", "use only one client authentication method");
  auto grant = form_param(req.body, "grant_type");
  if (!grant) return oauth_error(res, "invalid_request", "grant_type is required");
  if (creds.methods == 0) {
    // RFC 7523 §3.1: a JWT bearer grant may stand on its own assertion.
    if (*grant == oauth::kJwtBearer) return oauth::grant_jwt_bearer(req, res, state, nullptr);
    return oauth_error(res, "invalid_client", "client authentication failed");
  }
  oauth::resolve_client(res, state, creds.id,
                        [&req, &res, &state, creds](std::optional<OAuthClient> client, const std::string& why) {
                          if (!client) return oauth_error(res, "invalid_client", why);
                          check_client(req, res, state, creds, *client);
                        });
}

}  // namespace luaload::engine::target::routes
