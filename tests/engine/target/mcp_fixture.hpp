// SPDX-License-Identifier: MIT
#pragma once

// Helpers for the /mcp tests: legacy (session) and modern (per-request _meta + headers) requests over the blocking
// client, and SSE bodies split into their messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/target/target_fixture.hpp"

namespace luaload::test {

inline constexpr const char* kAcceptBoth = "Accept: application/json, text/event-stream\r\n";
inline constexpr const char* kJsonBody = "Content-Type: application/json\r\n";
inline constexpr const char* kModern = "2026-07-28";

struct SseEvent {
  std::string id;
  std::string retry;
  std::string data;
};

class McpTest : public TargetTest {
 protected:
  using json = nlohmann::json;

  static json call(const json& id, const std::string& method, json params = json::object()) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  }

  // Legacy: a POST in `session` (when given) with MCP-Protocol-Version `version`.
  HttpResponse post(BlockingClient& client, const json& message, const std::string& session = "",
                    const std::string& accept = kAcceptBoth, const std::string& version = "2025-06-18") {
    std::string headers = accept + kJsonBody;
    if (!session.empty()) headers += "Mcp-Session-Id: " + session + "\r\nMCP-Protocol-Version: " + version + "\r\n";
    return client.request("POST", "/mcp", headers, message.dump());
  }

  std::string initialize(BlockingClient& client, const std::string& version = "2025-06-18",
                         json capabilities = json::object()) {
    HttpResponse res = post(client, call(1, "initialize", {{"protocolVersion", version},
                                                           {"capabilities", std::move(capabilities)},
                                                           {"clientInfo", {{"name", "test"}, {"version", "1"}}}}));
    EXPECT_EQ(res.status, 200);
    std::string session = res.header("mcp-session-id");
    EXPECT_FALSE(session.empty());
    EXPECT_EQ(post(client, {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, session, kAcceptBoth, version)
                  .status,
              202);
    return session;
  }

  // Modern: `params` with the _meta envelope added (capabilities and log level as given).
  static json modern_call(const json& id, const std::string& method, json params = json::object(),
                          json capabilities = json::object(), const std::string& log_level = "") {
    json& meta = params["_meta"];
    meta["io.modelcontextprotocol/protocolVersion"] = kModern;
    meta["io.modelcontextprotocol/clientInfo"] = {{"name", "test"}, {"version", "1"}};
    meta["io.modelcontextprotocol/clientCapabilities"] = std::move(capabilities);
    if (!log_level.empty()) meta["io.modelcontextprotocol/logLevel"] = log_level;
    return call(id, method, std::move(params));
  }

  // The request metadata headers a conforming modern client sends for `message`.
  static std::string modern_headers(const json& message) {
    std::string method = message.value("method", "");
    std::string headers = std::string(kAcceptBoth) + kJsonBody + "MCP-Protocol-Version: " + kModern +
                          "\r\nMcp-Method: " + method + "\r\n";
    const json& params = message.contains("params") ? message["params"] : json::object();
    const char* field = method == "resources/read" ? "uri" : (method == "tools/call" || method == "prompts/get") ? "name" : nullptr;
    if (field != nullptr && params.contains(field)) headers += "Mcp-Name: " + params[field].get<std::string>() + "\r\n";
    return headers;
  }

  HttpResponse post_modern(BlockingClient& client, const json& message, const std::string& extra = "",
                           const std::string& path = "/mcp") {
    return client.request("POST", path, modern_headers(message) + extra, message.dump());
  }

  // The events of an SSE body (comments skipped, events without data kept: the priming event has none).
  static std::vector<SseEvent> sse_events(const std::string& body) {
    std::vector<SseEvent> events;
    SseEvent current;
    bool any = false;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t eol = body.find('\n', pos);
      std::string line = body.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      pos = eol == std::string::npos ? body.size() : eol + 1;
      if (line.empty()) {
        if (any) events.push_back(current);
        current = {};
        any = false;
      } else if (line.rfind("id: ", 0) == 0) {
        current.id = line.substr(4), any = true;
      } else if (line.rfind("retry: ", 0) == 0) {
        current.retry = line.substr(7), any = true;
      } else if (line.rfind("data:", 0) == 0) {
        current.data = line.size() > 6 ? line.substr(6) : "", any = true;
      }
    }
    return events;
  }

  // The JSON-RPC messages of an SSE body, or the one of a JSON body.
  static std::vector<json> messages(const HttpResponse& res) {
    if (res.header("content-type") != "text/event-stream") return {json::parse(res.body)};
    std::vector<json> out;
    for (const SseEvent& e : sse_events(res.body)) {
      if (!e.data.empty()) out.push_back(json::parse(e.data));
    }
    return out;
  }
  static json last_message(const HttpResponse& res) { return messages(res).back(); }
};

}  // namespace luaload::test
