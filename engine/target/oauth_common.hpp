// SPDX-License-Identifier: MIT
#pragma once

// Internal to the authorization-server and protected-resource routes (oauth_*.cpp, mcp_auth_routes.cpp).
// Loop-thread only, like every route.
//
// The target runs two issuers with the same clients, keys and tokens: "<base>/oauth" (endpoints /oauth/authorize,
// /oauth/token, /oauth/register; metadata at the path-based well-known URLs; what the protected resource names)
// and "<base>" (endpoints /authorize, /token, /register: the 2025-03-26 default endpoints; metadata at the root
// well-known URLs). <base> is the scheme and the request's Host.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/target/oauth_clients.hpp"
#include "engine/target/oauth_fetch.hpp"
#include "engine/target/oauth_store.hpp"
#include "engine/target/request.hpp"
#include "engine/target/responder.hpp"

namespace luaload::engine::target {

struct ServerState;

namespace oauth {

inline constexpr const char* kProtectedPath = "/protected/mcp";
inline constexpr const char* kReadScope = "mcp:read";
inline constexpr const char* kWriteScope = "mcp:write";
inline constexpr const char* kTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr const char* kJwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
inline constexpr const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
inline constexpr const char* kIdJagType = "urn:ietf:params:oauth:token-type:id-jag";
inline constexpr const char* kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
inline constexpr const char* kIdTokenType = "urn:ietf:params:oauth:token-type:id_token";

std::string base_url(const Request& req, const ServerState& state);
// The issuer whose endpoint the request hit: <base>/oauth under /oauth/, <base> otherwise.
std::string issuer_for(const Request& req, const ServerState& state);
std::string protected_resource(const Request& req, const ServerState& state);
std::string resource_metadata_url(const Request& req, const ServerState& state);
// Both issuers' identifiers (assertion audiences may name either, with or without a trailing slash).
bool is_our_issuer(const Request& req, const ServerState& state, std::string_view value);

// RFC 6749 §5.2 errors (invalid_client: 401 with a Basic challenge, the rest 400 unless `status` says otherwise).
void oauth_error(Responder& res, std::string_view error, std::string_view description, int status = 0);
void send_json(Responder& res, int status, const nlohmann::json& body);
// A token response: access (+ refresh) token, scope, and `extra` members (id_token, issued_token_type...).
void send_tokens(Responder& res, const IssuedTokens& tokens, const std::string& scope,
                 const nlohmann::json& extra = nlohmann::json::object());

// Scopes as space-separated lists. mcp:write includes mcp:read (a broader scope implies the narrower one).
bool scope_covers(std::string_view granted, std::string_view wanted);

// GETs `url` off the loop (DocumentFetcher) and calls done once with the outcome, from a Responder::after callback.
void fetch(Responder& res, ServerState& state, std::string url,
           std::function<void(const DocumentFetcher::Fetch&)> done);
// The client `id` names: built-in, registered, or a metadata document URL (fetched and cached). done(client, "")
// or done(nullopt, why).
void resolve_client(Responder& res, ServerState& state, const std::string& id,
                    std::function<void(std::optional<OAuthClient>, std::string)> done);

int64_t unix_now_s();

}  // namespace oauth
}  // namespace luaload::engine::target
