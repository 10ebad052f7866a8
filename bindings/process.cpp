// SPDX-License-Identifier: MIT
// The luaload.process module (process.spawn) and luaload.Process objects: child processes speaking lines, for the MCP
// stdio transport (lua/mcp/stdio.lua). Nothing here yields. Waiting is the script's, with ll.event: the process calls
// the `on_activity` function given at spawn (protected, outside any coroutine, never from inside one of these calls)
// whenever lines arrived ("lines"), the write queue has room again ("writable") or the child ended ("exit"), and
// that function reads, routes and notifies the events its waiters sleep on. So any number of coroutines (a VU and
// its tasks, or the VUs sharing a worker's process) wait each for its own messages, each woken by its own event,
// and no message is lost: lines stay queued in the engine until the function reads them.
//
// The on_activity function lives in the userdata's environment, not in the registry, so that an object the script
// dropped (with the closure that refers back to it) can be collected; its __gc stops the process.
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "bindings/process.hpp"
#include "bindings/runtime.hpp"

namespace luaload::bindings {

namespace {

using engine::process::WriteResult;

constexpr const char* kProcessMeta = "luaload.Process";
constexpr const char* kObjectsKey = "luaload.process.objects";  // registry: handle address -> userdata (weak)
// Far more than a script needs; a spawn per iteration without close() must not fork without bound.
constexpr size_t kMaxProcessesPerOwner = 64;

std::shared_ptr<ProcessHandle>& check_process(lua_State* L) {
  return *static_cast<std::shared_ptr<ProcessHandle>*>(luaL_checkudata(L, 1, kProcessMeta));
}

ProcessRegistry& registry_of(WorkerRuntime::Impl& impl) { return impl.processes(); }

// Calls the object's on_activity(what), unless it is closing or collected. Runs from engine callbacks only.
void notify_lua(ProcessHandle& handle, const char* what) {
  if (handle.closing || handle.registry->closing()) return;
  lua_State* L = handle.impl->L();
  const int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kObjectsKey);
  lua_pushlightuserdata(L, &handle);
  lua_rawget(L, -2);
  if (lua_isuserdata(L, -1)) {
    lua_getfenv(L, -1);
    lua_getfield(L, -1, "on_activity");
    lua_pushstring(L, what);
    if (lua_pcall(L, 1, 0, 0) != 0) {
      const char* message = lua_tostring(L, -1);
      handle.impl->record_error(std::string("stdio process callback: ") + (message != nullptr ? message : "?"));
    }
  }
  lua_settop(L, top);
}

size_t opt_size(lua_State* L, int table, const char* field, size_t fallback) {
  lua_getfield(L, table, field);
  const bool given = !lua_isnil(L, -1);
  const lua_Number value = given ? luaL_checknumber(L, -1) : 0;
  lua_pop(L, 1);
  if (!given) return fallback;
  if (!(value >= 1 && value <= 1e12)) luaL_error(L, "process spec: %s must be a positive number", field);
  return static_cast<size_t>(value);
}

void read_limits(lua_State* L, int spec, engine::process::Limits* limits) {
  limits->max_line_bytes = opt_size(L, spec, "max_message_bytes", limits->max_line_bytes);
  limits->max_queued_bytes = opt_size(L, spec, "max_queued_bytes", limits->max_queued_bytes);
  limits->max_write_bytes = opt_size(L, spec, "max_write_bytes", limits->max_write_bytes);
  limits->stderr_tail_bytes = opt_size(L, spec, "stderr_bytes", limits->stderr_tail_bytes);
  const size_t stop_ms = opt_size(L, spec, "stop_timeout_ms", limits->term_after_ms);
  limits->term_after_ms = stop_ms;
  limits->kill_after_ms = stop_ms;
}

void read_strings(lua_State* L, int spec, const char* field, std::vector<std::string>* out) {
  lua_getfield(L, spec, field);
  if (lua_istable(L, -1)) {
    for (int i = 1;; ++i) {
      lua_rawgeti(L, -1, i);
      if (lua_isnil(L, -1)) break;
      if (!lua_isstring(L, -1)) luaL_error(L, "process spec: %s[%d] must be a string", field, i);
      out->emplace_back(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "process spec: %s must be a list of strings", field);
  }
  lua_pop(L, 1);
}

void read_env(lua_State* L, int spec, engine::process::Command* command) {
  lua_getfield(L, spec, "env");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1)) {
        luaL_error(L, "process spec: env must map names to strings");
      }
      lua_pushvalue(L, -1);  // a copy: lua_tostring on the original would confuse lua_next if it is a number
      command->env.emplace_back(lua_tostring(L, -3), lua_tostring(L, -1));
      lua_pop(L, 2);
    }
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "process spec: env must be a table");
  }
  lua_pop(L, 1);
  lua_getfield(L, spec, "inherit_env");
  command->inherit_env = lua_isnil(L, -1) || lua_toboolean(L, -1);
  lua_pop(L, 1);
}

