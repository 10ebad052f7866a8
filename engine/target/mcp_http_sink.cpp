// SPDX-License-Identifier: MIT
// Streamable HTTP answers: a Reply as one JSON body or as an SSE stream (with event ids, a priming event and
// `retry:` on resumable 2025-11-25 streams), server requests whose answers arrive on other POSTs, and streams
// parked for GET + Last-Event-ID.
#include <atomic>
#include <vector>

#include "engine/target/http_util.hpp"
#include "engine/target/mcp_http.hpp"
#include "engine/target/server_state.hpp"

namespace luaload::engine::target::mcp_http {
namespace {

using json = nlohmann::json;

// A client's answer to a server request arrives as a POST on another connection, maybe on another thread; the
// waiting stream looks for it this often, and gives up after kAnswerTimeoutMs.
constexpr uint64_t kAnswerPollMs = 5;
constexpr uint64_t kAnswerTimeoutMs = 60'000;

std::atomic<uint64_t> g_server_request_ids{0};

bool loopback_host(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host.starts_with("127.");
}

// "host", "host:port", "[v6]:port" -> host (brackets kept for IPv6).
std::string_view host_of(std::string_view authority) {
  if (authority.starts_with("[")) return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

bool loopback_listener(const std::string& host) { return host == "::1" || host == "localhost" || host.starts_with("127."); }

class HttpSink final : public mcp::Sink {
 public:
  HttpSink(Responder& res, ServerState& state, Stream stream)
      : res_(res), state_(state), stream_(std::move(stream)) {}

  void begin() {
    if (!stream_.sse || begun_) return;
    begun_ = true;
    std::vector<HeaderField> headers = {{"X-Accel-Buffering", "no"}};
    if (!stream_.session_header.empty()) headers.push_back({"Mcp-Session-Id", stream_.session_header});
    res_.begin_stream(200, "text/event-stream", headers);
    if (stream_.stream_id.empty() || stream_.next_event != 0) return;
    // The priming event: an id to resume from, and how long to wait before reconnecting.
    res_.stream_write("id: " + stream_.stream_id + "-0\nretry: " + std::to_string(state_.mcp_server.retry_ms) +
                      "\ndata: \n\n");
    stream_.next_event = 1;
  }

  void send(const json& message) override {
    if (stream_.sse) write_event(message);
  }

  void respond(const json& response, int http_status) override {
    if (!stream_.sse) {
      std::vector<HeaderField> headers;
      if (!stream_.session_header.empty()) headers.push_back({"Mcp-Session-Id", stream_.session_header});
      return res_.respond(http_status, "application/json", mcp::dump(response), headers);
    }
    write_event(response);
    res_.end_stream();
  }

  void finish() override {
    if (stream_.sse) return res_.end_stream();
    res_.respond(202, "", "");
  }

  void after(uint64_t delay_ms, std::function<void()> fn) override { res_.after(delay_ms, std::move(fn)); }

  json next_request_id() override { return "srv-" + std::to_string(++g_server_request_ids); }

  void await_answer(const json& id, std::function<void(const json&)> fn) override {
    poll_answer(id.get<std::string>(), std::move(fn), 0);
  }

  bool suspend(mcp::Reply& rest) override {
    if (stream_.stream_id.empty() || stream_.session.empty()) return false;
    if (!state_.mcp.park(stream_.session, stream_.stream_id, {std::move(rest), stream_.next_event})) return false;
    res_.end_stream();
    return true;
  }

  void heartbeat() override {
    if (stream_.sse) res_.stream_write(": heartbeat\n\n");
  }

 private:
  void write_event(const json& message) {
    begin();
    std::string event;
    if (!stream_.stream_id.empty()) event = "id: " + stream_.stream_id + "-" + std::to_string(stream_.next_event++) + "\n";
    event += "event: message\ndata: " + mcp::dump(message) + "\n\n";
    res_.stream_write(event);
  }

  void poll_answer(std::string id, std::function<void(const json&)> fn, uint64_t waited) {
    if (auto answer = state_.mcp.take_answer(stream_.session, id)) return fn(*answer);
    if (waited >= kAnswerTimeoutMs) {
      return fn(mcp::rpc_error(id, mcp::kInternalError, "no answer from the client in time"));
    }
    res_.after(kAnswerPollMs, [this, id = std::move(id), fn = std::move(fn), waited]() mutable {
      poll_answer(std::move(id), std::move(fn), waited + kAnswerPollMs);
    });
  }

  Responder& res_;
  ServerState& state_;
  Stream stream_;
  bool begun_ = false;
};

}  // namespace

Accepts accepts(const Request& req) {
  const std::string* accept = req.header("accept");
  if (accept == nullptr) return {true, false};
  bool any = header_lists(*accept, "*/*");
  return {any || header_lists(*accept, "application/json") || header_lists(*accept, "application/*"),
          header_lists(*accept, "text/event-stream")};
}

void rpc_failure(Responder& res, int status, const json& id, int code, const std::string& message, json data) {
  json error = data.is_null() ? mcp::rpc_error(id, code, message) : mcp::rpc_error(id, code, message, std::move(data));
  res.respond(status, "application/json", mcp::dump(error));
}

bool check_origin(const Request& req, Responder& res, const ServerState& state) {
  if (!loopback_listener(state.options.host)) return true;
  const std::string* host = req.header("host");
  bool ok = host == nullptr || loopback_host(host_of(*host));
  if (const std::string* origin = req.header("origin"); ok && origin != nullptr) {
    std::string_view o = *origin;
    size_t scheme = o.find("://");
    ok = scheme != std::string_view::npos && loopback_host(host_of(o.substr(scheme + 3)));
  }
  if (!ok) rpc_failure(res, 403, nullptr, -32000, "Forbidden: Host or Origin is not a loopback address");
  return ok;
}

bool choose_sse(const Accepts& a, McpSseMode mode, const mcp::Reply& reply) {
  if (!a.sse || reply.http_status != 200) return false;
  if (!a.json) return true;
  for (const mcp::Step& step : reply.steps) {
    if (step.kind == mcp::Step::Kind::Ask || step.kind == mcp::Step::Kind::Suspend ||
        step.kind == mcp::Step::Kind::Listen) {
      return true;
    }
  }
  if (mode == McpSseMode::Always) return true;
  if (mode == McpSseMode::Never) return false;
  return !reply.steps.empty();
}

bool can_stream(const Accepts& a, McpSseMode mode) { return a.sse && (!a.json || mode != McpSseMode::Never); }

void answer(Responder& res, ServerState& state, mcp::Reply reply, Stream stream) {
  auto sink = std::make_shared<HttpSink>(res, state, std::move(stream));
  sink->begin();
  mcp::run(state.mcp_server, std::move(sink), std::move(reply));
}

}  // namespace luaload::engine::target::mcp_http
