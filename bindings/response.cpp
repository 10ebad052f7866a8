// SPDX-License-Identifier: MIT
// luaload.Response: a userdata holding a flat copy of the engine's Response (fixed fields, then the header
// entries, then every string's bytes), with no finalizer: the collector frees it like a string. Fields are
// produced on access (__index), so a script that only looks at res.status never pays for a headers table or a
// Lua copy of the body. Built tables and the body string are cached in the userdata's environment table on first
// access.
//
// Why flat: a userdata owning C++ objects needs a __gc finalizer, and LuaJIT runs each one as a separate call after
// the sweep; together with the destructors' frees that was the largest single cost per request after parsing.
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "bindings/runtime.hpp"
#include "engine/core/assert.hpp"

namespace luaload::bindings {

namespace {

constexpr const char* kMetatable = "luaload.Response";

// A string stored after the record: offset from the start of the userdata, and length.
struct Slice {
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct HeaderSlices {
  Slice name, value;
};

struct ResponseRecord {
  int status = 0;
  uint32_t error_code = 0;
  engine::http::RequestTiming timing;
  bool has_cache = false;
  uint32_t header_count = 0;  // HeaderSlices follow the record
  Slice url, method, error, proto, tls_version, body;
};

ResponseRecord& check_response(lua_State* L, int index) {
  return *static_cast<ResponseRecord*>(luaL_checkudata(L, index, kMetatable));
}

std::string_view text_of(const ResponseRecord& record, Slice slice) {
  return {reinterpret_cast<const char*>(&record) + slice.offset, slice.length};
}

const HeaderSlices* header_slices(const ResponseRecord& record) {
  return reinterpret_cast<const HeaderSlices*>(&record + 1);
}

void push_text(lua_State* L, std::string_view text) { lua_pushlstring(L, text.data(), text.size()); }

// Sets t[name] = value on the table on top of the stack; a repeated header reads as one value joined with ", "
// (RFC 9110 5.3), as in k6.
void set_header_field(lua_State* L, std::string_view name, std::string_view value) {
  push_text(L, name);
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);
  if (lua_isstring(L, -1)) {
    lua_pushliteral(L, ", ");
    push_text(L, value);
    lua_concat(L, 3);
  } else {
    lua_pop(L, 1);
    push_text(L, value);
  }
  lua_rawset(L, -3);
}

void finish_header_table(lua_State* L, WorkerRuntime::Impl& impl) {
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
void push_cached(lua_State* L, const ResponseRecord& res, const char* key) {
  if (!res.has_cache) {
    lua_pushnil(L);
    return;
  }
  lua_getfenv(L, 1);
  lua_getfield(L, -1, key);
  lua_remove(L, -2);
}

// Caches the value on top of the stack under `key`, leaving it there.
void cache(lua_State* L, ResponseRecord& res, const char* key) {
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

void push_record_headers(lua_State* L, WorkerRuntime::Impl& impl, const ResponseRecord& res) {
  lua_createtable(L, 0, static_cast<int>(res.header_count));
  const HeaderSlices* headers = header_slices(res);
  for (uint32_t i = 0; i < res.header_count; ++i) {
    set_header_field(L, text_of(res, headers[i].name), text_of(res, headers[i].value));
  }
  finish_header_table(L, impl);
}

// Fields that are built once and cached: body, headers, timings.
bool push_built_field(lua_State* L, WorkerRuntime::Impl& impl, ResponseRecord& res, const char* key) {
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
  if (is_body) {
    push_text(L, text_of(res, res.body));
  } else if (is_headers) {
    push_record_headers(L, impl, res);
  } else {
    push_timings(L, res.timing);
  }
  cache(L, res, key);
  return true;
}

void push_optional_text(lua_State* L, std::string_view value) {
  if (value.empty()) {
    lua_pushnil(L);
  } else {
    push_text(L, value);
  }
}

int l_response_index(lua_State* L) {
  auto& impl = impl_of(L);
  ResponseRecord& res = check_response(L, 1);
  const char* key = lua_tostring(L, 2);
  if (key == nullptr) {
    lua_pushnil(L);
    return 1;
  }
  if (std::strcmp(key, "status") == 0) {
    lua_pushinteger(L, res.status);
  } else if (push_built_field(L, impl, res, key)) {
  } else if (std::strcmp(key, "json") == 0) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, impl.refs.response_json);
  } else if (std::strcmp(key, "url") == 0) {
    push_text(L, text_of(res, res.url));
  } else if (std::strcmp(key, "error") == 0) {
    push_optional_text(L, text_of(res, res.error));
  } else if (std::strcmp(key, "error_code") == 0) {
    lua_pushinteger(L, static_cast<lua_Integer>(res.error_code));
  } else if (std::strcmp(key, "proto") == 0) {
    push_text(L, text_of(res, res.proto));
  } else if (std::strcmp(key, "tls_version") == 0) {
    push_optional_text(L, text_of(res, res.tls_version));
  } else if (std::strcmp(key, "method") == 0) {
    push_text(L, text_of(res, res.method));
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int l_response_tostring(lua_State* L) {
  const ResponseRecord& res = check_response(L, 1);
  const std::string url(text_of(res, res.url));
  lua_pushfstring(L, "luaload.Response(%d %s)", res.status, url.c_str());
  return 1;
}

// Lays the strings out after the record and its header entries.
class RecordWriter {
 public:
  RecordWriter(char* base, size_t offset) : base_(base), offset_(offset) {}
  Slice put(std::string_view text) {
    Slice slice{static_cast<uint32_t>(offset_), static_cast<uint32_t>(text.size())};
    if (!text.empty()) std::memcpy(base_ + offset_, text.data(), text.size());
    offset_ += text.size();
    return slice;
  }

 private:
  char* base_;
  size_t offset_;
};

}  // namespace

void push_header_table(lua_State* L, WorkerRuntime::Impl& impl, const engine::http::ResponseHeaders& headers) {
  lua_createtable(L, 0, static_cast<int>(headers.size()));
  for (const auto& [name, value] : headers) set_header_field(L, name, value);
  finish_header_table(L, impl);
}

void push_response(lua_State* L, WorkerRuntime::Impl& impl, const engine::http::Response& response) {
  const engine::http::Exchange& final = response.final;
  const std::string_view header_text = response.headers.text();
  const size_t text_bytes = final.url.size() + final.method.size() + final.error.size() + response.proto.size() +
                            response.tls_version.size() + response.body.size() + header_text.size();
  const size_t fixed = sizeof(ResponseRecord) + response.headers.size() * sizeof(HeaderSlices);
  // Slices are 32-bit offsets: fine, as max_response_body_bytes keeps bodies far below 4 GiB.
  LUALOAD_CHECK(fixed + text_bytes < UINT32_MAX, "response record over 4 GiB");
  char* memory = static_cast<char*>(lua_newuserdata(L, fixed + text_bytes));
  auto* res = new (memory) ResponseRecord{};
  res->status = final.status;
  res->error_code = static_cast<uint32_t>(final.error_code);
  res->timing = final.timing;
  res->header_count = static_cast<uint32_t>(response.headers.size());
  RecordWriter writer(memory, fixed);
  res->url = writer.put(final.url);
  res->method = writer.put(final.method);
  res->error = writer.put(final.error);
  res->proto = writer.put(response.proto);
  res->tls_version = writer.put(response.tls_version);
  res->body = writer.put(response.body);
  // The header text is copied in one piece; each entry's views become offsets into the copy.
  const Slice block = writer.put(header_text);
  auto* headers = reinterpret_cast<HeaderSlices*>(res + 1);
  for (const auto& [name, value] : response.headers) {
    headers->name = {block.offset + static_cast<uint32_t>(name.data() - header_text.data()),
                     static_cast<uint32_t>(name.size())};
    headers->value = {block.offset + static_cast<uint32_t>(value.data() - header_text.data()),
                      static_cast<uint32_t>(value.size())};
    ++headers;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, impl.refs.response_mt);
  lua_setmetatable(L, -2);
}

void open_response(lua_State* L, WorkerRuntime::Impl* impl) {
  luaL_newmetatable(L, kMetatable);
  lua_pushvalue(L, -1);
  impl->refs.response_mt = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, impl);
  lua_pushcclosure(L, l_response_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_response_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "luaload.Response");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

}  // namespace luaload::bindings
