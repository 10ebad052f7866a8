// SPDX-License-Identifier: MIT
// The legacy eras (2025-11-25, 2025-06-18, 2025-03-26) on /mcp: initialize opens a session (Mcp-Session-Id), POST
// carries requests, notifications and the client's answers to server requests, GET opens the session's standalone
// stream or resumes a parked POST stream (Last-Event-ID), DELETE ends the session.
#include "engine/target/http_util.hpp"
#include "engine/target/mcp_http.hpp"
#include "engine/target/routes.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::mcp_http {
namespace {

using json = nlohmann::json;

constexpr uint64_t kSessionCheckPolls = 1000 / mcp::kListenPollMs;

// The session a request names; answers (400 without, 404 when unknown, 400 for an unsupported
// MCP-Protocol-Version) and returns nullopt when it cannot go on.
std::optional<mcp::Context> check_session(const Request& req, Responder& res, ServerState& state) {
  const std::string* id = req.header("mcp-session-id");
  if (id == nullptr) {
    rpc_failure(res, 400, nullptr, -32000, "Bad Request: Mcp-Session-Id header is required");
    return std::nullopt;
  }
  auto ctx = state.mcp.find(*id);
  if (!ctx) {
    rpc_failure(res, 404, nullptr, -32001, "Session not found");
    return std::nullopt;
  }
  const std::string* version = req.header("mcp-protocol-version");
  if (version != nullptr && !mcp::is_legacy_version(*version)) {
    rpc_failure(res, 400, nullptr, -32000, "Bad Request: unsupported MCP-Protocol-Version " + *version);
    return std::nullopt;
  }
  return ctx;
}

std::string resumable_stream_id(ServerState& state, const mcp::Context& ctx) {
  return mcp::has_resumable_streams(ctx.protocol_version) ? state.mcp.new_stream_id() : std::string();
}

void initialize(const Request& req, Responder& res, ServerState& state, const json& message) {
  mcp::Context ctx;
  mcp::Reply reply = mcp::initialize(state.mcp_server, message, &ctx);
  Stream stream;
  stream.session_header = state.mcp.create(ctx);
  stream.sse = choose_sse(accepts(req), state.options.mcp_sse, reply);
  answer(res, state, std::move(reply), std::move(stream));
}

void request(const Request& req, Responder& res, ServerState& state, const json& message, mcp::Context ctx) {
  const std::string& session = *req.header("mcp-session-id");
  Accepts a = accepts(req);
  ctx.can_stream = can_stream(a, state.options.mcp_sse);
  ctx.can_ask = a.sse;
  mcp::Reply reply = mcp::handle_request(state.mcp_server, message, ctx);
  state.mcp.apply(session, reply);
  Stream stream;
  stream.sse = choose_sse(a, state.options.mcp_sse, reply);
  stream.session = session;
  if (stream.sse) stream.stream_id = resumable_stream_id(state, ctx);
  answer(res, state, std::move(reply), std::move(stream));
}

// The standalone stream: list changes (and updates of subscribed resources) as they are published, a heartbeat
// comment when idle; ends once the session is deleted.
class SessionStream : public std::enable_shared_from_this<SessionStream> {
 public:
  SessionStream(Responder& res, ServerState& state, std::string session)
      : res_(res), state_(state), session_(std::move(session)), seen_(state.mcp_server.changes.latest()) {}

  void poll() {
    res_.after(mcp::kListenPollMs, [self = shared_from_this()] { self->on_poll(); });
  }

 private:
  void on_poll() {
    // A deleted session ends its stream; checked about once a second, the table lock is shared by every thread.
    if (++polls_ % kSessionCheckPolls == 0 && !state_.mcp.contains(session_)) return res_.end_stream();
    std::vector<mcp::ChangeEvent> events;
    seen_ = state_.mcp_server.changes.since(seen_, &events);
    idle_ms_ += mcp::kListenPollMs;
    for (const mcp::ChangeEvent& event : events) {
      bool subscribed = event.kind == mcp::ChangeEvent::Kind::ResourceUpdated && state_.mcp.subscribed(session_, event.uri);
      json note = mcp::legacy_change_notification(event, subscribed);
      if (note.is_null()) continue;
      res_.stream_write("event: message\ndata: " + mcp::dump(note) + "\n\n");
      idle_ms_ = 0;
    }
    if (idle_ms_ >= static_cast<uint64_t>(state_.options.mcp_heartbeat_ms)) {
      res_.stream_write(": heartbeat\n\n");
      idle_ms_ = 0;
    }
    poll();
  }

  Responder& res_;
  ServerState& state_;
  std::string session_;
  uint64_t seen_;
  uint64_t idle_ms_ = 0;
  uint64_t polls_ = 0;
};

// GET with Last-Event-ID "<stream>-<n>": the rest of a parked stream, on this response. False when nothing is
// parked under that stream (the client then gets a standalone stream).
bool resume(Responder& res, ServerState& state, const std::string& session, const std::string& last_event_id) {
  size_t dash = last_event_id.rfind('-');
  if (dash == std::string::npos) return false;
  std::string stream_id = last_event_id.substr(0, dash);
  auto parked = state.mcp.take_parked(session, stream_id);
  if (!parked) return false;
  Stream stream;
  stream.sse = true;
  stream.session = session;
  stream.stream_id = stream_id;
  stream.next_event = parked->next_event;
  answer(res, state, std::move(parked->rest), std::move(stream));
  return true;
}

}  // namespace

void serve_legacy_post(const Request& req, Responder& res, ServerState& state, const json& message) {
  bool has_method = message.contains("method") && message["method"].is_string();
  bool is_request = has_method && message.contains("id");
  if (is_request && message["method"] == "initialize") return initialize(req, res, state, message);
  auto ctx = check_session(req, res, state);
  if (!ctx) return;
  if (!has_method) {
    // The client's answer to one of our server requests; its id is the one we gave it.
    const json& id = message.contains("id") ? message["id"] : json();
    if (id.is_string()) state.mcp.put_answer(*req.header("mcp-session-id"), id.get<std::string>(), message);
    return res.respond(202, "", "");
  }
  // Notifications (notifications/initialized, cancellations): accepted, no body.
  if (!is_request) return res.respond(202, "", "");
  request(req, res, state, message, std::move(*ctx));
}

void serve_legacy_get(const Request& req, Responder& res, ServerState& state) {
  if (!accepts(req).sse) return routes::method_not_allowed(res, "POST, DELETE");
  if (!check_session(req, res, state)) return;
  const std::string& session = *req.header("mcp-session-id");
  if (const std::string* last = req.header("last-event-id"); last != nullptr && resume(res, state, session, *last)) {
    return;
  }
  res.begin_stream(200, "text/event-stream");
  // A first comment flushes the head through proxies and tells the client the stream is live.
  res.stream_write(": stream open\n\n");
  std::make_shared<SessionStream>(res, state, session)->poll();
}

void serve_legacy_delete(const Request& req, Responder& res, ServerState& state) {
  if (!check_session(req, res, state)) return;
  state.mcp.remove(*req.header("mcp-session-id"));
  res.respond(204, "", "");
}

}  // namespace luaload::engine::target::mcp_http
