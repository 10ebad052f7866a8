// SPDX-License-Identifier: MIT
#pragma once

// Internal to the /mcp route files (mcp_route.cpp, mcp_modern.cpp, mcp_legacy.cpp, mcp_http_sink.cpp): the pieces
// of Streamable HTTP both eras share. Loop-thread only, like every route.
#include <nlohmann/json.hpp>
#include <string>

#include "engine/target/mcp_exchange.hpp"
#include "engine/target/request.hpp"
#include "engine/target/responder.hpp"
#include "engine/target/target_options.hpp"

namespace luaload::engine::target {

struct ServerState;

namespace mcp_http {

struct Accepts {
  bool json = false;
  bool sse = false;
};
// From the Accept header (absent: JSON only; */* and application/* count as JSON).
Accepts accepts(const Request& req);

// A JSON-RPC error as a JSON answer with `status`.
void rpc_failure(Responder& res, int status, const nlohmann::json& id, int code, const std::string& message,
                 nlohmann::json data = nullptr);

// DNS-rebinding protection: when the server listens on a loopback address, Host must name a loopback host and
// Origin (when present) a loopback origin. Answers 403 and returns false otherwise.
bool check_origin(const Request& req, Responder& res, const ServerState& state);

// Whether one exchange answers with SSE: required when the client accepts only SSE or the reply asks, suspends or
// listens; otherwise --mcp-sse decides (auto: when anything precedes the response). Errors with a status other
// than 200 are always JSON.
bool choose_sse(const Accepts& accepts, McpSseMode mode, const mcp::Reply& reply);
// Whether notifications may precede a response at all (Context::can_stream) for this client and mode.
bool can_stream(const Accepts& accepts, McpSseMode mode);

// How an exchange's answer travels.
struct Stream {
  bool sse = false;
  std::string session;         // legacy session id ("" in the modern era): server requests, parking
  std::string session_header;  // set on initialize: sent as Mcp-Session-Id
  std::string stream_id;       // resumable streams (2025-11-25): event ids "<stream_id>-<n>"; "" for none
  uint64_t next_event = 0;     // 0: a new stream (starts with the priming event); else a resumed one
};

// Runs `reply` as the answer of the current exchange on `res`.
void answer(Responder& res, ServerState& state, mcp::Reply reply, Stream stream);

// mcp_modern.cpp: one POST classified modern (it carries the _meta envelope claim or a modern version header).
void serve_modern(const Request& req, Responder& res, ServerState& state, const nlohmann::json& message);
// mcp_legacy.cpp: POST/GET/DELETE of the 2025 revisions (sessions).
void serve_legacy_post(const Request& req, Responder& res, ServerState& state, const nlohmann::json& message);
void serve_legacy_get(const Request& req, Responder& res, ServerState& state);
void serve_legacy_delete(const Request& req, Responder& res, ServerState& state);

}  // namespace mcp_http
}  // namespace luaload::engine::target
