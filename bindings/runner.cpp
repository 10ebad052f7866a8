// SPDX-License-Identifier: MIT
// The VU runner: starts a VU's coroutine, resumes it, and turns what it yields into iteration outcomes.
//
// A VU's coroutine runs lua/vu.lua's driver, which calls default(data) once per resume and yields
// (iteration_done, ok, error) between iterations. A binding that waits for the engine yields (engine_yield) and
// its completion resumes the coroutine with the results. Anything else yielded to the runner is a script bug.
#include <utility>

#include "bindings/runtime.hpp"
#include "engine/core/assert.hpp"

namespace luaload::bindings {

using engine::schedule::IterationContext;
using engine::schedule::IterationOutcome;
using engine::schedule::VuBody;

void* engine_yield_sentinel() {
  static char sentinel;
  return &sentinel;
}

void* iteration_done_sentinel() {
  static char sentinel;
  return &sentinel;
}

void WorkerRuntime::Impl::run_iteration(VuState& vu, const IterationContext& context, VuBody::Done done) {
  LUALOAD_CHECK(!vu.running && !vu.retired && !vu.ending, "run_iteration on a busy, ending or destroyed VU");
  vu.context = context;
  vu.done = std::move(done);
  vu.running = true;
  vu.aborted = false;
  vu.group_path.clear();
  vu.groups.clear();
  // Resuming right away saves a loop turn per iteration; an iteration that ends without yielding to the engine
  // has its `done` deferred by finish().
  vu.starting = true;
  if (vu.thread != nullptr) {
    lua_settop(vu.thread, 0);
    resume(vu, 0);
  } else if (ensure_data(vu, setup_json_)) {
    start_coroutine(vu, refs.iterations, vu.context.exec.c_str(), false);
  } else {
    finish(vu, IterationOutcome::Failed, true);
  }
  vu.starting = false;
}

void WorkerRuntime::Impl::interrupt(VuState& vu) {
  if (!vu.running) {
    return;
  }
  cancel_pending(vu);
  drop_coroutine(vu);
  finish(vu, IterationOutcome::Interrupted, true);
}

// setup()/teardown() in a VU of their own (id 0), where network calls are allowed. `done` gets (true, JSON of the
// result or "") or (false, error with traceback); always on a later loop turn.
void WorkerRuntime::Impl::run_once(const char* function, const std::string* data_json, bool encode,
                                   std::function<void(bool ok, std::string value)> done) {
  std::string error;
  VuState* vu = new_vu(0, &error);
  if (vu == nullptr) {
    defer([done = std::move(done), error] { done(false, error); });
    return;
  }
  if (!has_function(*vu, function)) {
    retire(vu->key);
    defer([done = std::move(done), encode] { done(true, encode ? "null" : ""); });
    return;
  }
  const uint64_t key = vu->key;
  vu->once = true;
  vu->context.scenario.clear();
  vu->running = true;
  vu->group_path = std::string("::") + function;  // as k6 tags setup()/teardown() samples
  vu->done = [this, key, done = std::move(done)](IterationOutcome outcome) {
    VuState* finished = find(key);
    std::string value = finished->once_value;
    if (outcome == IterationOutcome::Aborted) {
      value = "test aborted: " + finished->abort_message;
    }
    const bool ok = outcome == IterationOutcome::Completed;
    auto report = [this, key, ok, value = std::move(value), done] {
      retire(key);
      done(ok, value);
    };
    // The VU of setup()/teardown() retires here: its end hooks run first (bounded by setupTimeout/teardownTimeout).
    if (has_end_hooks(*finished)) {
      end_vu(*finished, [report = std::move(report)](IterationOutcome) { report(); });
    } else {
      report();
    }
  };
  vu->starting = true;
  if (ensure_data(*vu, data_json != nullptr ? *data_json : "null")) {
    start_coroutine(*vu, refs.once, function, encode);
  } else {
    finish(*vu, IterationOutcome::Failed, true);
  }
  vu->starting = false;
}

// Decodes the setup data into this VU's own copy, once.
bool WorkerRuntime::Impl::ensure_data(VuState& vu, const std::string& json) {
  if (vu.data_ref != LUA_NOREF) {
    return true;
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, refs.decode_data);
  lua_pushlstring(L_, json.data(), json.size());
  if (lua_pcall(L_, 1, 1, 0) != 0) {
    const char* message = lua_tostring(L_, -1);
    vu.once_value = std::string("cannot decode the setup data: ") + (message != nullptr ? message : "?");
    record_error(vu.once_value);
    lua_pop(L_, 1);
    return false;
  }
  vu.data_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  return true;
}

bool WorkerRuntime::Impl::start_coroutine(VuState& vu, int driver_ref, const char* function, bool encode) {
  lua_State* thread = lua_newthread(L_);
  vu.thread_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  vu.thread = thread;
  lua_rawgeti(thread, LUA_REGISTRYINDEX, driver_ref);
  lua_rawgeti(thread, LUA_REGISTRYINDEX, vu.env_ref);
  lua_getfield(thread, -1, function);
  lua_remove(thread, -2);
  lua_rawgeti(thread, LUA_REGISTRYINDEX, vu.data_ref);
  lua_pushboolean(thread, encode);
  resume(vu, 3);
  return true;
}

void WorkerRuntime::Impl::resume(VuState& vu, int nargs) {
  lua_State* thread = vu.thread;
  VuState* previous = current_;
  current_ = &vu;
  int status = 0;
  {
    LuaHeap::Enforce enforce(heap_);
    status = lua_resume(thread, nargs);
  }
  current_ = previous;
  if (vu.root_key != 0) {
    on_task_resumed(vu, status);
    return;
  }
  if (vu.aborted) {
    // ll.abort() yields like an engine call but nothing will ever resume it.
    drop_coroutine(vu);
    finish(vu, IterationOutcome::Aborted, vu.starting);
    return;
  }
  if (status == LUA_YIELD) {
    on_yield(vu);
    return;
  }
  std::string message = "the VU's coroutine ended unexpectedly";
  if (status != 0) {
    const char* text = lua_tostring(thread, -1);
    message = reported_error(text != nullptr ? text : "error object is not a string");
  }
  vu.once_value = message;
  if (!vu.once) {
    record_error(message);
  }
  drop_coroutine(vu);
  recover_heap();
  finish(vu, IterationOutcome::Failed, vu.starting);
}

void WorkerRuntime::Impl::on_yield(VuState& vu) {
  lua_State* thread = vu.thread;
  void* marker = lua_gettop(thread) >= 1 ? lua_touserdata(thread, 1) : nullptr;
  if (marker == engine_yield_sentinel()) {
    return;  // an engine operation is pending; its completion resumes the VU
  }
  if (marker == iteration_done_sentinel()) {
    on_done_marker(vu);
    return;
  }
  const char* message = "coroutine.yield() called outside of a coroutine created by the script";
  vu.once_value = message;
  if (!vu.once) {
    record_error(message);
  }
  drop_coroutine(vu);
  finish(vu, IterationOutcome::Failed, vu.starting);
}

void WorkerRuntime::Impl::on_done_marker(VuState& vu) {
  lua_State* thread = vu.thread;
  const bool ok = lua_toboolean(thread, 2);
  size_t length = 0;
  const char* value = lua_tolstring(thread, 3, &length);
  vu.once_value.assign(value != nullptr ? value : "", length);
  lua_settop(thread, 0);
  if (!ok) vu.once_value = reported_error(vu.once_value);
  if (!ok && !vu.once) {
    record_error(vu.once_value);
  }
  recover_heap();
  finish(vu, ok ? IterationOutcome::Completed : IterationOutcome::Failed, vu.starting);
}

// Ends the iteration in flight. `later`: `done` must not run from the current call (run_iteration, interrupt).
void WorkerRuntime::Impl::finish(VuState& vu, IterationOutcome outcome, bool later) {
  end_background_work(vu);
  vu.running = false;
  vu.pending = PendingKind::None;
  VuBody::Done done = std::move(vu.done);
  vu.done = nullptr;
  if (!done) {
    return;
  }
  if (!later) {
    done(outcome);
    return;
  }
  const uint64_t key = vu.key;
  defer([this, key, outcome, done = std::move(done)] {
    VuState* owner = find(key);
    if (owner != nullptr && !owner->retired) {
      done(outcome);
    }
  });
}

void WorkerRuntime::Impl::cancel_pending(VuState& vu) {
  switch (vu.pending) {
    case PendingKind::Sleep:
      uv_timer_stop(vu.timer);
      break;
    case PendingKind::Http:
      client_for(vu).cancel(vu.pending_request);
      break;
    case PendingKind::EventWait:
      if (vu.timer != nullptr) uv_timer_stop(vu.timer);
      forget_event_wait(vu);
      break;
    case PendingKind::StreamWait:  // the wake finds a newer generation, or nothing, and does nothing
    case PendingKind::TaskWait:
    case PendingKind::EventWake:
    case PendingKind::Abort:
    case PendingKind::None:
      break;
  }
  vu.pending = PendingKind::None;
}

// The coroutine (and any user coroutine it holds) becomes garbage; completions of the old generation are dropped.
void WorkerRuntime::Impl::drop_coroutine(VuState& vu) {
  if (vu.thread_ref != LUA_NOREF) {
    luaL_unref(L_, LUA_REGISTRYINDEX, vu.thread_ref);
  }
  vu.thread_ref = LUA_NOREF;
  vu.thread = nullptr;
  vu.generation++;
  vu.groups.clear();
  vu.group_path.clear();
}

void WorkerRuntime::Impl::require_yieldable(lua_State* L, const char* api) {
  if (can_yield(L)) return;
  luaL_error(L, "%s cannot wait here: it was called across a C boundary (a table.sort comparator, a string.gsub "
             "callback, a module's top level run by require, or a coroutine resumed from one of them), where the VU "
             "cannot be suspended; nothing was started", api);
}

namespace {

// core guard(delta), for lua/coroutine.lua only.
int l_resume_guard(lua_State* L) {
  impl_of(L).add_blocked_resumes(static_cast<int>(lua_tointeger(L, 1)));
  return 0;
}

}  // namespace

void push_resume_guard(lua_State* L, WorkerRuntime::Impl* impl) {
  lua_pushlightuserdata(L, impl);
  lua_pushcclosure(L, l_resume_guard, 1);
}

}  // namespace luaload::bindings
