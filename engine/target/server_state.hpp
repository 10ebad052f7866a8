// SPDX-License-Identifier: MIT
#pragma once

#include <random>

#include "engine/target/mcp_methods.hpp"
#include "engine/target/mcp_sessions.hpp"
#include "engine/target/oauth_clients.hpp"
#include "engine/target/oauth_fetch.hpp"
#include "engine/target/oauth_jose.hpp"
#include "engine/target/oauth_store.hpp"
#include "engine/target/target_options.hpp"

namespace luaload::engine::target {

// Everything the routes share across the server's threads. options is read-only once the server runs; the tables
// and the MCP change feed lock internally.
struct ServerState {
  explicit ServerState(TargetOptions opts)
      : options(std::move(opts)), oauth(options.token_ttl_ms, options.refresh_ttl_ms) {
    mcp_server.list_fixtures = options.mcp_fixtures;
    mcp_server.cache_ttl_ms = options.mcp_cache_ttl_ms;
    mcp_server.retry_ms = options.mcp_retry_ms;
    mcp_server.listen_timeout_ms = options.mcp_listen_timeout_ms;
    mcp_server.heartbeat_ms = options.mcp_heartbeat_ms;
  }

  const TargetOptions options;
  OAuthStore oauth;
  OAuthClients oauth_clients;  // built-in, registered (RFC 7591) and metadata-document clients
  SigningKey signing_key;      // ES256: ID tokens, ID-JAGs, JWT access tokens; published at /oauth/jwks
  DocumentFetcher fetcher;     // client metadata documents and jwks_uri, off the server loops
  McpSessions mcp;          // legacy sessions of /mcp
  mcp::Server mcp_server;   // the transport-independent MCP server: settings, change feed, requestState key
};

// The calling thread's random generator (latency draws, error injection): no locking on the hot path.
inline std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace luaload::engine::target
