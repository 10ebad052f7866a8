// SPDX-License-Identifier: MIT
// core.http_stream and the reader behind http.stream/http.sse (lua/http.lua): the engine client's streaming mode,
// a bounded queue of body bytes (or parsed SSE events) between the socket and the script, and the stream_*
// metrics. Backpressure: past kPauseBytes queued the socket is no longer read until the script drained the queue
// below kResumeBytes, so a fast stream read slowly holds at most ~kPauseBytes + one socket read in memory.
#include <deque>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "bindings/runtime.hpp"
#include "engine/core/clock.hpp"

namespace luaload::bindings {

namespace {

using engine::http::ErrorCode;
using engine::http::SseEvent;
using engine::http::SseParser;

constexpr size_t kPauseBytes = 256 * 1024;
constexpr size_t kResumeBytes = 64 * 1024;
constexpr const char* kStreamMeta = "luaload.Stream";

}  // namespace

// One http.stream, shared by the Lua reader and the engine callbacks (either may outlive the other).
struct StreamState {
  enum class Mode { Unset, Raw, Events };

  WorkerRuntime::Impl* impl = nullptr;
  uint64_t root_key = 0;
  engine::http::Client::RequestId id = 0;
  std::string method, url;
  engine::metrics::TagSetId base_tags = 0;
  engine::metrics::TagSetId stream_tags = 0;  // base + method, name, status: set when the head arrives
  bool head = false, ended = false, closed = false, paused = false;
  int status = 0;
  engine::http::ResponseHeaders headers;
  ErrorCode error_code = ErrorCode::None;
  std::string error;
  Mode mode = Mode::Unset;
  std::string raw;  // body bytes not read yet
  std::deque<SseEvent> events;
  size_t event_bytes = 0;
  std::unique_ptr<SseParser> sse;  // text/event-stream bodies, or once reader:events() was called
  bool event_stream = false;
  VuHandle waiter{};
  bool has_waiter = false;
  int64_t start_ns = 0;
  double lag_ms = -1;  // the iteration's start lag, for http_req_duration_corrected (< 0: closed model, none)
  std::optional<ExpectedStatuses> expected;  // the request's expected-statuses rule (empty: 200-399)
  bool first_seen = false;
  uint64_t bytes = 0;

