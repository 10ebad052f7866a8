// SPDX-License-Identifier: MIT
// ll.on_vu_end(fn): hooks a VU runs once when it retires, for cleanup that needs the network (closing MCP sessions
// with DELETE, stopping stdio servers).
//
// When: the VUs of a worker run theirs together once the worker's scenarios are over (no iteration in flight and
// none to come: the end of the test, a Ctrl-C stop, an abort), before teardown() — run_vu_end_hooks(), called by
// the worker host. The setup() and teardown() VUs run theirs as soon as their function returned (run_once).
// A VU's hooks run one after the other in a fresh coroutine of that VU (lua/vu.lua's end_hooks), in the order they
// were registered; an error in one is reported like an iteration error and the next one still runs. The worker's
// phase is bounded: past its timeout the VUs still in their hooks are interrupted, and that is reported once per VU.
//
// Contract: loop thread. A VU ends at most once (VuState::ending). run_vu_end_hooks() runs once per runtime; its
// `done` runs exactly once, on a later loop turn, unless the runtime closes first. A VU retired while it ends (its
// body destroyed) counts as ended.
//
// Phase states: not started -> running (end_waiting_ not empty, timer armed) -> [timed out: the rest interrupted]
//               -> done (timer closing, `done` deferred); close() at any point: timer closed, `done` dropped.
#include <algorithm>
#include <string>
#include <utility>

#include "bindings/runtime.hpp"
#include "engine/core/assert.hpp"

