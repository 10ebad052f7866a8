// SPDX-License-Identifier: MIT
// The `luaload.sse` module: an incremental server-sent events parser for scripts and lua/ modules (e.g. to read an
// SSE response body that arrived whole). Streams read with http.stream use the same engine parser.
#include <new>
#include <vector>

#include "bindings/runtime.hpp"
#include "engine/http/sse_parser.hpp"

namespace luaload::bindings {

namespace {

using engine::http::SseEvent;
using engine::http::SseParser;

constexpr const char* kParserMeta = "luaload.SseParser";

SseParser* check_parser(lua_State* L) { return static_cast<SseParser*>(luaL_checkudata(L, 1, kParserMeta)); }

// parser:feed(chunk) -> array of events; raises once the stream broke the parser's limits.
int l_parser_feed(lua_State* L) {
  SseParser* parser = check_parser(L);
  size_t length = 0;
  const char* chunk = luaL_checklstring(L, 2, &length);
  std::vector<SseEvent> events;
  if (!parser->feed({chunk, length}, &events)) {
    return luaL_error(L, "sse parser: %s", parser->error().c_str());
  }
  push_sse_events(L, events);
  return 1;
}

int l_parser_last_event_id(lua_State* L) {
  const std::string& id = check_parser(L)->last_event_id();
  lua_pushlstring(L, id.data(), id.size());
  return 1;
}

int l_parser_skipped(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(check_parser(L)->skipped_empty()));
  return 1;
}

int l_parser_gc(lua_State* L) {
  check_parser(L)->~SseParser();
  return 0;
}

// sse.parser([{report_empty = bool, max_event_bytes = n}]) -> luaload.SseParser
int l_sse_parser(lua_State* L) {
  SseParser::Options options;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "report_empty");
    options.report_empty = lua_toboolean(L, -1);
    lua_getfield(L, 1, "max_event_bytes");
    if (!lua_isnil(L, -1)) {
      const lua_Number limit = luaL_checknumber(L, -1);
      luaL_argcheck(L, limit >= 1, 1, "max_event_bytes must be >= 1");
      options.max_event_bytes = static_cast<size_t>(limit);
    }
    lua_pop(L, 2);
  }
  void* memory = lua_newuserdata(L, sizeof(SseParser));
  new (memory) SseParser(options);
  luaL_getmetatable(L, kParserMeta);
  lua_setmetatable(L, -2);
  return 1;
}

}  // namespace

void push_sse_event(lua_State* L, const SseEvent& event) {
  lua_createtable(L, 0, 5);
  lua_pushlstring(L, event.event.data(), event.event.size());
  lua_setfield(L, -2, "event");
  lua_pushlstring(L, event.data.data(), event.data.size());
  lua_setfield(L, -2, "data");
  lua_pushlstring(L, event.id.data(), event.id.size());
  lua_setfield(L, -2, "id");
  if (event.retry >= 0) {
    lua_pushnumber(L, static_cast<lua_Number>(event.retry));
    lua_setfield(L, -2, "retry");
  }
  if (event.empty) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "empty");
  }
}

void push_sse_events(lua_State* L, const std::vector<SseEvent>& events) {
  lua_createtable(L, static_cast<int>(events.size()), 0);
  for (size_t i = 0; i < events.size(); ++i) {
    push_sse_event(L, events[i]);
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

void open_sse(lua_State* L) {
  static const luaL_Reg kMethods[] = {
      {"feed", l_parser_feed},
      {"last_event_id", l_parser_last_event_id},
      {"skipped", l_parser_skipped},
      {nullptr, nullptr},
  };
  luaL_newmetatable(L, kParserMeta);
  lua_newtable(L);
  luaL_setfuncs(L, kMethods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_parser_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, l_sse_parser);
  lua_setfield(L, -2, "parser");
}

}  // namespace luaload::bindings
