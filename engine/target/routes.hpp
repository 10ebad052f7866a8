// SPDX-License-Identifier: MIT
#pragma once

// Route handlers, one family per file. Each follows the Responder contract: it ends its exchange exactly once,
// immediately or from an after() callback. All run on the connection's loop thread and never block.
#include <string_view>

#include "engine/target/request.hpp"
#include "engine/target/responder.hpp"

namespace luaload::engine::target {

struct ServerState;

namespace routes {

// basic_routes.cpp
void health(const Request& req, Responder& res, ServerState& state);     // GET /health
void echo(const Request& req, Responder& res, ServerState& state);       // /echo
void redirect(const Request& req, Responder& res, ServerState& state);   // /redirect/N
void status(const Request& req, Responder& res, ServerState& state);     // /status/NNN
void not_found(const Request& req, Responder& res, ServerState& state);  // anything else
// content_routes.cpp: /content/fast|slow|mixed|custom
void content(const Request& req, Responder& res, ServerState& state);
// oauth_routes.cpp
void oauth_token(const Request& req, Responder& res, ServerState& state);      // POST /oauth/token
void oauth_authorize(const Request& req, Responder& res, ServerState& state);  // GET /oauth/authorize
// oauth_metadata.cpp
void well_known(const Request& req, Responder& res, ServerState& state);      // /.well-known/*, /oauth/.well-known/*
void oauth_jwks(const Request& req, Responder& res, ServerState& state);      // GET /oauth/jwks
void oauth_register(const Request& req, Responder& res, ServerState& state);  // POST /oauth/register, /register
void oauth_client_metadata(const Request& req, Responder& res, ServerState& state);  // /oauth/client-metadata.json
// api_routes.cpp: /api/* behind a bearer token
void api(const Request& req, Responder& res, ServerState& state);
// mcp_route.cpp: /mcp
void mcp(const Request& req, Responder& res, ServerState& state);
// mcp_auth_routes.cpp: /protected/mcp (bearer tokens for this resource, then as /mcp)
void protected_mcp(const Request& req, Responder& res, ServerState& state);
// sse_route.cpp: /sse?events=N&interval=D
void sse(const Request& req, Responder& res, ServerState& state);

// Helpers shared by the route files.
void respond_json(Responder& res, int status, std::string_view json);
void method_not_allowed(Responder& res, std::string_view allow);

}  // namespace routes
}  // namespace luaload::engine::target