void read_command(lua_State* L, int spec, engine::process::Command* command) {
  lua_getfield(L, spec, "command");
  if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "process spec: command must be a string");
  command->file = lua_tostring(L, -1);
  lua_pop(L, 1);
  read_strings(L, spec, "args", &command->args);
  read_env(L, spec, command);
  lua_getfield(L, spec, "cwd");
  if (lua_type(L, -1) == LUA_TSTRING) {
    command->cwd = lua_tostring(L, -1);
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "process spec: cwd must be a string");
  }
  lua_pop(L, 1);
}

engine::process::Process::Callbacks callbacks_for(ProcessHandle* handle) {
  engine::process::Process::Callbacks callbacks;
  // The handle outlives its Process (it owns it), so the raw pointer is valid whenever these run.
  callbacks.on_lines = [handle] { notify_lua(*handle, "lines"); };
  callbacks.on_writable = [handle] { notify_lua(*handle, "writable"); };
  callbacks.on_exit = [handle](const engine::process::Exit&) { notify_lua(*handle, "exit"); };
  return callbacks;
}

// The userdata for `handle`, with on_activity (stack index `fn`) in its environment, remembered weakly.
void push_object(lua_State* L, const std::shared_ptr<ProcessHandle>& handle, int fn) {
  void* memory = lua_newuserdata(L, sizeof(std::shared_ptr<ProcessHandle>));
  new (memory) std::shared_ptr<ProcessHandle>(handle);
  luaL_getmetatable(L, kProcessMeta);
  lua_setmetatable(L, -2);
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, fn);
  lua_setfield(L, -2, "on_activity");
  lua_setfenv(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, kObjectsKey);
  lua_pushlightuserdata(L, handle.get());
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// process.spawn(spec, shared, on_activity) -> luaload.Process, or nil, message, errno.
// shared: owned by the worker (stopped when the runtime closes), else by the calling VU (stopped when it retires).
int l_process_spawn(lua_State* L) {
  auto& impl = impl_of(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  VuState& vu = impl.require_vu(L, "mcp.spawn");
  const uint64_t owner = lua_toboolean(L, 2) ? 0 : impl.root_of(vu).key;
  engine::process::Command command;
  engine::process::Limits limits;
  read_command(L, 1, &command);
  read_limits(L, 1, &limits);
  ProcessRegistry& registry = registry_of(impl);
  if (registry.count(owner) >= kMaxProcessesPerOwner) {
    return luaL_error(L, "mcp.spawn: %d processes are running already for this %s (close the ones you are done with)",
                      static_cast<int>(kMaxProcessesPerOwner), owner == 0 ? "worker" : "VU");
  }
  auto handle = std::make_shared<ProcessHandle>();
  handle->impl = &impl;
  handle->registry = &registry;
  handle->owner = owner;
  handle->command = command.file;
  int error = 0;
  handle->process = engine::process::Process::start(impl.loop(), command, limits, callbacks_for(handle.get()), &error);
  if (handle->process == nullptr) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot start %s: %s", command.file.c_str(), std::strerror(error));
    lua_pushinteger(L, error);
    return 3;
  }
  registry.add(handle);
  push_object(L, handle, 3);
  return 1;
}

// p:write(message) -> "queued" | "full" (wait for "writable") | "closed". A newline in the message raises.
int l_process_write(lua_State* L) {
  ProcessHandle& h = *check_process(L);
  size_t length = 0;
  const char* message = luaL_checklstring(L, 2, &length);
  const WriteResult result = h.closing ? WriteResult::Closed : h.process->write_line({message, length});
  switch (result) {
    case WriteResult::Queued: lua_pushliteral(L, "queued"); break;
    case WriteResult::Full: lua_pushliteral(L, "full"); break;
    case WriteResult::Closed: lua_pushliteral(L, "closed"); break;
    case WriteResult::Invalid: return luaL_argerror(L, 2, "a stdio message cannot contain a newline");
  }
  return 1;
}

