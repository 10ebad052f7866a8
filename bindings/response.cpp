// SPDX-License-Identifier: MIT
// luaload.Response: a userdata owning the engine's Response. Fields are produced on access (__index), so a script
// that only looks at res.status never pays for a headers table or a copy of the body. Built tables and the body
// string are cached in the userdata's environment table on first access.
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "bindings/runtime.hpp"

namespace luaload::bindings {

namespace {

constexpr const char* kMetatable = "luaload.Response";

// The response lives outside the Lua heap: a userdata of a few bytes keeps the collector's pace (set by the
// bytes allocated in Lua) from being driven by every response body and header list.
struct LuaResponse {
  std::unique_ptr<engine::http::Response> owned;
  bool has_cache = false;
};

LuaResponse& check_response(lua_State* L, int index) {
  return *static_cast<LuaResponse*>(luaL_checkudata(L, index, kMetatable));
}

void push_headers(lua_State* L, WorkerRuntime::Impl& impl, const engine::http::Headers& headers) {
  lua_createtable(L, 0, static_cast<int>(headers.size()));
  for (const auto& [name, value] : headers) {
    lua_getfield(L, -1, name.c_str());
    if (lua_isstring(L, -1)) {
      // A repeated header reads as one value joined with ", " (RFC 9110 5.3), as in k6.
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, value.data(), value.size());
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, value.data(), value.size());
    }
    lua_setfield(L, -2, name.c_str());
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, impl.refs.headers_mt);
  lua_setmetatable(L, -2);
}

void push_timings(lua_State* L, const engine::http::RequestTiming& t) {
  lua_createtable(L, 0, 7);
  const std::pair<const char*, double> fields[] = {
      {"blocked", t.blocked_ms},   {"connecting", t.connecting_ms}, {"tls_handshaking", t.tls_handshaking_ms},
      {"sending", t.sending_ms},   {"waiting", t.waiting_ms},       {"receiving", t.receiving_ms},
      {"duration", t.duration_ms},
  };
  for (const auto& [name, value] : fields) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name);
  }
}

// Pushes the cached value of `key` (nil if none) for the userdata at index 1.
void push_cached(lua_State* L, LuaResponse& res, const char* key) {
  if (!res.has_cache) {
    lua_pushnil(L);
    return;
  }
  lua_getfenv(L, 1);
  lua_getfield(L, -1, key);
  lua_remove(L, -2);
}

// Caches the value on top of the stack under `key`, leaving it there.
void cache(lua_State* L, LuaResponse& res, const char* key) {
  if (!res.has_cache) {
    lua_newtable(L);
    lua_setfenv(L, 1);
    res.has_cache = true;
  }
  lua_getfenv(L, 1);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, key);
  lua_pop(L, 1);
}

// Fields that are built once and cached: body, headers, timings.
bool push_built_field(lua_State* L, WorkerRuntime::Impl& impl, LuaResponse& res, const char* key) {
  const bool is_body = std::strcmp(key, "body") == 0;
  const bool is_headers = !is_body && std::strcmp(key, "headers") == 0;
  const bool is_timings = !is_body && !is_headers && std::strcmp(key, "timings") == 0;
  if (!is_body && !is_headers && !is_timings) {
    return false;
  }
  push_cached(L, res, key);
  if (!lua_isnil(L, -1)) {
    return true;
  }
  lua_pop(L, 1);
  auto& r = *res.owned;
  if (is_body) {
    lua_pushlstring(L, r.body.data(), r.body.size());
    std::string().swap(r.body);  // the Lua string is the only copy from now on
  } else if (is_headers) {
    push_headers(L, impl, r.headers);
  } else {
    push_timings(L, r.final.timing);
  }
  cache(L, res, key);
  return true;
}

void push_optional_string(lua_State* L, const std::string& value) {
  if (value.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, value.data(), value.size());
  }
}

int l_response_index(lua_State* L) {
  auto& impl = impl_of(L);
  LuaResponse& res = check_response(L, 1);
  const char* key = lua_tostring(L, 2);
  if (key == nullptr) {
    lua_pushnil(L);
    return 1;
  }
  const auto& r = *res.owned;
  if (std::strcmp(key, "status") == 0) {
    lua_pushinteger(L, r.final.status);
  } else if (push_built_field(L, impl, res, key)) {
  } else if (std::strcmp(key, "json") == 0) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, impl.refs.response_json);
  } else if (std::strcmp(key, "url") == 0) {
    lua_pushlstring(L, r.final.url.data(), r.final.url.size());
  } else if (std::strcmp(key, "error") == 0) {
    push_optional_string(L, r.final.error);
  } else if (std::strcmp(key, "error_code") == 0) {
    lua_pushinteger(L, static_cast<lua_Integer>(r.final.error_code));
  } else if (std::strcmp(key, "proto") == 0) {
    lua_pushlstring(L, r.proto.data(), r.proto.size());
  } else if (std::strcmp(key, "tls_version") == 0) {
    push_optional_string(L, r.tls_version);
  } else if (std::strcmp(key, "method") == 0) {
    lua_pushlstring(L, r.final.method.data(), r.final.method.size());
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int l_response_gc(lua_State* L) {
  check_response(L, 1).~LuaResponse();
  return 0;
}

int l_response_tostring(lua_State* L) {
  const auto& r = *check_response(L, 1).owned;
  lua_pushfstring(L, "luaload.Response(%d %s)", r.final.status, r.final.url.c_str());
  return 1;
}

}  // namespace

void push_header_table(lua_State* L, WorkerRuntime::Impl& impl, const engine::http::Headers& headers) {
  push_headers(L, impl, headers);
}

void push_response(lua_State* L, WorkerRuntime::Impl& impl, engine::http::Response&& response) {
  void* memory = lua_newuserdata(L, sizeof(LuaResponse));
  new (memory) LuaResponse{std::make_unique<engine::http::Response>(std::move(response)), false};
  luaL_getmetatable(L, kMetatable);
  lua_setmetatable(L, -2);
}

void open_response(lua_State* L, WorkerRuntime::Impl* impl) {
  luaL_newmetatable(L, kMetatable);
  lua_pushlightuserdata(L, impl);
  lua_pushcclosure(L, l_response_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_response_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_response_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "luaload.Response");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

}  // namespace luaload::bindings
