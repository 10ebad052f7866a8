// SPDX-License-Identifier: MIT
// core.http_request: the yielding half of the `luaload.http` module (lua/http.lua normalises the parameters).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "bindings/runtime.hpp"

namespace luaload::bindings {

namespace {

using engine::http::Exchange;

// Arguments of core.http_request.
constexpr int kApi = 1;
constexpr int kMethod = 2;
constexpr int kUrl = 3;
constexpr int kBody = 4;
constexpr int kHeaders = 5;
constexpr int kTimeout = 6;
constexpr int kRedirects = 7;
constexpr int kTags = 8;
constexpr int kExpected = 9;  // params.expected_statuses (lua/http.lua validated it), or nil

// Request bodies up to this size are copied from the per-worker scratch request (whose buffer is then reused).
constexpr size_t kCopiedBodyBytes = 4 * 1024;

// One sample set per exchange (each redirect hop is its own, judged by the request's rule). `lag_ms` is the
// iteration's start lag (scheduled -> actual start, arrival-rate executors): the request would have gone out that
// much earlier had the schedule held, so http_req_duration_corrected = duration + lag. Negative: closed model, no
// corrected sample.
void record_exchange(WorkerRuntime::Impl& impl, const Exchange& exchange, engine::metrics::TagSetId base,
                     double lag_ms, const std::optional<ExpectedStatuses>& rule) {
  auto& registry = impl.registry();
  const bool expected = is_expected_status(rule, exchange.status);
  const auto& s = impl.request_tags().exchange_series(base, exchange.method, exchange.url, exchange.status,
                                                      static_cast<uint32_t>(exchange.error_code), expected);
  const auto& t = exchange.timing;
  registry.add_to(s.reqs, 1);
  registry.add_to(s.failed, expected ? 0 : 1);
  registry.add_to(s.duration, t.duration_ms);
  if (lag_ms >= 0) registry.add_to(s.duration_corrected, t.duration_ms + lag_ms);
  registry.add_to(s.blocked, t.blocked_ms);
  registry.add_to(s.connecting, t.connecting_ms);
  registry.add_to(s.tls_handshaking, t.tls_handshaking_ms);
  registry.add_to(s.sending, t.sending_ms);
  registry.add_to(s.waiting, t.waiting_ms);
  registry.add_to(s.receiving, t.receiving_ms);
  registry.add_to(s.data_sent, static_cast<double>(exchange.bytes_sent));
  registry.add_to(s.data_received, static_cast<double>(exchange.bytes_received));
}

// The response is only read: the Client reuses its buffers for the VU's next request.
void on_response(WorkerRuntime::Impl& impl, uint64_t vu_key, const engine::http::Response& response) {
  VuState* vu = impl.find(vu_key);
  if (vu == nullptr || vu->retired || vu->pending != PendingKind::Http || vu->pending_request != response.request_id) {
    return;  // interrupted or destroyed meanwhile: a cancelled request is not a sample
  }
  for (const Exchange& hop : response.redirects) {
    record_exchange(impl, hop, vu->pending_tags, vu->pending_lag_ms, vu->pending_expected);
  }
  record_exchange(impl, response.final, vu->pending_tags, vu->pending_lag_ms, vu->pending_expected);
  vu->pending = PendingKind::None;
  lua_settop(vu->thread, 0);
  push_response(vu->thread, impl, response);
  impl.resume(*vu, 1);
}

bool is_token_char(unsigned char c) {
  return std::isalnum(c) != 0 || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// A name or value that could end the header line would let a script's data rewrite the request.
void check_header(lua_State* L, const char* api, std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return is_token_char(c); })) {
    luaL_error(L, "%s: invalid header name '%s'", api, std::string(name).c_str());
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    luaL_error(L, "%s: the value of header '%s' contains CR, LF or NUL", api, std::string(name).c_str());
  }
}

void read_headers(lua_State* L, const char* api, engine::http::Headers* headers) {
  if (lua_isnil(L, kHeaders)) {
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, kHeaders) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1)) {
      luaL_error(L, "%s: header names and values must be strings", api);
    }
    size_t name_length = 0, value_length = 0;
    const char* name = lua_tolstring(L, -2, &name_length);
    const char* value = lua_tolstring(L, -1, &value_length);
    check_header(L, api, {name, name_length}, {value, value_length});
    headers->emplace_back(std::string(name, name_length), std::string(value, value_length));
    lua_pop(L, 1);
  }
}

