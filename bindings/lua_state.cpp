// SPDX-License-Identifier: MIT
// A worker's Lua state: standard libraries, cjson, the embedded lua/ modules wired to the C++ bindings.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "bindings/crypto.hpp"
#include "bindings/embedded_lua.hpp"
#include "bindings/runtime.hpp"

extern "C" int luaopen_cjson(lua_State* L);

namespace luaload::bindings {

namespace {

// Runs lua/<name>.lua with the `nargs` values on top of the stack as its arguments, leaving `nresults`.
// Called inside lua_cpcall, so errors are caught there.
void load_embedded(lua_State* L, const char* name) {
  const std::string_view code = embedded_lua(name);
  if (code.empty()) {
    luaL_error(L, "embedded Lua module %s is missing", name);
  }
  const std::string chunkname = std::string("@luaload/") + name + ".lua";
  if (luaL_loadbuffer(L, code.data(), code.size(), chunkname.c_str()) != 0) {
    lua_error(L);
  }
}

void run_embedded(lua_State* L, const char* name, int nargs, int nresults) {
  load_embedded(L, name);
  lua_insert(L, -(nargs + 1));
  lua_call(L, nargs, nresults);
}

// lua/<name>.lua becomes package.preload[module]: it runs on the first require(module), so a module's metrics
// exist only in scripts that use it.
void preload_embedded(lua_State* L, const char* name, const char* module) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  load_embedded(L, name);
  lua_setfield(L, -2, module);
  lua_pop(L, 2);
}

// Every lua/<dir>/<name>.lua is a library part, preloaded as "luaload.<dir>.<name>" (lua/mcp/session.lua is
// require("luaload.mcp.session")); the top-level files are wired one by one in open_modules().
void preload_library_parts(lua_State* L) {
  for (std::string_view name : embedded_lua_names()) {
    if (name.find('/') == std::string_view::npos) continue;
    std::string module = "luaload." + std::string(name);
    std::replace(module.begin(), module.end(), '/', '.');
    preload_embedded(L, std::string(name).c_str(), module.c_str());
  }
}

int ref_field(lua_State* L, int table, const char* field) {
  lua_getfield(L, table, field);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

// Stack slots used while building the state.
constexpr int kJson = 1;
constexpr int kCoroutine = 2;
constexpr int kVu = 3;
constexpr int kCore = 4;
constexpr int kLoaded = 5;

void open_json(lua_State* L) {
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  // Sparse arrays ({[1] = a, [100] = b}) are encoded as objects instead of raising.
  lua_getfield(L, kJson, "encode_sparse_array");
  lua_pushboolean(L, 1);
  lua_call(L, 1, 0);
}

void open_modules(lua_State* L, WorkerRuntime::Impl* impl) {
  lua_pushlightuserdata(L, engine_yield_sentinel());
  push_resume_guard(L, impl);
  run_embedded(L, "coroutine", 2, 1);  // kCoroutine

  lua_pushlightuserdata(L, iteration_done_sentinel());
  lua_getfield(L, kCoroutine, "raw_yield");
  lua_pushvalue(L, kJson);
  run_embedded(L, "vu", 3, 1);  // kVu
  impl->refs.iterations = ref_field(L, kVu, "iterations");
  impl->refs.once = ref_field(L, kVu, "once");
  impl->refs.decode_data = ref_field(L, kVu, "decode_data");
  impl->refs.task = ref_field(L, kVu, "task");
  impl->refs.end_hooks = ref_field(L, kVu, "end_hooks");

  lua_newtable(L);  // kCore
  open_ll(L, impl);
  open_http(L, impl);
  open_stream(L, impl);
  open_task(L, impl);
  open_event(L, impl);
  open_shared(L, impl);
  open_vu_end(L, impl);

  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_remove(L, -2);  // kLoaded
  lua_pushvalue(L, kJson);
  lua_setfield(L, kLoaded, "cjson");

  lua_pushvalue(L, kCore);
  lua_pushvalue(L, kJson);
  lua_pushvalue(L, kVu);
  run_embedded(L, "luaload", 3, 1);
  lua_setfield(L, kLoaded, "luaload");

  lua_pushvalue(L, kCore);
  lua_pushvalue(L, kJson);
  run_embedded(L, "http", 2, 2);
  impl->refs.response_json = ref_field(L, -1, "response_json");
  impl->refs.headers_mt = ref_field(L, -1, "headers_mt");
  lua_pop(L, 1);
  lua_setfield(L, kLoaded, "luaload.http");

  open_sse(L);
  lua_setfield(L, kLoaded, "luaload.sse");
  open_process(L, impl);
  lua_setfield(L, kLoaded, "luaload.process");

  preload_embedded(L, "mcp", "luaload.mcp");
  open_helper_modules(L, kLoaded);
  preload_embedded(L, "oauth", "luaload.oauth");
  preload_library_parts(L);
}

// os.exit would end the whole load test from one VU, without a summary or exit code of ours.
int l_os_exit(lua_State* L) {
  return luaL_error(L, "os.exit is not available in luaload scripts: use ll.abort(message)");
}

// require("lib.x") looks next to the script first (as k6 resolves imports from the importing file), then in the
// current directory and LuaJIT's defaults, so `luaload run tests/load/journey.lua` works from anywhere.
void add_script_dir_to_path(lua_State* L, const std::string& script_path) {
  std::string dir = std::filesystem::path(script_path).parent_path().string();
  if (dir.empty()) return;  // the script is in the current directory, which "./?.lua" already covers
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  std::string path = dir + "/?.lua;" + dir + "/?/init.lua;" + (lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
  lua_pop(L, 1);
  lua_pushlstring(L, path.data(), path.size());
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
}

// print(...) as Lua's, but each line goes to stdout in one write of the stdio buffer: the workers share stdout,
// and Lua's own print writes piece by piece, so lines of two threads interleaved mid-line.
int l_print(lua_State* L) {
  const int n = lua_gettop(L);
  std::string line;
  lua_getglobal(L, "tostring");
  for (int i = 1; i <= n; ++i) {
    lua_pushvalue(L, -1);
    lua_pushvalue(L, i);
    lua_call(L, 1, 1);
    size_t length = 0;
    const char* text = lua_tolstring(L, -1, &length);
    if (text == nullptr) return luaL_error(L, "'tostring' must return a string to 'print'");
    if (i > 1) line += '\t';
    line.append(text, length);
    lua_pop(L, 1);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

int setup_cb(lua_State* L) {
  auto* impl = static_cast<WorkerRuntime::Impl*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  luaL_openlibs(L);
  add_script_dir_to_path(L, impl->script_path());
  lua_getglobal(L, "os");
  lua_pushcfunction(L, l_os_exit);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_print);
  lua_setglobal(L, "print");
  open_json(L);
  open_modules(L, impl);

  // Every VU's globals table falls back to the shared globals.
  lua_newtable(L);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, -2, "__index");
  impl->refs.env_mt = luaL_ref(L, LUA_REGISTRYINDEX);
  impl->refs.options_json = ref_field(L, kJson, "encode");

  open_response(L, impl);
  lua_settop(L, 0);
  return 0;
}

}  // namespace

bool open_state(WorkerRuntime::Impl& impl, std::string* error) {
  lua_State* L = impl.L();
  if (lua_cpcall(L, setup_cb, &impl) != 0) {
    const char* message = lua_tostring(L, -1);
    *error = std::string("cannot initialise the Lua state: ") + (message != nullptr ? message : "?");
    lua_pop(L, 1);
    return false;
  }
  return true;
}

}  // namespace luaload::bindings