// p:read() -> the oldest line and false, or its first bytes and true when it was too long; nil when none is queued.
int l_process_read(lua_State* L) {
  ProcessHandle& h = *check_process(L);
  auto line = h.closing ? std::nullopt : h.process->pop_line();
  if (!line) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushlstring(L, line->text.data(), line->text.size());
  lua_pushboolean(L, line->overlong);
  return 2;
}

// p:exit() -> nil while the child runs (or its last lines are still being read), else {status, signal, requested}.
int l_process_exit(lua_State* L) {
  ProcessHandle& h = *check_process(L);
  if (h.closed || !h.process->exited()) {
    lua_pushnil(L);
    return 1;
  }
  const engine::process::Exit& exit = h.process->exit();
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, static_cast<lua_Integer>(exit.status));
  lua_setfield(L, -2, "status");
  lua_pushinteger(L, exit.signal);
  lua_setfield(L, -2, "signal");
  lua_pushboolean(L, exit.requested);
  lua_setfield(L, -2, "requested");
  return 1;
}

// p:stderr() -> the end of what the child wrote to stderr (bounded by spec.stderr_bytes).
int l_process_stderr(lua_State* L) {
  ProcessHandle& h = *check_process(L);
  const std::string tail = h.closed ? std::string() : h.process->stderr_tail();
  lua_pushlstring(L, tail.data(), tail.size());
  return 1;
}

int l_process_pid(lua_State* L) {
  ProcessHandle& h = *check_process(L);
  lua_pushinteger(L, h.closed ? 0 : h.process->pid());
  return 1;
}

// p:kill(): SIGTERM to the child's process group, SIGKILL if it is still there after the stop timeout.
int l_process_kill(lua_State* L) {
  ProcessHandle& h = *check_process(L);
  if (!h.closing) h.process->kill();
  return 0;
}

// p:close(): stops the child (end of input, then SIGTERM, then SIGKILL) in the background. No callback follows.
int l_process_close(lua_State* L) {
  close_process(check_process(L), nullptr);
  return 0;
}

int l_process_closed(lua_State* L) {
  lua_pushboolean(L, check_process(L)->closing);
  return 1;
}

// process.require_yieldable(api): raises (naming api) unless the caller may wait, so that the stdio transport can
// refuse a request before it writes anything (a failed wait must leave nothing on the wire). Nothing in this module
// yields; the transport waits with ll.event.
int l_require_yieldable(lua_State* L) {
  auto& impl = impl_of(L);
  const char* api = luaL_checkstring(L, 1);
  impl.require_vu(L, api);
  impl.require_yieldable(L, api);
  return 0;
}

int l_process_gc(lua_State* L) {
  auto* box = static_cast<std::shared_ptr<ProcessHandle>*>(luaL_checkudata(L, 1, kProcessMeta));
  // The Lua state closes after the runtime, whose close() has closed every process by then.
  if (!(*box)->closing && !(*box)->registry->closing()) close_process(*box, nullptr);
  box->~shared_ptr();
  return 0;
}

}  // namespace

void open_process(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kMethods[] = {
      {"write", l_process_write},   {"read", l_process_read},     {"exit", l_process_exit},
      {"stderr", l_process_stderr}, {"pid", l_process_pid},       {"kill", l_process_kill},
      {"close", l_process_close},   {"closed", l_process_closed}, {nullptr, nullptr},
  };
  luaL_newmetatable(L, kProcessMeta);
  lua_pushcfunction(L, l_process_gc);
  lua_setfield(L, -2, "__gc");
  lua_newtable(L);
  luaL_setfuncs(L, kMethods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_newtable(L);  // handle address -> userdata, weak: the registry must not keep a dropped object alive
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kObjectsKey);
  lua_createtable(L, 0, 2);  // the luaload.process module
  lua_pushlightuserdata(L, impl);
  lua_pushcclosure(L, l_process_spawn, 1);
  lua_setfield(L, -2, "spawn");
  lua_pushlightuserdata(L, impl);
  lua_pushcclosure(L, l_require_yieldable, 1);
  lua_setfield(L, -2, "require_yieldable");
}

}  // namespace luaload::bindings
