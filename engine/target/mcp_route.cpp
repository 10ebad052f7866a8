// SPDX-License-Identifier: MIT
// /mcp, Streamable HTTP for both eras. This file classifies each request (modern: the body carries the _meta
// envelope claim, or the MCP-Protocol-Version header names a modern revision; legacy: everything else — initialize,
// session traffic, GET, DELETE) and applies --mcp-era: a modern-only endpoint refuses legacy traffic as the
// TypeScript SDK's createMcpHandler({legacy: 'reject'}) does, a legacy-only one answers modern requests as a 2025
// server does (they carry no session, so: 400).
#include "engine/target/mcp_http.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::routes {
namespace {

using json = nlohmann::json;
using mcp_http::rpc_failure;

bool has_claim(const json& message) {
  auto params = message.find("params");
  if (params == message.end() || !params->is_object()) return false;
  auto meta = params->find("_meta");
  return meta != params->end() && meta->is_object() && meta->contains(mcp::kMetaProtocolVersion);
}

bool modern_header(const Request& req) {
  const std::string* version = req.header("mcp-protocol-version");
  return version != nullptr && mcp::is_modern_version(*version);
}

json supported_versions() {
  json supported = json::array();
  for (const char* v : mcp::kModernVersions) supported.push_back(v);
  return supported;
}

// Modern-only: legacy requests (initialize, or requests without the envelope) get UnsupportedProtocolVersion
// naming the revisions we serve; posted responses and batches are invalid; notifications are acknowledged.
void refuse_legacy(const Request& req, Responder& res, const json& message) {
  bool has_method = message.contains("method") && message["method"].is_string();
  if (has_method && !message.contains("id")) return res.respond(202, "", "");
  const json& id = message.contains("id") ? message["id"] : json();
  if (!has_method) {
    return rpc_failure(res, 400, nullptr, mcp::kInvalidRequest,
                       "Bad Request: JSON-RPC responses cannot be posted to this endpoint");
  }
  std::string requested;
  if (message["method"] == "initialize" && message.contains("params") && message["params"].is_object()) {
    requested = message["params"].value("protocolVersion", "");
  } else if (const std::string* header = req.header("mcp-protocol-version")) {
    requested = *header;
  }
  json data = {{"supported", supported_versions()}};
  if (requested.empty()) {
    return rpc_failure(res, 400, id, mcp::kUnsupportedVersion,
                       "Unsupported protocol version: the request did not name a protocol version", std::move(data));
  }
  data["requested"] = requested;
  rpc_failure(res, 400, id, mcp::kUnsupportedVersion, "Unsupported protocol version: " + requested, std::move(data));
}

// The JSON-RPC shape shared by both eras; answers and returns false when the message is not a single valid one.
bool valid_message(Responder& res, const json& message) {
  bool has_method = message.is_object() && message.contains("method") && message["method"].is_string();
  bool is_response = message.is_object() && (message.contains("result") || message.contains("error"));
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0" || (!has_method && !is_response)) {
    rpc_failure(res, 400, nullptr, mcp::kInvalidRequest, "Invalid Request");
    return false;
  }
  if (has_method && message.contains("id") && !(message["id"].is_string() || message["id"].is_number_integer())) {
    rpc_failure(res, 400, nullptr, mcp::kInvalidRequest, "Invalid Request: id must be a string or an integer");
    return false;
  }
  return true;
}

void post(const Request& req, Responder& res, ServerState& state) {
  json message = json::parse(req.body, nullptr, false);
  if (message.is_discarded()) return rpc_failure(res, 400, nullptr, mcp::kParseError, "Parse error");
  mcp_http::Accepts a = mcp_http::accepts(req);
  if (!a.json && !a.sse) return rpc_failure(res, 406, nullptr, -32000, "Not Acceptable: accept application/json or SSE");
  if (!valid_message(res, message)) return;
  McpEra era = state.options.mcp_era;
  bool modern = has_claim(message) || (modern_header(req) && message.contains("method"));
  if (modern && era != McpEra::Legacy) return mcp_http::serve_modern(req, res, state, message);
  if (era == McpEra::Modern) return refuse_legacy(req, res, message);
  mcp_http::serve_legacy_post(req, res, state, message);
}

void modern_only_method(Responder& res) {
  HeaderField headers[] = {{"Allow", "POST"}};
  res.respond(405, "application/json", mcp::dump(mcp::rpc_error(nullptr, -32000, "Method not allowed.")), headers);
}

}  // namespace

void mcp(const Request& req, Responder& res, ServerState& state) {
  if (!mcp_http::check_origin(req, res, state)) return;
  if (req.method == "POST") return post(req, res, state);
  bool session_method = req.method == "GET" || req.method == "DELETE";
  if (session_method && state.options.mcp_era == McpEra::Modern) return modern_only_method(res);
  if (req.method == "GET") return mcp_http::serve_legacy_get(req, res, state);
  if (req.method == "DELETE") return mcp_http::serve_legacy_delete(req, res, state);
  method_not_allowed(res, state.options.mcp_era == McpEra::Modern ? "POST" : "GET, POST, DELETE");
}

}  // namespace luaload::engine::target::routes