  size_t queued() const { return raw.size() + event_bytes; }
};

namespace {

StreamState& check_stream(lua_State* L) {
  return **static_cast<std::shared_ptr<StreamState>*>(luaL_checkudata(L, 1, kStreamMeta));
}

engine::http::Client* client_of(StreamState& st) {
  VuState* root = st.impl->find(st.root_key);
  return root != nullptr && !root->retired ? &st.impl->client_for(*root) : nullptr;
}

void wake(StreamState& st) {
  if (!st.has_waiter) return;
  st.has_waiter = false;
  st.impl->wake_later(st.waiter, PendingKind::StreamWait);
}

void note_first(StreamState& st) {
  if (st.first_seen) return;
  st.first_seen = true;
  const double ms = static_cast<double>(core::mono_now_ns() - st.start_ns) / 1e6;
  st.impl->registry().add(st.impl->stream_metrics().time_to_first_event, st.stream_tags, ms);
}

// Parses `data` into events; a body that breaks the parser's limits ends the stream with an error.
void parse_events(StreamState& st, std::string_view data) {
  std::vector<SseEvent> parsed;
  if (!st.sse->feed(data, &parsed) && st.error_code == ErrorCode::None) {
    st.error_code = ErrorCode::MalformedResponse;
    st.error = "sse: " + st.sse->error();
    // The client may not be called from inside its read callback but pause(); the next turn is soon enough.
    auto* impl = st.impl;
    const auto id = st.id;
    const uint64_t root_key = st.root_key;
    impl->defer([impl, id, root_key] {
      VuState* root = impl->find(root_key);
      if (root != nullptr && !root->retired) impl->client_for(*root).stop(id);
    });
  }
  if (parsed.empty()) return;
  note_first(st);
  st.impl->registry().add(st.impl->stream_metrics().events, st.stream_tags, static_cast<double>(parsed.size()));
  if (st.mode == StreamState::Mode::Raw) return;
  for (auto& event : parsed) {
    st.event_bytes += event.data.size() + event.event.size() + event.id.size();
    st.events.push_back(std::move(event));
  }
}

void on_body(StreamState& st, std::string_view data) {
  if (st.closed) return;
  st.bytes += data.size();
  if (!st.event_stream) note_first(st);
  if (st.sse != nullptr) parse_events(st, data);
  if (st.mode != StreamState::Mode::Events) st.raw.append(data);
  if (!st.paused && st.queued() >= kPauseBytes) {
    st.paused = true;
    if (auto* client = client_of(st)) client->pause(st.id);
  }
  wake(st);
}

// The tags of the stream_* samples: the final response's, as its http_req_* samples have them.
engine::metrics::TagSetId tags_of(const StreamState& st) {
  return st.impl->request_tags().exchange(st.base_tags, st.method, st.url, st.status, 0,
                                          is_expected_status(st.expected, st.status));
}

void on_head(StreamState& st, const engine::http::Response& head, const engine::http::Exchange& exchange) {
  st.head = true;
  st.status = exchange.status;
  st.headers = head.headers;
  st.stream_tags = tags_of(st);
  const std::optional<std::string_view> type = head.headers.find("content-type");
  st.event_stream = type && type->starts_with("text/event-stream");
  if (st.event_stream) st.sse = std::make_unique<SseParser>();
  wake(st);
}

void on_done(const std::shared_ptr<StreamState>& state, engine::http::Response&& response) {
  StreamState& st = *state;
  st.ended = true;
  if (!st.head) {
    // No streamed head (a failure before it, or a redirect that could not be followed): what arrived is it all.
    st.status = response.final.status;
    st.headers = std::move(response.headers);
    st.stream_tags = tags_of(st);
    st.head = true;
    if (!response.body.empty()) on_body(st, response.body);
  }
  if (response.final.error_code != ErrorCode::None && st.error_code == ErrorCode::None && !st.closed) {
    st.error_code = response.final.error_code;
    st.error = response.final.error;
  }
  if (VuState* root = st.impl->find(st.root_key)) std::erase(root->streams, state);
  // A stream cancelled because its VU went away is not a sample, like any cancelled request.
  if (response.final.error_code != ErrorCode::Cancelled) {
    auto& impl = *st.impl;
    for (const auto& hop : response.redirects) {
      record_http_exchange(impl, hop, st.base_tags, st.lag_ms, st.expected);
    }
    record_http_exchange(impl, response.final, st.base_tags, st.lag_ms, st.expected);
    const auto& metrics = impl.stream_metrics();
    const double ms = static_cast<double>(core::mono_now_ns() - st.start_ns) / 1e6;
    impl.registry().add(metrics.duration, st.stream_tags, ms);
    impl.registry().add(metrics.bytes, st.stream_tags, static_cast<double>(st.bytes));
  }
  wake(st);
}

// Registers the running coroutine as the stream's reader and yields it until the stream has news.
int wait_for(lua_State* L, StreamState& st) {
  VuState& vu = st.impl->require_waiting_vu(L, "stream reader");
  st.waiter = vu.handle();
  st.has_waiter = true;
  vu.pending = PendingKind::StreamWait;
  lua_pushlightuserdata(L, engine_yield_sentinel());
  return lua_yield(L, 1);
}

int push_end(lua_State* L, const StreamState& st) {
  lua_pushnil(L);
  if (st.error_code == ErrorCode::None) return 1;
  lua_pushlstring(L, st.error.data(), st.error.size());
  lua_pushinteger(L, static_cast<lua_Integer>(st.error_code));
  return 3;
}

void maybe_resume(StreamState& st) {
  if (!st.paused || st.queued() >= kResumeBytes) return;
  st.paused = false;
  if (auto* client = client_of(st)) client->resume(st.id);
}

// core.http_stream(api, method, url, body, headers, idle_timeout_s, redirects, tags, expected_statuses)
//   -> luaload.Stream. Starts the request and returns at once; core.stream_head waits for the response head.
int l_http_stream(lua_State* L) {
  auto& impl = impl_of(L);
  const char* api = luaL_checkstring(L, 1);
  lua_settop(L, 9);
  // The response head is waited for right after (lua/http.lua): a stream that could not wait is never started.
  VuState& vu = impl.require_waiting_vu(L, api);
  VuState& root = impl.root_of(vu);
  engine::http::Request request;
  read_http_request(L, api, impl.config(), &request);
  std::optional<ExpectedStatuses> expected;
  read_request_expected(L, 9, impl, vu, &expected);
  request.idle_timeout_s = lua_isnumber(L, 6) ? request.timeout_s : 60.0;
  request.timeout_s = 0;
  auto state = std::make_shared<StreamState>();
  state->impl = &impl;
  state->root_key = root.key;
  state->method = request.method;
  state->url = request.url;
  state->base_tags = impl.base_tag_set(vu, L, 8);
  state->start_ns = core::mono_now_ns();
  state->lag_ms = corrected_lag_ms(vu.context);
  state->expected = expected;
  engine::http::Client::StreamCallbacks callbacks;
  StreamState* raw = state.get();
  callbacks.on_headers = [raw](const engine::http::Response& head, const engine::http::Exchange& exchange) {
    on_head(*raw, head, exchange);
  };
  callbacks.on_body = [raw](std::string_view data) { on_body(*raw, data); };
  // The completion owns a reference, so the callbacks above (which run before it) always see a live state.
  state->id = impl.client_for(vu).stream(std::move(request), std::move(callbacks),
                                         [state](engine::http::Response&& r) { on_done(state, std::move(r)); });
  root.streams.push_back(state);
  void* memory = lua_newuserdata(L, sizeof(std::shared_ptr<StreamState>));
  new (memory) std::shared_ptr<StreamState>(std::move(state));
  luaL_getmetatable(L, kStreamMeta);
  lua_setmetatable(L, -2);
  return 1;
}

// core.stream_head(s) -> status, headers, error, error_code; or (after waiting) false.
int l_stream_head(lua_State* L) {
  StreamState& st = check_stream(L);
  if (!st.head && !st.ended && !st.closed) return wait_for(L, st);
  lua_pushinteger(L, st.status);
  push_header_table(L, *st.impl, st.headers);
  if (st.error_code == ErrorCode::None) return 2;
  lua_pushlstring(L, st.error.data(), st.error.size());
  lua_pushinteger(L, static_cast<lua_Integer>(st.error_code));
  return 4;
}

// core.stream_read(s) -> the bytes queued so far; nil[, error, code] at the end; (after waiting) false.
int l_stream_read(lua_State* L) {
  StreamState& st = check_stream(L);
  if (st.mode == StreamState::Mode::Events) return luaL_error(L, "reader:read() cannot follow reader:events()");
  if (st.mode == StreamState::Mode::Unset) {
    st.mode = StreamState::Mode::Raw;
    st.events.clear();
    st.event_bytes = 0;
  }
  if (!st.raw.empty()) {
    lua_pushlstring(L, st.raw.data(), st.raw.size());
    st.raw.clear();
    maybe_resume(st);
    return 1;
  }
  if (st.ended || st.closed) return push_end(L, st);
  return wait_for(L, st);
}

// core.stream_event(s) -> the next SSE event table; nil[, error, code] at the end; (after waiting) false.
int l_stream_event(lua_State* L) {
  StreamState& st = check_stream(L);
  if (st.mode == StreamState::Mode::Raw) return luaL_error(L, "reader:events() cannot follow reader:read()");
  if (st.mode == StreamState::Mode::Unset) {
    st.mode = StreamState::Mode::Events;
    if (st.sse == nullptr) {
      st.sse = std::make_unique<SseParser>();  // not announced as text/event-stream: parse it anyway
      std::string pending = std::move(st.raw);
      parse_events(st, pending);
    }
    st.raw.clear();
  }
  if (!st.events.empty()) {
    SseEvent& event = st.events.front();
    push_sse_event(L, event);
    st.event_bytes -= event.data.size() + event.event.size() + event.id.size();
    st.events.pop_front();
    maybe_resume(st);
    return 1;
  }
  if (st.ended || st.closed) return push_end(L, st);
  return wait_for(L, st);
}

// core.stream_close(s): stops reading; the connection is discarded. Idempotent.
int l_stream_close(lua_State* L) {
  StreamState& st = check_stream(L);
  if (st.closed || st.ended) return 0;
  st.closed = true;
  st.raw.clear();
  st.events.clear();
  st.event_bytes = 0;
  if (auto* client = client_of(st)) client->stop(st.id);
  wake(st);  // another coroutine of the VU may be waiting on this reader
  return 0;
}

int l_stream_gc(lua_State* L) {
  static_cast<std::shared_ptr<StreamState>*>(luaL_checkudata(L, 1, kStreamMeta))->~shared_ptr();
  return 0;
}

}  // namespace

void WorkerRuntime::Impl::stop_streams(VuState& vu) {
  const auto streams = std::move(vu.streams);
  vu.streams.clear();
  for (const auto& st : streams) {
    if (st->ended || st->closed) continue;
    st->closed = true;
    st->has_waiter = false;
    client_for(vu).stop(st->id);
  }
}

const WorkerRuntime::Impl::StreamMetrics& WorkerRuntime::Impl::stream_metrics() {
  if (!stream_metrics_) {
    using engine::metrics::MetricType;
    using engine::metrics::ValueType;
    std::string error;
    auto define = [&](const char* name, MetricType type, ValueType contains) {
      return registry_.define(name, type, contains, &error).value_or(0);
    };
    stream_metrics_ = StreamMetrics{define("stream_time_to_first_event", MetricType::Trend, ValueType::Time),
                                    define("stream_events", MetricType::Counter, ValueType::Default),
                                    define("stream_duration", MetricType::Trend, ValueType::Time),
                                    define("stream_bytes", MetricType::Counter, ValueType::Data)};
  }
  return *stream_metrics_;
}

void open_stream(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kFunctions[] = {
      {"http_stream", l_http_stream}, {"stream_head", l_stream_head},   {"stream_read", l_stream_read},
      {"stream_event", l_stream_event}, {"stream_close", l_stream_close}, {nullptr, nullptr},
  };
  luaL_newmetatable(L, kStreamMeta);
  lua_pushcfunction(L, l_stream_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushlightuserdata(L, impl);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace luaload::bindings
