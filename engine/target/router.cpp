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
  if (path == "/oauth/token") return routes::oauth_token(request, responder, state);
  if (path == "/oauth/authorize") return routes::oauth_authorize(request, responder, state);
  if (path.starts_with("/redirect/")) return routes::redirect(request, responder, state);
  if (path.starts_with("/status/")) return routes::status(request, responder, state);
  if (path == "/sse") return routes::sse(request, responder, state);
  routes::not_found(request, responder, state);
}

}  // namespace luaload::engine::target
