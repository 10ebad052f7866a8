// SPDX-License-Identifier: MIT
// What each line from the client is, and who serves it. The era follows the message, as on /mcp: a request with
// the _meta envelope claim is modern (stateless); `initialize` opens the process's legacy session; other requests
// belong to that session. --mcp-era modern answers initialize with UnsupportedProtocolVersion (as the TypeScript
// SDK's serveStdio with legacy: 'reject' does); --mcp-era legacy serves envelope requests as a 2025 server would,
// as plain requests of the session.
#include <utility>

#include "engine/target/mcp_methods.hpp"
#include "engine/target/mcp_protocol.hpp"
#include "engine/target/stdio_state.hpp"

namespace luaload::engine::target {

namespace {

using json = nlohmann::json;

bool has_claim(const json& message) {
  auto params = message.find("params");
  if (params == message.end() || !params->is_object()) return false;
  auto meta = params->find("_meta");
  return meta != params->end() && meta->is_object() && meta->contains(mcp::kMetaProtocolVersion);
}

json supported_modern() {
  json list = json::array();
  for (const char* v : mcp::kModernVersions) list.push_back(v);
  return list;
}

bool valid_id(const json& id) { return id.is_string() || id.is_number_integer(); }

}  // namespace

void StdioState::on_line(std::string_view line) {
  json message = json::parse(line, nullptr, false);
  if (message.is_discarded()) return write(mcp::rpc_error(nullptr, mcp::kParseError, "Parse error"));
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0") {
    return write(mcp::rpc_error(nullptr, mcp::kInvalidRequest, "Invalid Request"));
  }
  auto method = message.find("method");
  if (method == message.end()) {
    // The client's answer to one of our server requests.
    auto id = message.find("id");
    if (id == message.end() || !id->is_string()) return;
    auto waiting = awaiting.find(id->get<std::string>());
    if (waiting == awaiting.end()) return;
    auto resume = std::move(waiting->second);
    awaiting.erase(waiting);
    return resume(message);
  }
  if (!method->is_string()) return write(mcp::rpc_error(nullptr, mcp::kInvalidRequest, "Invalid Request"));
  if (!message.contains("id")) return on_notification(message);
  if (!valid_id(message["id"])) {
    return write(mcp::rpc_error(nullptr, mcp::kInvalidRequest, "Invalid Request: id must be a string or an integer"));
  }
  on_request(message);
}

// notifications/cancelled stops its exchange; the others (notifications/initialized, ...) need nothing.
void StdioState::on_notification(const json& message) {
  if (message["method"] != "notifications/cancelled") return;
  const json params = message.value("params", json::object());
  if (!params.is_object() || !params.contains("requestId")) return;
  auto it = exchanges.find(mcp::dump(params["requestId"]));
  if (it == exchanges.end()) return;
  auto sink = std::move(it->second);
  exchanges.erase(it);
  sink->cancel();
}

void StdioState::on_request(const json& message) {
  if (message["method"] == "initialize") return initialize(message);
  if (has_claim(message) && era != McpEra::Legacy) return serve_modern(message);
  serve_legacy(message);
}

void StdioState::initialize(const json& message) {
  const json& id = message["id"];
  if (era == McpEra::Modern) {
    json data = {{"supported", supported_modern()}};
    const json params = message.value("params", json::object());
    if (params.is_object() && params.contains("protocolVersion")) data["requested"] = params["protocolVersion"];
    return write(mcp::rpc_error(id, mcp::kUnsupportedVersion,
                                "Unsupported protocol version: this server speaks 2026-07-28 only", std::move(data)));
  }
  mcp::Context ctx;
  mcp::Reply reply = mcp::initialize(server, message, &ctx);
  if (reply.response.contains("result")) {
    session = std::move(ctx);
    session.can_stream = true;
    session.can_ask = true;
    subscriptions.clear();
    if (!initialized) {
      initialized = true;
      seen_change = server.changes.latest();
      poll_changes();
    }
  }
  serve(id, std::move(reply));
}

void StdioState::serve_legacy(const json& message) {
  const json& id = message["id"];
  if (!initialized) {
    return write(mcp::rpc_error(id, mcp::kInvalidRequest, "Bad Request: the server is not initialized"));
  }
  mcp::Reply reply = mcp::handle_request(server, message, session);
  if (reply.set_log_level) session.log_level = *reply.set_log_level;
  for (const auto& [uri, on] : reply.subscription_changes) {
    if (on) {
      subscriptions.insert(uri);
    } else {
      subscriptions.erase(uri);
    }
  }
  serve(id, std::move(reply));
}

// Stateless: the envelope is the whole context. A stdio server must not send requests to a modern client.
void StdioState::serve_modern(const json& message) {
  mcp::Context ctx;
  ctx.can_stream = true;
  ctx.can_ask = false;
  if (auto error = mcp::open_modern(message, &ctx)) return serve(message["id"], std::move(*error));
  serve(message["id"], mcp::handle_request(server, message, ctx));
}

void StdioState::serve(const json& id, mcp::Reply reply) {
  auto sink = std::make_shared<StdioSink>(shared_from_this(), id);
  exchanges[mcp::dump(id)] = sink;
  mcp::run(server, std::move(sink), std::move(reply));
}

// The legacy session's unsolicited notifications: list changes, and updates of the resources it subscribed to.
void StdioState::poll_changes() {
  change_poll = after(kChangePollMs, [this] {
    change_poll = nullptr;
    std::vector<mcp::ChangeEvent> events;
    seen_change = server.changes.since(seen_change, &events);
    for (const mcp::ChangeEvent& event : events) {
      bool subscribed = event.kind == mcp::ChangeEvent::Kind::ResourceUpdated && subscriptions.count(event.uri) > 0;
      json note = mcp::legacy_change_notification(event, subscribed);
      if (!note.is_null()) write(note);
    }
    poll_changes();
  });
}

}  // namespace luaload::engine::target
