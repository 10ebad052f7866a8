// SPDX-License-Identifier: MIT
// MCP streamable HTTP transport: POST carries JSON-RPC, GET opens a server-to-client SSE stream, DELETE ends the
// session. The methods themselves live in mcp_methods.cpp.
#include <memory>
#include <string>

#include "engine/target/http_util.hpp"
#include "engine/target/mcp_methods.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

using json = nlohmann::json;

constexpr int kProgressSteps = 4;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& message) { return "event: message\ndata: " + dump(message) + "\n\n"; }

void rpc_failure(Responder& res, int status, int code, const std::string& message) {
  res.respond(status, "application/json", dump(mcp::rpc_error(nullptr, code, message)));
}

struct Accepts {
  bool json = false;
  bool sse = false;
};

Accepts accepts(const Request& req) {
  const std::string* accept = req.header("accept");
  if (accept == nullptr) return {true, false};
  bool any = header_lists(*accept, "*/*");
  return {any || header_lists(*accept, "application/json") || header_lists(*accept, "application/*"),
          header_lists(*accept, "text/event-stream")};
}

bool use_sse(const Accepts& a, McpSseMode mode, bool slow_call) {
  if (!a.sse) return false;
  if (!a.json) return true;
  return mode == McpSseMode::Always || (mode == McpSseMode::Auto && slow_call);
}

// Checks Mcp-Session-Id and MCP-Protocol-Version; answers and returns false when the request cannot go on.
bool check_session(const Request& req, Responder& res, ServerState& state) {
  const std::string* id = req.header("mcp-session-id");
  if (id == nullptr) {
    rpc_failure(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    return false;
  }
  if (!state.mcp.find(*id)) {
    rpc_failure(res, 404, -32001, "Session not found");
    return false;
  }
  const std::string* version = req.header("mcp-protocol-version");
  if (version != nullptr && !mcp::supported_version(*version)) {
    rpc_failure(res, 400, -32000, "Bad Request: unsupported MCP-Protocol-Version " + *version);
    return false;
  }
  return true;
}

void send_message(Responder& res, const json& message, bool sse, std::span<const HeaderField> extra = {}) {
  if (!sse) return res.respond(200, "application/json", dump(message), extra);
  res.begin_stream(200, "text/event-stream", extra);
  res.stream_write(sse_event(message));
  res.end_stream();
}

// The slow tool over SSE: progress notifications at even steps (if asked for), then the result.
void send_progress(Responder& res, std::shared_ptr<mcp::Reply> reply, int step) {
  uint64_t interval = reply->delay_ms / kProgressSteps;
  if (step == kProgressSteps || reply->progress_token.is_null()) {
    uint64_t remaining = reply->progress_token.is_null() ? reply->delay_ms : reply->delay_ms - interval * step;
    res.after(remaining, [&res, reply] {
      res.stream_write(sse_event(reply->response));
      res.end_stream();
    });
    return;
  }
  json note = {{"jsonrpc", "2.0"},
               {"method", "notifications/progress"},
               {"params", {{"progressToken", reply->progress_token}, {"progress", step}, {"total", kProgressSteps}}}};
  res.stream_write(sse_event(note));
  res.after(interval, [&res, reply, step] { send_progress(res, reply, step + 1); });
}

void answer_request(const Request& req, Responder& res, ServerState& state, const json& message) {
  std::string method = message["method"];
  json params = message.value("params", json::object());
  Accepts a = accepts(req);
  mcp::Reply reply = mcp::handle_request(method, message["id"], params);
  bool sse = use_sse(a, state.options.mcp_sse, reply.delay_ms > 0);
  if (reply.delay_ms == 0) return send_message(res, reply.response, sse);
  auto shared = std::make_shared<mcp::Reply>(std::move(reply));
  if (!sse) {
    return res.after(shared->delay_ms, [&res, shared] { send_message(res, shared->response, false); });
  }
  res.begin_stream(200, "text/event-stream");
  send_progress(res, shared, 0);
}

void initialize(const Request& req, Responder& res, ServerState& state, const json& message) {
  std::string version;
  json result = mcp::initialize_result(message.value("params", json::object()), &version);
  std::string session = state.mcp.create(version);
  HeaderField headers[] = {{"Mcp-Session-Id", session}};
  send_message(res, mcp::rpc_result(message["id"], std::move(result)),
               use_sse(accepts(req), state.options.mcp_sse, false), headers);
}

void post(const Request& req, Responder& res, ServerState& state) {
  json message = json::parse(req.body, nullptr, false);
  if (message.is_discarded()) return rpc_failure(res, 400, mcp::kParseError, "Parse error");
  Accepts a = accepts(req);
  if (!a.json && !a.sse) return rpc_failure(res, 406, -32000, "Not Acceptable: accept application/json or SSE");
  bool has_method = message.is_object() && message.contains("method") && message["method"].is_string();
  bool is_response = message.is_object() && (message.contains("result") || message.contains("error"));
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0" || (!has_method && !is_response)) {
    return rpc_failure(res, 400, mcp::kInvalidRequest, "Invalid Request");
  }
  bool is_request = has_method && message.contains("id");
  if (is_request && !(message["id"].is_string() || message["id"].is_number_integer())) {
    return rpc_failure(res, 400, mcp::kInvalidRequest, "Invalid Request: id must be a string or an integer");
  }
  if (is_request && message["method"] == "initialize") return initialize(req, res, state, message);
  if (!check_session(req, res, state)) return;
  // Notifications (notifications/initialized, cancellations) and client responses: accepted, no body.
  if (!is_request) return res.respond(202, "", "");
  answer_request(req, res, state, message);
}

void heartbeat(Responder& res, ServerState& state, std::string session, uint64_t interval_ms) {
  res.after(interval_ms, [&res, &state, session = std::move(session), interval_ms]() mutable {
    if (!state.mcp.find(session)) return res.end_stream();
    res.stream_write(": heartbeat\n\n");
    heartbeat(res, state, std::move(session), interval_ms);
  });
}

void open_stream(const Request& req, Responder& res, ServerState& state) {
  if (!accepts(req).sse) return method_not_allowed(res, "POST, DELETE");
  if (!check_session(req, res, state)) return;
  res.begin_stream(200, "text/event-stream");
  // A first comment flushes the head through proxies and tells the client the stream is live.
  res.stream_write(": stream open\n\n");
  heartbeat(res, state, *req.header("mcp-session-id"), static_cast<uint64_t>(state.options.mcp_heartbeat_ms));
}

void end_session(const Request& req, Responder& res, ServerState& state) {
  if (!check_session(req, res, state)) return;
  state.mcp.remove(*req.header("mcp-session-id"));
  res.respond(204, "", "");
}

}  // namespace

void mcp(const Request& req, Responder& res, ServerState& state) {
  if (req.method == "POST") return post(req, res, state);
  if (req.method == "GET") return open_stream(req, res, state);
  if (req.method == "DELETE") return end_session(req, res, state);
  method_not_allowed(res, "GET, POST, DELETE");
}

}  // namespace luaload::engine::target::routes
