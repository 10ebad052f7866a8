// SPDX-License-Identifier: MIT
#include "engine/target/oauth_grants.hpp"

#include <openssl/evp.h>

#include <chrono>

#include "engine/core/clock.hpp"
#include "engine/target/http_util.hpp"
#include "engine/target/oauth_common.hpp"
#include "engine/target/oauth_jose.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::oauth {
namespace {

using json = nlohmann::json;

constexpr std::string_view kPassword = "pass";
constexpr int64_t kIdJagTtlS = 300;

std::optional<std::string> form(const Request& req, std::string_view name) { return form_param(req.body, name); }

// RFC 8707 §2: the resource parameter is an absolute URI without a fragment. Answers invalid_target and returns
// false when it is malformed; *resource is "" when absent.
bool read_resource(const Request& req, Responder& res, std::string* resource) {
  *resource = form(req, "resource").value_or("");
  if (resource->empty()) return true;
  if (resource->find("://") == std::string::npos || resource->find('#') != std::string::npos) {
    oauth_error(res, "invalid_target", "resource must be an absolute URI without a fragment");
    return false;
  }
  return true;
}

// A token request may narrow the grant's resource but not change it (RFC 8707 §2.2).
bool same_resource(Responder& res, const std::string& granted, std::string* requested) {
  if (requested->empty()) {
    *requested = granted;
    return true;
  }
  if (granted.empty() || granted == *requested) return true;
  oauth_error(res, "invalid_target", "resource does not match the one the grant was issued for");
  return false;
}

std::string default_scope(const Request& req, const ServerState& state, const std::string& resource,
                          const OAuthClient& client) {
  if (!resource.empty() && resource == protected_resource(req, state)) return kReadScope;
  return client.scope.empty() ? "read" : client.scope;
}

bool has_openid(const std::string& scope) {
  return (" " + scope + " ").find(" openid ") != std::string::npos;
}

json id_token_extra(const Request& req, ServerState& state, const TokenInfo& info) {
  if (!has_openid(info.scope)) return json::object();
  int64_t now = unix_now_s();
  json claims = {{"iss", issuer_for(req, state)}, {"sub", info.subject}, {"aud", info.client_id},
                 {"iat", now},                    {"exp", now + state.options.token_ttl_ms / 1000 + 1},
                 {"auth_time", now}};
  return {{"id_token", state.signing_key.sign(claims)}};
}

std::string pkce_s256(std::string_view verifier) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(verifier.data(), verifier.size(), digest, &length, EVP_sha256(), nullptr);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

int64_t mono_ms_in(int64_t seconds) { return core::mono_now_ns() / 1'000'000 + seconds * 1000; }

bool audience_is_ours(const Request& req, const ServerState& state, const json& aud) {
  auto one = [&](const json& a) { return a.is_string() && is_our_issuer(req, state, a.get<std::string>()); };
  return aud.is_array() ? std::any_of(aud.begin(), aud.end(), one) : one(aud);
}

// An ID token or ID-JAG we signed ourselves: signature, issuer, expiry. The claims, or nullopt.
std::optional<json> our_jwt(const Request& req, const ServerState& state, const std::string& token) {
  auto jws = parse_jws(token);
  if (!jws || !verify_jws(*jws, state.signing_key.jwks())) return std::nullopt;
  if (!is_our_issuer(req, state, jws->claims.value("iss", "")) || jws->claims.value("exp", int64_t{0}) <= unix_now_s()) {
    return std::nullopt;
  }
  return jws->claims;
}

// --token-format jwt: an RFC 9068 access token signed with the target's key. exp is in whole seconds, so the token
// really lives between ttl - 1 and ttl seconds; the store forgets it at exp, as a JWT-validating server without
// clock skew would.
IssuedTokens issue_jwt(const Request& req, ServerState& state, const TokenInfo& info, bool refresh) {
  using namespace std::chrono;
  int64_t now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  int64_t ttl_s = (state.options.token_ttl_ms + 999) / 1000;
  int64_t iat = now_ms / 1000;
  json claims = {{"iss", issuer_for(req, state)},
                 {"sub", info.subject},
                 {"aud", info.resource.empty() ? info.client_id : info.resource},
                 {"client_id", info.client_id},
                 {"scope", info.scope},
                 {"iat", iat},
                 {"exp", iat + ttl_s},
                 {"jti", random_token(12)}};
  return state.oauth.issue(info, refresh, state.signing_key.sign(claims, "at+jwt"), (iat + ttl_s) * 1000 - now_ms);
}

void send_access_token(const Request& req, Responder& res, ServerState& state, TokenInfo info, bool refresh,
                       json extra = json::object()) {
  json id_token = id_token_extra(req, state, info);
  for (auto& [key, value] : id_token.items()) extra[key] = value;
  IssuedTokens tokens = state.options.jwt_access_tokens ? issue_jwt(req, state, info, refresh)
                                                        : state.oauth.issue(info, refresh);
  send_tokens(res, tokens, info.scope, extra);
}

void exchange_for_id_jag(const Request& req, Responder& res, ServerState& state, const OAuthClient& client,
                         const std::string& subject, const std::string& scope) {
  std::string audience = form(req, "audience").value_or("");
  std::string resource;
  if (!read_resource(req, res, &resource)) return;
  if (audience.empty() || resource.empty()) {
    return oauth_error(res, "invalid_request", "an ID-JAG needs audience (the authorization server) and resource");
  }
  int64_t now = unix_now_s();
  json claims = {{"iss", issuer_for(req, state)}, {"sub", subject},     {"aud", audience},
                 {"client_id", client.id},        {"resource", resource}, {"scope", scope},
                 {"iat", now},                    {"exp", now + kIdJagTtlS}, {"jti", random_token(12)}};
  send_json(res, 200, {{"access_token", state.signing_key.sign(claims, "oauth-id-jag+jwt")},
                       {"issued_token_type", kIdJagType},
                       {"token_type", "N_A"},
                       {"expires_in", kIdJagTtlS},
                       {"scope", scope}});
}

void redeem_id_jag(const Request& req, Responder& res, ServerState& state, const OAuthClient* client,
                   const std::string& assertion) {
  auto claims = our_jwt(req, state, assertion);
  if (!claims || !audience_is_ours(req, state, claims->value("aud", json()))) {
    return oauth_error(res, "invalid_grant", "the ID-JAG is not valid for this authorization server");
  }
  if (client != nullptr && claims->value("client_id", "") != client->id) {
    return oauth_error(res, "invalid_grant", "the ID-JAG was issued to another client");
  }
  if (!state.oauth.first_use("jag " + claims->value("jti", ""), mono_ms_in(kIdJagTtlS))) {
    return oauth_error(res, "invalid_grant", "the ID-JAG was already used");
  }
  std::string scope = form(req, "scope").value_or(claims->value("scope", std::string(kReadScope)));
  TokenInfo info{claims->value("client_id", ""), claims->value("sub", ""), scope, 0, claims->value("resource", "")};
  send_access_token(req, res, state, std::move(info), false);
}

// A JWT whose issuer is a registered client with keys (workload identity federation): verified with those keys.
void redeem_client_jwt(const Request& req, Responder& res, ServerState& state, const std::string& assertion) {
  auto jws = parse_jws(assertion);
  if (!jws) return oauth_error(res, "invalid_grant", "the assertion is not a JWT");
  std::string issuer = jws->claims.value("iss", "");
  auto client = state.oauth_clients.find(issuer);
  if (!client || client->jwks.is_null()) {
    return oauth_error(res, "invalid_grant", "the assertion's issuer is not a client with registered jwks");
  }
  if (!verify_jws(*jws, client->jwks) || !audience_is_ours(req, state, jws->claims.value("aud", json())) ||
      jws->claims.value("exp", int64_t{0}) <= unix_now_s()) {
    return oauth_error(res, "invalid_grant", "the assertion's signature, audience or expiry is invalid");
  }
  std::string resource;
  if (!read_resource(req, res, &resource)) return;
  std::string scope = form(req, "scope").value_or(default_scope(req, state, resource, *client));
  send_access_token(req, res, state, {client->id, jws->claims.value("sub", issuer), scope, 0, resource}, false);
}

}  // namespace

