// SPDX-License-Identifier: MIT
#include "engine/target/router.hpp"

#include "engine/target/routes.hpp"

namespace luaload::engine::target {

void route_request(const Request& request, Responder& responder, ServerState& state) {
  std::string_view path = request.path();
  // Ordered by expected traffic: benchmarks hammer /health and /content first.
  if (path == "/health") return routes::health(request, responder, state);
  if (path.starts_with("/content/")) return routes::content(request, responder, state);
  if (path.starts_with("/api/")) return routes::api(request, responder, state);
  if (path == "/echo") return routes::echo(request, responder, state);
  if (path == "/mcp") return routes::mcp(request, responder, state);
  if (path == "/protected/mcp") return routes::protected_mcp(request, responder, state);
  if (path == "/oauth/token" || path == "/token") return routes::oauth_token(request, responder, state);
  if (path == "/oauth/authorize" || path == "/authorize") return routes::oauth_authorize(request, responder, state);
  if (path == "/oauth/register" || path == "/register") return routes::oauth_register(request, responder, state);
  if (path == "/oauth/jwks") return routes::oauth_jwks(request, responder, state);
  if (path == "/oauth/client-metadata.json") return routes::oauth_client_metadata(request, responder, state);
  if (path.starts_with("/.well-known/") || path.starts_with("/oauth/.well-known/")) {
    return routes::well_known(request, responder, state);
  }
  if (path.starts_with("/redirect/")) return routes::redirect(request, responder, state);
  if (path.starts_with("/status/")) return routes::status(request, responder, state);
  if (path == "/sse") return routes::sse(request, responder, state);
  routes::not_found(request, responder, state);
}

}  // namespace luaload::engine::target