namespace luaload::bindings {

namespace {

using engine::schedule::IterationOutcome;

// Far more than a script needs; registering a hook per iteration without cancelling must not grow without bound.
constexpr size_t kMaxEndHooksPerVu = 10000;

// core.on_vu_end(fn) -> the VU's key, the hook's id (for core.vu_end_cancel)
int l_on_vu_end(lua_State* L) {
  auto& impl = impl_of(L);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  VuState* caller = impl.current();
  if (caller == nullptr) return luaL_error(L, "ll.on_vu_end must be called by a VU (init code, default(), ...)");
  VuState& vu = impl.root_of(*caller);
  if (vu.ending) return luaL_error(L, "ll.on_vu_end: this VU is already running its end hooks");
  if (vu.end_hook_count >= kMaxEndHooksPerVu) {
    return luaL_error(L, "ll.on_vu_end: this VU already has %d end hooks (cancel the ones you no longer need)",
                      static_cast<int>(kMaxEndHooksPerVu));
  }
  if (vu.end_hooks_ref == LUA_NOREF) {
    lua_newtable(L);
    vu.end_hooks_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  const uint64_t id = vu.next_end_hook++;
  lua_rawgeti(L, LUA_REGISTRYINDEX, vu.end_hooks_ref);
  lua_pushnumber(L, static_cast<lua_Number>(id));
  lua_pushvalue(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  vu.end_hook_count++;
  lua_pushnumber(L, static_cast<lua_Number>(vu.key));
  lua_pushnumber(L, static_cast<lua_Number>(id));
  return 2;
}

// core.vu_end_cancel(vu_key, id) -> true when the hook was registered and had not run
int l_vu_end_cancel(lua_State* L) {
  auto& impl = impl_of(L);
  VuState* vu = impl.find(static_cast<uint64_t>(luaL_checknumber(L, 1)));
  const lua_Number id = luaL_checknumber(L, 2);
  bool removed = false;
  if (vu != nullptr && !vu->retired && vu->end_hooks_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, vu->end_hooks_ref);
    lua_pushnumber(L, id);
    lua_rawget(L, -2);
    removed = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (removed) {
      lua_pushnumber(L, id);
      lua_pushnil(L);
      lua_rawset(L, -3);
      vu->end_hook_count--;
    }
    lua_pop(L, 1);
  }
  lua_pushboolean(L, removed);
  return 1;
}

// report(error_with_traceback): a hook's error, counted with the iteration errors.
int l_report_hook_error(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  impl_of(L).record_error(message != nullptr ? message : "ll.on_vu_end: a hook failed with a non-string error");
  return 0;
}

}  // namespace

bool WorkerRuntime::Impl::has_end_hooks(const VuState& vu) const {
  return vu.root_key == 0 && !vu.retired && !vu.ending && vu.end_hook_count > 0;
}

bool WorkerRuntime::Impl::run_vu_end_hooks(int64_t timeout_ns, std::function<void()> done) {
  LUALOAD_CHECK(!end_phase_started_ && !closing_, "run_vu_end_hooks called twice or after close");
  end_phase_started_ = true;
  end_done_ = std::move(done);
  for (const auto& [key, vu] : vus_) {
    if (has_end_hooks(*vu) && !vu->once && !vu->running) end_waiting_.push_back(key);
  }
  std::sort(end_waiting_.begin(), end_waiting_.end());  // creation order: VU 1 starts first
  if (end_waiting_.empty()) {
    on_vu_ended(0);  // nothing to wait for: `done` on the next turn
    return false;
  }
  end_timeout_ns_ = std::max<int64_t>(0, timeout_ns);
  end_timer_ = new uv_timer_t;
  uv_timer_init(loop_, end_timer_);
  end_timer_->data = this;
  for (uint64_t key : std::vector<uint64_t>(end_waiting_)) {
    end_vu(*find(key), [this, key](IterationOutcome) { on_vu_ended(key); });
  }
  // Armed once every VU's hooks started (end_vu starts them on the next turn, in order), so that even a zero
  // timeout finds them running and interrupts them.
  defer([this] {
    if (end_timer_ == nullptr) return;  // every VU already ended
    const auto ms = static_cast<uint64_t>(end_timeout_ns_ / 1'000'000);
    uv_timer_start(end_timer_, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->on_end_timeout(); }, ms, 0);
  });
  return true;
}

void WorkerRuntime::Impl::end_vu(VuState& vu, engine::schedule::VuBody::Done done) {
  LUALOAD_CHECK(!vu.running && !vu.ending, "end_vu on a running or ending VU");
  vu.ending = true;
  // Started on a later turn: the caller may be a completion of this VU's last iteration.
  const uint64_t key = vu.key;
  defer([this, key, done = std::move(done)]() mutable {
    VuState* ending = find(key);
    if (ending != nullptr && !ending->retired) start_end_hooks(*ending, std::move(done));
  });
}

void WorkerRuntime::Impl::start_end_hooks(VuState& vu, engine::schedule::VuBody::Done done) {
  drop_coroutine(vu);  // the iteration coroutine, parked between iterations
  vu.running = true;
  vu.aborted = false;
  vu.done = std::move(done);
  vu.group_path = "::on_vu_end";  // as setup()'s samples carry ::setup
  lua_State* thread = lua_newthread(L_);
  vu.thread_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  vu.thread = thread;
  lua_rawgeti(thread, LUA_REGISTRYINDEX, refs.end_hooks);
  lua_rawgeti(thread, LUA_REGISTRYINDEX, vu.end_hooks_ref);
  lua_pushlightuserdata(thread, this);
  lua_pushcclosure(thread, l_report_hook_error, 1);
  vu.starting = true;
  resume(vu, 2);
  vu.starting = false;
}

// A VU of the phase ended its hooks (or was retired, or `key` is 0: a phase without VUs).
void WorkerRuntime::Impl::on_vu_ended(uint64_t key) {
  std::erase(end_waiting_, key);
  if (!end_waiting_.empty() || !end_done_) return;
  close_end_timer();
  auto done = std::move(end_done_);
  end_done_ = nullptr;
  if (!closing_) defer(std::move(done));
}

void WorkerRuntime::Impl::on_end_timeout() {
  for (uint64_t key : std::vector<uint64_t>(end_waiting_)) {
    VuState* vu = find(key);
    if (vu == nullptr || !vu->running) continue;
    record_error("ll.on_vu_end: end hooks still running after vuEndTimeout (" +
                 std::to_string(end_timeout_ns_ / 1'000'000) + " ms) were interrupted");
    interrupt(*vu);  // its `done` comes on a later turn and takes it off end_waiting_
  }
}

void WorkerRuntime::Impl::close_end_timer() {
  if (end_timer_ == nullptr) return;
  uv_timer_t* timer = end_timer_;
  end_timer_ = nullptr;
  end_timer_closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* handle) {
    auto* self = static_cast<Impl*>(handle->data);
    delete reinterpret_cast<uv_timer_t*>(handle);
    self->end_timer_closing_ = false;
    self->defer([] {});  // lets check_closed() see it
  });
}

void open_vu_end(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kFunctions[] = {
      {"on_vu_end", l_on_vu_end},
      {"vu_end_cancel", l_vu_end_cancel},
      {nullptr, nullptr},
  };
  lua_pushlightuserdata(L, impl);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace luaload::bindings