void grant_client_credentials(const Request& req, Responder& res, ServerState& state, const OAuthClient& client) {
  std::string resource;
  if (!read_resource(req, res, &resource)) return;
  std::string scope = form(req, "scope").value_or(default_scope(req, state, resource, client));
  send_access_token(req, res, state, {client.id, client.id, scope, 0, resource}, false);
}

void grant_password(const Request& req, Responder& res, ServerState& state, const OAuthClient& client) {
  auto user = form(req, "username");
  auto password = form(req, "password");
  if (!user || !password) return oauth_error(res, "invalid_request", "username and password are required");
  if (user->empty() || (*user)[0] != 'u' || *password != kPassword) {
    return oauth_error(res, "invalid_grant", "invalid username or password");
  }
  std::string resource;
  if (!read_resource(req, res, &resource)) return;
  std::string scope = form(req, "scope").value_or(default_scope(req, state, resource, client));
  send_access_token(req, res, state, {client.id, *user, scope, 0, resource}, true);
}

void grant_refresh(const Request& req, Responder& res, ServerState& state, const OAuthClient& client) {
  auto token = form(req, "refresh_token");
  if (!token) return oauth_error(res, "invalid_request", "refresh_token is required");
  std::string resource;
  if (!read_resource(req, res, &resource)) return;
  // The resource is checked before the token is redeemed: a bad request must not burn it.
  if (auto peek = state.oauth.find_refresh(*token); peek && !same_resource(res, peek->resource, &resource)) return;
  auto info = state.oauth.take_refresh(*token, client.id);
  if (!info) return oauth_error(res, "invalid_grant", "refresh token is invalid, expired or already used");
  if (resource.empty()) resource = info->resource;
  info->resource = resource;
  if (auto scope = form(req, "scope"); scope && scope_covers(info->scope, *scope)) info->scope = *scope;
  send_access_token(req, res, state, std::move(*info), true);
}

