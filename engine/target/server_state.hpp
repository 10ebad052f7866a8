// SPDX-License-Identifier: MIT
#pragma once

#include <random>

#include "engine/target/mcp_sessions.hpp"
#include "engine/target/oauth_store.hpp"
#include "engine/target/target_options.hpp"

namespace luaload::engine::target {

// Everything the routes share across the server's threads. options is read-only once the server runs; the two
// tables lock internally.
struct ServerState {
  explicit ServerState(TargetOptions opts)
      : options(std::move(opts)), oauth(options.token_ttl_ms, options.refresh_ttl_ms) {}

  const TargetOptions options;
  OAuthStore oauth;
  McpSessions mcp;
};

// The calling thread's random generator (latency draws, error injection): no locking on the hot path.
inline std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace luaload::engine::target
