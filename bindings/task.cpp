// SPDX-License-Identifier: MIT
// ll.spawn: background tasks of a VU. A task is a VuState of its own (so every yielding binding works in it
// unchanged: its completion resumes the task's coroutine by handle) that shares its root VU's globals and HTTP
// client. Tasks start on the next loop turn, run until their function returns, and are interrupted when the
// iteration of their VU ends.
//
// Task states: spawned (start deferred) -> running <-> waiting (engine op, stream, task:wait) -> finished
//              (results or error written into the script's task object) -> retired; or interrupted -> retired.
#include <string>
#include <utility>

#include "bindings/runtime.hpp"
#include "engine/core/assert.hpp"

namespace luaload::bindings {

namespace {

// Far more than a script needs; a spawn in a loop without waiting must not exhaust memory silently.
constexpr size_t kMaxTasksPerVu = 10000;

void set_bool(lua_State* L, int table, const char* key, bool value) {
  lua_pushboolean(L, value);
  lua_setfield(L, table, key);
}

// core.spawn(task, fn, ...): `task` is the script's object (lua/vu.lua) that receives finished/ok/results/error.
int l_spawn(lua_State* L) {
  auto& impl = impl_of(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  VuState& caller = impl.require_vu(L, "ll.spawn");
  VuState& root = impl.root_of(caller);
  if (root.tasks.size() >= kMaxTasksPerVu) {
    return luaL_error(L, "ll.spawn: this VU already runs %d tasks", static_cast<int>(kMaxTasksPerVu));
  }
  VuState* task = impl.new_task(root, caller);
  lua_pushnumber(L, static_cast<lua_Number>(task->key));
  lua_setfield(L, 1, "_key");
  lua_pushvalue(L, 1);
  task->task_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_State* thread = task->thread;
  lua_rawgeti(thread, LUA_REGISTRYINDEX, impl.refs.task);
  const int nargs = lua_gettop(L) - 1;  // fn and its arguments
  lua_xmove(L, thread, nargs);
  const VuHandle handle = task->handle();
  auto* runtime = &impl;
  impl.defer([runtime, handle, nargs] {
    if (VuState* started = runtime->find(handle)) runtime->resume(*started, nargs);
  });
  return 0;
}

// core.task_wait(task): returns at once when the task already ended, else waits for it (Lua loops on `finished`).
int l_task_wait(lua_State* L) {
  auto& impl = impl_of(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  VuState& caller = impl.require_waiting_vu(L, "task:wait");
  lua_getfield(L, 1, "_key");
  const auto key = static_cast<uint64_t>(lua_tonumber(L, -1));
  VuState* task = impl.find(key);
  if (task == nullptr || task->retired || task->root_key == 0) {
    return 0;
  }
  if (task == &caller) {
    return luaL_error(L, "task:wait(): a task cannot wait for itself");
  }
  if (task->root_key != impl.root_of(caller).key) {
    // Its VU would interrupt it without telling a waiter that is not its own.
    return luaL_error(L, "task:wait(): the task belongs to another VU");
  }
  task->task_waiters.push_back(caller.handle());
  caller.pending = PendingKind::TaskWait;
  lua_pushlightuserdata(L, engine_yield_sentinel());
  return lua_yield(L, 1);
}

}  // namespace

VuState* WorkerRuntime::Impl::new_task(VuState& root, const VuState& caller) {
  auto task = std::make_unique<VuState>();
  task->owner = this;
  task->key = next_key_++;
  task->id = root.id;
  task->root_key = root.key;
  task->in_init = false;
  task->running = true;
  task->once = root.once;
  task->context = caller.context;
  task->group_path = caller.group_path;
  task->thread = lua_newthread(L_);
  task->thread_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  VuState* raw = task.get();
  root.tasks.push_back(raw->key);
  vus_.emplace(raw->key, std::move(task));
  return raw;
}

VuState& WorkerRuntime::Impl::root_of(VuState& vu) {
  if (vu.root_key == 0) return vu;
  VuState* root = find(vu.root_key);
  LUALOAD_CHECK(root != nullptr, "a task outlived its VU");
  return *root;
}

void WorkerRuntime::Impl::wake_later(VuHandle handle, PendingKind kind, bool value) {
  defer([this, handle, kind, value] {
    VuState* vu = find(handle);
    if (vu == nullptr || vu->pending != kind) return;
    vu->pending = PendingKind::None;
    lua_settop(vu->thread, 0);
    lua_pushboolean(vu->thread, value);
    resume(*vu, 1);
  });
}

void WorkerRuntime::Impl::on_task_resumed(VuState& task, int status) {
  lua_State* thread = task.thread;
  if (task.aborted) {
    abort_from_task(task);
    return;
  }
  if (status == LUA_YIELD) {
    if (lua_gettop(thread) >= 1 && lua_touserdata(thread, 1) == engine_yield_sentinel()) {
      return;  // waiting for the engine; the completion resumes it
    }
    lua_settop(thread, 0);
    lua_pushboolean(thread, 0);
    lua_pushliteral(thread, "coroutine.yield() called outside of a coroutine created by the script");
    finish_task(task, false);
    return;
  }
  if (status != 0) {
    // Only errors outside the driver's xpcall land here (e.g. out of memory in the error handler).
    const char* text = lua_tostring(thread, -1);
    std::string message = text != nullptr ? text : "error object is not a string";
    lua_settop(thread, 0);
    lua_pushboolean(thread, 0);
    lua_pushlstring(thread, message.data(), message.size());
  }
  finish_task(task, lua_toboolean(thread, 1) != 0);
}

// The driver left (ok, results...) or (false, error) on the task's stack: they go into the task object.
void WorkerRuntime::Impl::finish_task(VuState& task, bool ok) {
  lua_State* thread = task.thread;
  const int top = lua_gettop(thread);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, task.task_ref);
  const int object = lua_gettop(L_);
  set_bool(L_, object, "finished", true);
  set_bool(L_, object, "ok", ok);
  if (ok) {
    lua_createtable(L_, top - 1, 1);
    for (int i = 2; i <= top; ++i) {
      lua_pushvalue(thread, i);
      lua_xmove(thread, L_, 1);
      lua_rawseti(L_, -2, i - 1);
    }
    lua_pushinteger(L_, top - 1);
    lua_setfield(L_, -2, "n");
    lua_setfield(L_, object, "results");
  } else {
    const char* text = top >= 2 ? lua_tostring(thread, 2) : nullptr;
    const std::string message = text != nullptr ? text : "task failed with a non-string error";
    lua_pushlstring(L_, message.data(), message.size());
    lua_setfield(L_, object, "error");
    // With nobody waiting yet the error would go unseen: it is reported like an iteration error.
    if (task.task_waiters.empty()) {
      set_bool(L_, object, "reported", true);
      if (!task.once) record_error(message);
    }
  }
  lua_settop(L_, object - 1);
  for (const VuHandle& waiter : task.task_waiters) wake_later(waiter, PendingKind::TaskWait);
  task.task_waiters.clear();
  retire(task.key);
}

// A task retired before it finished (its iteration ended): waiters in a later iteration must not wait forever.
void WorkerRuntime::Impl::on_task_retired(VuState& task) {
  if (VuState* root = find(task.root_key)) std::erase(root->tasks, task.key);
  if (task.task_ref == LUA_NOREF) return;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, task.task_ref);
  const int object = lua_gettop(L_);
  lua_getfield(L_, object, "finished");
  const bool finished = lua_toboolean(L_, -1) != 0;
  lua_pop(L_, 1);
  if (!finished) {
    set_bool(L_, object, "finished", true);
    set_bool(L_, object, "ok", false);
    lua_pushliteral(L_, "task interrupted: the iteration that spawned it ended");
    lua_setfield(L_, object, "error");
  }
  lua_settop(L_, object - 1);
}

// ll.abort() in a task stops the test like ll.abort() in the VU itself.
void WorkerRuntime::Impl::abort_from_task(VuState& task) {
  VuState& root = root_of(task);
  root.aborted = true;
  root.abort_message = task.abort_message;
  cancel_pending(root);
  drop_coroutine(root);
  finish(root, engine::schedule::IterationOutcome::Aborted, true);
}

void WorkerRuntime::Impl::end_background_work(VuState& vu) {
  stop_streams(vu);
  const std::vector<uint64_t> tasks = std::move(vu.tasks);
  vu.tasks.clear();
  for (uint64_t key : tasks) retire(key);
}

void open_task(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kFunctions[] = {
      {"spawn", l_spawn},
      {"task_wait", l_task_wait},
      {nullptr, nullptr},
  };
  lua_pushlightuserdata(L, impl);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace luaload::bindings