void grant_code(const Request& req, Responder& res, ServerState& state, const OAuthClient& client) {
  auto code = form(req, "code");
  if (!code) return oauth_error(res, "invalid_request", "code is required");
  std::string resource;
  if (!read_resource(req, res, &resource)) return;
  auto grant = state.oauth.take_code(*code);
  if (!grant || grant->info.client_id != client.id) {
    return oauth_error(res, "invalid_grant", "authorization code is invalid, expired or already used");
  }
  if (form(req, "redirect_uri").value_or("") != grant->redirect_uri) {
    return oauth_error(res, "invalid_grant", "redirect_uri does not match the authorization request");
  }
  auto verifier = form(req, "code_verifier");
  if (!verifier) return oauth_error(res, "invalid_grant", "code_verifier is required");
  std::string derived = grant->code_challenge_method == "S256" ? pkce_s256(*verifier) : *verifier;
  if (derived != grant->code_challenge) return oauth_error(res, "invalid_grant", "PKCE verification failed");
  if (!same_resource(res, grant->info.resource, &resource)) return;
  grant->info.resource = resource;
  send_access_token(req, res, state, std::move(grant->info), true);
}

void grant_token_exchange(const Request& req, Responder& res, ServerState& state, const OAuthClient& client) {
  auto subject_token = form(req, "subject_token");
  std::string subject_type = form(req, "subject_token_type").value_or("");
  if (!subject_token || subject_type.empty()) {
    return oauth_error(res, "invalid_request", "subject_token and subject_token_type are required");
  }
  std::string subject;
  std::string scope = form(req, "scope").value_or(kReadScope);
  if (subject_type == kAccessTokenType) {
    auto info = state.oauth.check_access(*subject_token);
    if (!info) return oauth_error(res, "invalid_grant", "subject_token is not a valid access token");
    subject = info->subject;
  } else if (subject_type == kIdTokenType || subject_type == "urn:ietf:params:oauth:token-type:jwt") {
    auto claims = our_jwt(req, state, *subject_token);
    if (!claims) return oauth_error(res, "invalid_grant", "subject_token is not a valid ID token of this issuer");
    subject = claims->value("sub", "");
  } else {
    return oauth_error(res, "invalid_request", "unsupported subject_token_type " + subject_type);
  }
  std::string requested = form(req, "requested_token_type").value_or(kAccessTokenType);
  if (requested == kIdJagType) return exchange_for_id_jag(req, res, state, client, subject, scope);
  if (requested != kAccessTokenType) {
    return oauth_error(res, "invalid_request", "unsupported requested_token_type " + requested);
  }
  std::string resource;
  if (!read_resource(req, res, &resource)) return;
  send_access_token(req, res, state, {client.id, subject, scope, 0, resource}, false,
                    {{"issued_token_type", kAccessTokenType}});
}

void grant_jwt_bearer(const Request& req, Responder& res, ServerState& state, const OAuthClient* client) {
  auto assertion = form(req, "assertion");
  if (!assertion) return oauth_error(res, "invalid_request", "assertion is required");
  auto jws = parse_jws(*assertion);
  if (!jws) return oauth_error(res, "invalid_grant", "the assertion is not a JWT");
  if (jws->header.value("typ", "") == "oauth-id-jag+jwt") return redeem_id_jag(req, res, state, client, *assertion);
  redeem_client_jwt(req, res, state, *assertion);
}

}  // namespace luaload::engine::target::oauth
