// SPDX-License-Identifier: MIT
#pragma once

// The target's MCP methods, independent of any transport: a function of one JSON-RPC message and its context
// (era, revision, client capabilities, log level) producing a Reply — the final response plus whatever precedes
// it (notifications, delays, a server request to wait for, a listen subscription). Streamable HTTP
// (mcp_route.cpp) and stdio (stdio*.cpp) run the same Replies with mcp::run() (mcp_exchange.hpp).
//
// Threading: every function here may be called from any thread; Server's mutable parts lock or are atomic.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/target/mcp_events.hpp"
#include "engine/target/mcp_protocol.hpp"

namespace luaload::engine::target::mcp {

enum class Era { Legacy, Modern };

// Settings and shared state of one MCP server (one per TargetServer, or per stdio process).
struct Server {
  Server();  // a random requestState key

  // List the conformance and feature fixtures (test_* tools, test:// resources, test_* prompts) in the list
  // results. They can always be called by name; unlisted, tools/list shows only echo, add and slow.
  bool list_fixtures = false;
  int64_t cache_ttl_ms = 300'000;   // ttlMs of cacheable modern results
  int64_t retry_ms = 1'000;         // SSE `retry:` of resumable (2025-11-25) streams
  int64_t listen_timeout_ms = 0;    // a listen stream ends gracefully after this long; 0: only when the client leaves
  int64_t heartbeat_ms = 15'000;    // keep-alive comment on long-lived streams (transports that have comments)
  std::string state_key;            // HMAC-SHA256 key protecting MRTR requestState
  ChangeFeed changes;               // list_changed / resources/updated, published by the trigger tools
};

// Who sent the message and what the transport can carry back.
struct Context {
  Era era = Era::Legacy;
  std::string protocol_version;                                 // negotiated (legacy) or declared (modern)
  // From initialize (legacy; shared by every request of the session) or _meta (modern). Never null.
  std::shared_ptr<const nlohmann::json> client_capabilities = no_capabilities();
  std::string log_level;    // minimum level of notifications/message; "" sends none
  bool can_stream = true;   // notifications may precede the response (SSE, stdio); false: a single JSON body
  bool can_ask = true;      // legacy: a server request can be sent and its answer awaited (SSE + session, stdio)

  bool declares(const char* capability) const { return client_capabilities->contains(capability); }
  static std::shared_ptr<const nlohmann::json> no_capabilities();
};

struct Reply;
// Continues an exchange with the client's answer to a server request: its whole JSON-RPC response message
// ({"id","result"} or {"id","error"}).
using Resume = std::function<Reply(const nlohmann::json& answer)>;

struct Step {
  enum class Kind {
    Send,     // send `message` (a notification)
    Wait,     // wait `delay_ms`
    Ask,      // legacy: send the server request `message` ({"method","params"}; the transport adds jsonrpc and a
              // fresh id), wait for the client's answer, then run resume(answer). Always the last step.
    Suspend,  // resumable-stream fixture: the transport may close the stream here and run the remaining steps
              // when the client resumes (HTTP: GET + Last-Event-ID); transports that cannot, ignore it
    Listen,   // modern subscriptions/listen: stay open and deliver the changes `message` subscribes to (see
              // listen_notification); ends when the client leaves or after Server::listen_timeout_ms with
              // listen_closed(). Always the last step.
  };
  Kind kind = Kind::Send;
  nlohmann::json message;
  uint64_t delay_ms = 0;
  Resume resume;
};

// What a request produces. Transports send `steps` in order, then `response` (when not null).
struct Reply {
  Reply() = default;
  Reply(nlohmann::json r, int status = 200) : response(std::move(r)), http_status(status) {}  // NOLINT: implicit

  std::vector<Step> steps;
  nlohmann::json response;  // null after an Ask (its Resume supplies the rest) or a Listen
  int http_status = 200;    // HTTP transports: the status of a JSON answer (400/404 for modern protocol errors)
  // Legacy session state the transport keeps for the session (HTTP) or the process (stdio):
  std::optional<std::string> set_log_level;                      // logging/setLevel
  std::vector<std::pair<std::string, bool>> subscription_changes;  // resources/(un)subscribe: uri, subscribed
};

// Legacy `initialize` (a request). Negotiates the revision and fills *session (era, protocol_version,
// client_capabilities) for the transport to keep with the session.
Reply initialize(const Server& server, const nlohmann::json& message, Context* session);

// Modern: validates the request's params._meta envelope. On success fills *ctx (era, version, capabilities,
// log level; can_stream/can_ask are the transport's) and returns nullopt; otherwise the error to send
// (-32602 for a malformed envelope, -32022 with data.supported for an unsupported revision; http_status 400).
std::optional<Reply> open_modern(const nlohmann::json& message, Context* ctx);

// Every request except legacy `initialize`, in either era. The message is a JSON-RPC request object
// ({"jsonrpc","id","method"[,"params"]}); unknown methods get -32601 (modern: http_status 404). In the modern era
// results get resultType, _meta serverInfo and, on cacheable methods, ttlMs + cacheScope.
Reply handle_request(Server& server, const nlohmann::json& message, const Context& ctx);

// The x-mcp-header parameters of a tool's inputSchema (HTTP mirrors them into Mcp-Param-{header}); empty for
// tools without any. Our tools annotate top-level properties only.
struct HeaderParam {
  std::string header;    // "Region" -> Mcp-Param-Region
  std::string property;  // arguments.<property>
};
const std::vector<HeaderParam>& tool_header_params(std::string_view tool);

// Listen helpers for transports. `listen` is the message of a Listen step: {"id": <listen request id>,
// "notifications": <the acknowledged filter>}. The notification `event` produces on that subscription (carrying
// _meta subscriptionId), or null when the filter does not ask for it.
nlohmann::json listen_notification(const nlohmann::json& listen, const ChangeEvent& event);
// The graceful end of a subscription: the response to the listen request.
nlohmann::json listen_closed(const nlohmann::json& listen);
// Legacy: the notification for `event` on a session's standalone stream (GET /mcp, stdio), or null when the session
// did not subscribe to it (`subscribed` tells whether event.uri is among the session's resource subscriptions).
nlohmann::json legacy_change_notification(const ChangeEvent& event, bool subscribed);

}  // namespace luaload::engine::target::mcp