// Fills *request completely; assigning into a reused Request keeps its strings' capacity.
void read_request(lua_State* L, const char* api, const RuntimeConfig& config, engine::http::Request* out) {
  engine::http::Request& request = *out;
  size_t method_length = 0;
  const char* method = luaL_checklstring(L, kMethod, &method_length);
  request.method.assign(method, method_length);
  // The method is written as is on the request line: anything but a token could add lines to the request.
  if (request.method.empty() ||
      !std::all_of(request.method.begin(), request.method.end(), [](char c) { return is_token_char(c); })) {
    luaL_error(L, "%s: invalid method '%s' (must be a token, like GET or PATCH)", api, method);
  }
  if (lua_type(L, kUrl) != LUA_TSTRING) {
    luaL_error(L, "%s: url must be a string", api);
  }
  size_t url_length = 0;
  const char* url = lua_tolstring(L, kUrl, &url_length);
  request.url.assign(url, url_length);
  request.body.clear();
  if (!lua_isnil(L, kBody) && !lua_isnone(L, kBody)) {
    if (!lua_isstring(L, kBody)) {
      luaL_error(L, "%s: body must be a string (use params.json or params.form for tables)", api);
    }
    size_t length = 0;
    const char* body = lua_tolstring(L, kBody, &length);
    request.body.assign(body, length);
  }
  request.headers.clear();
  read_headers(L, api, &request.headers);
  if (engine::http::find_header(request.headers, "User-Agent") == nullptr && !config.user_agent.empty()) {
    request.headers.emplace_back("User-Agent", config.user_agent);
  }
  request.timeout_s = luaL_optnumber(L, kTimeout, engine::http::kDefaultRequestTimeoutS);
  request.idle_timeout_s = 0;
  request.max_redirects = static_cast<int>(luaL_optinteger(L, kRedirects, config.max_redirects));
  request.limits = engine::http::RequestLimits{};
}

// core.http_request(api, method, url, body, headers, timeout_s, redirects, tags, expected_statuses)
//   -> luaload.Response
int l_http_request(lua_State* L) {
  auto& impl = impl_of(L);
  const char* api = luaL_checkstring(L, kApi);
  lua_settop(L, kExpected);
  VuState& vu = impl.require_waiting_vu(L, api);
  engine::http::Request& request = impl.request_scratch();
  read_request(L, api, impl.config(), &request);
  read_request_expected(L, kExpected, impl, vu, &vu.pending_expected);
  vu.pending_tags = impl.base_tag_set(vu, L, kTags);
  vu.pending_lag_ms = corrected_lag_ms(vu.context);

  auto& client = impl.client_for(vu);
  auto* runtime = &impl;
  const uint64_t key = vu.key;
  // Two words of capture: std::function keeps them inline instead of allocating per request.
  auto done = [runtime, key](engine::http::Response&& response) { on_response(*runtime, key, response); };
  // A big body is handed over rather than copied a second time (the scratch keeps no big buffer either).
  vu.pending_request = request.body.size() > kCopiedBodyBytes ? client.send(std::move(request), done)
                                                              : client.send(request, done);
  vu.pending = PendingKind::Http;
  lua_pushlightuserdata(L, engine_yield_sentinel());
  return lua_yield(L, 1);
}

// core.http_set_expected_statuses(list | nil): the running VU's default rule (a task sets its VU's), for the rest
// of the VU's life; nil restores 200-399. Allowed in init code, where k6 scripts call setResponseCallback.
int l_http_set_expected_statuses(lua_State* L) {
  auto& impl = impl_of(L);
  VuState* current = impl.current();
  if (current == nullptr) return luaL_error(L, "http.set_expected_statuses: no VU is running");
  std::optional<ExpectedStatuses> rule;
  read_expected_statuses(L, 1, &rule);
  auto& fallback = impl.root_of(*current).expected_default;
  fallback = rule ? std::make_unique<ExpectedStatuses>(*rule) : nullptr;
  return 0;
}

}  // namespace

void read_http_request(lua_State* L, const char* api, const RuntimeConfig& config, engine::http::Request* out) {
  read_request(L, api, config, out);
}

void read_request_expected(lua_State* L, int index, WorkerRuntime::Impl& impl, VuState& vu,
                           std::optional<ExpectedStatuses>* out) {
  if (!lua_isnil(L, index)) {
    read_expected_statuses(L, index, out);
    return;
  }
  const auto& fallback = impl.root_of(vu).expected_default;
  if (fallback == nullptr) {
    out->reset();  // the common case: no list anywhere, nothing copied
  } else {
    *out = *fallback;
  }
}

void record_http_exchange(WorkerRuntime::Impl& impl, const Exchange& exchange, engine::metrics::TagSetId base,
                          double lag_ms, const std::optional<ExpectedStatuses>& expected) {
  record_exchange(impl, exchange, base, lag_ms, expected);
}

void open_http(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kFunctions[] = {
      {"http_request", l_http_request},
      {"http_set_expected_statuses", l_http_set_expected_statuses},
      {nullptr, nullptr},
  };
  lua_pushlightuserdata(L, impl);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace luaload::bindings
