// SPDX-License-Identifier: MIT
#pragma once

// The grants of the token endpoint, each for an already authenticated client (oauth_routes.cpp). Each answers its
// exchange exactly once (tokens or an RFC 6749 §5.2 error), possibly later (jwt-bearer may fetch a jwks_uri).
#include "engine/target/oauth_clients.hpp"
#include "engine/target/request.hpp"
#include "engine/target/responder.hpp"

namespace luaload::engine::target {

struct ServerState;

namespace oauth {

void grant_client_credentials(const Request& req, Responder& res, ServerState& state, const OAuthClient& client);
// The built-in client only (resource owner password credentials: users u*, password "pass").
void grant_password(const Request& req, Responder& res, ServerState& state, const OAuthClient& client);
void grant_refresh(const Request& req, Responder& res, ServerState& state, const OAuthClient& client);
void grant_code(const Request& req, Responder& res, ServerState& state, const OAuthClient& client);
// RFC 8693: an access token or an ID token of ours -> an ID-JAG (SEP-990) or an access token for a resource.
void grant_token_exchange(const Request& req, Responder& res, ServerState& state, const OAuthClient& client);
// RFC 7523 §2.1: an ID-JAG we issued, or a JWT signed by a registered client's key -> an access token.
// `client` is null when the request carried no client authentication (the assertion then speaks for itself).
void grant_jwt_bearer(const Request& req, Responder& res, ServerState& state, const OAuthClient* client);

}  // namespace oauth
}  // namespace luaload::engine::target
