// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "engine/target/latency.hpp"

namespace luaload::engine::target {

// How /mcp answers a request whose Accept header allows both application/json and text/event-stream.
enum class McpSseMode {
  Auto,    // SSE for tools/call of the "slow" tool, JSON otherwise
  Always,  // SSE whenever the client accepts it
  Never,   // JSON whenever the client accepts it
};

// Defaults of one /content/<name> route; query parameters of /content/custom override them per request.
struct ContentProfile {
  LatencySpec latency;
  double error_rate = 0;  // probability of a 500/503 answer
  size_t size = 1024;     // response body bytes
};

// Which MCP eras /mcp serves.
enum class McpEra {
  Both,    // modern requests (with the _meta envelope) statelessly, initialize opens a legacy session
  Modern,  // 2026-07-28 only: legacy traffic is refused like the TypeScript SDK's legacy: 'reject'
  Legacy,  // 2025 revisions only: modern requests get the answer a 2025 server gives (no session: 400)
};

struct TargetOptions {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal
  int port = 0;                    // 0: pick a free port, read it back with TargetServer::port()
  int threads = 1;                 // worker threads, each with its own loop and SO_REUSEPORT listener

  // TLS: both set, or neither (plain HTTP).
  std::string tls_cert_file;
  std::string tls_key_file;

  int64_t token_ttl_ms = 3'600'000;         // OAuth access token lifetime
  int64_t refresh_ttl_ms = 86'400'000;      // OAuth refresh token lifetime
  bool jwt_access_tokens = false;           // --token-format jwt: RFC 9068 access tokens (ES256) instead of opaque
  McpSseMode mcp_sse = McpSseMode::Auto;
  int64_t mcp_heartbeat_ms = 15'000;        // comment line on GET /mcp and subscriptions/listen streams
  McpEra mcp_era = McpEra::Both;
  bool mcp_fixtures = false;                // list the conformance/feature fixtures in tools|prompts|resources/list
  int64_t mcp_cache_ttl_ms = 300'000;       // ttlMs of cacheable modern results
  int64_t mcp_retry_ms = 1'000;             // SSE retry: on resumable (2025-11-25) streams
  int64_t mcp_listen_timeout_ms = 0;        // end subscriptions/listen streams gracefully after this long; 0: never

  // /content/<name> defaults; keys "fast", "slow", "mixed", "custom". See default_content_profiles().
  std::map<std::string, ContentProfile> content = default_content_profiles();

  // Hostile-client protection.
  int64_t idle_timeout_ms = 60'000;      // keep-alive connection with no request in progress
  int64_t request_timeout_ms = 30'000;   // from the first byte of a request to its last (slowloris)
  size_t max_header_bytes = 16 * 1024;   // request line + headers; over it: 431 and close
  size_t max_body_bytes = 8 * 1024 * 1024;  // over it: 413 and close

  static std::map<std::string, ContentProfile> default_content_profiles();
};

}  // namespace luaload::engine::target
