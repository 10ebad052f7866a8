// SPDX-License-Identifier: MIT
// ll.event(): a wake-up that any coroutine of the worker (VU or task, of any VU) can wait on, for single-flight
// work (one VU fetches a token while the others wait) and readers fed by callbacks (stdio).
//
// Contract (loop thread only, like every binding):
// - ev:wait([timeout_s]) validates its argument, checks that the caller may yield (require_yieldable), then records
//   the waiter and arms its timeout, then yields. A refused wait leaves nothing behind.
// - ev:notify() takes every current waiter off the event at once: its timeout is disarmed, its pending kind
//   becomes EventWake, and its resume (with true) runs on a later loop turn, never inside notify(). A waiter is
//   resumed exactly once: by that wake, by its timeout (false), or never when it is interrupted first (cancel_pending
//   calls forget_event_wait; the deferred wake then finds a newer generation and does nothing).
//
// Waiter states: waiting (in the event's list, pending EventWait) -> notified (off the list, pending EventWake)
//                -> resumed(true); waiting -> timed out -> resumed(false); waiting|notified -> interrupted (dropped).
#include <cmath>
#include <memory>
#include <new>
#include <vector>

#include "bindings/runtime.hpp"

namespace luaload::bindings {

// The waiters of one event. Shared by the script's event object and by each waiting VuState (pending_event), so a
// waiter can take itself off the list even after the script dropped the event.
struct EventState {
  std::vector<VuHandle> waiters;  // in the order they started waiting; every one has pending == EventWait
};

namespace {

constexpr const char* kEventMeta = "luaload.Event";
constexpr double kMaxTimeoutSeconds = 365.0 * 24 * 3600;

std::shared_ptr<EventState>& check_event(lua_State* L, int index) {
  return *static_cast<std::shared_ptr<EventState>*>(luaL_checkudata(L, index, kEventMeta));
}

void on_wait_timeout_cb(uv_timer_t* timer) {
  auto* vu = static_cast<VuState*>(timer->data);
  if (vu->pending != PendingKind::EventWait) return;
  forget_event_wait(*vu);
  vu->pending = PendingKind::None;
  lua_settop(vu->thread, 0);
  lua_pushboolean(vu->thread, 0);
  vu->owner->resume(*vu, 1);
}

// Seconds from argument `arg`: < 0 for none (nil or absent), else the timeout in milliseconds.
int64_t check_timeout_ms(lua_State* L, int arg) {
  if (lua_isnoneornil(L, arg)) return -1;
  const double seconds = luaL_checknumber(L, arg);
  luaL_argcheck(L, std::isfinite(seconds) && seconds >= 0 && seconds <= kMaxTimeoutSeconds, arg,
                "the timeout must be a number of seconds between 0 and a year");
  return std::llround(seconds * 1000.0);
}

// ll.event() -> luaload.Event
int l_event_new(lua_State* L) {
  void* memory = lua_newuserdata(L, sizeof(std::shared_ptr<EventState>));
  new (memory) std::shared_ptr<EventState>(std::make_shared<EventState>());
  luaL_getmetatable(L, kEventMeta);
  lua_setmetatable(L, -2);
  return 1;
}

// ev:wait([timeout_s]) -> true when notified, false when the timeout passed first.
int l_event_wait(lua_State* L) {
  auto& impl = impl_of(L);
  const std::shared_ptr<EventState>& event = check_event(L, 1);
  const int64_t timeout_ms = check_timeout_ms(L, 2);
  VuState& vu = impl.require_waiting_vu(L, "ev:wait");
  event->waiters.push_back(vu.handle());
  vu.pending_event = event;
  vu.pending = PendingKind::EventWait;
  if (timeout_ms >= 0) {
    uv_update_time(impl.loop());  // as ll.sleep: count the timeout from now, not from the start of this turn
    uv_timer_start(impl.timer_for(vu), on_wait_timeout_cb, static_cast<uint64_t>(timeout_ms), 0);
  }
  lua_pushlightuserdata(L, engine_yield_sentinel());
  return lua_yield(L, 1);
}

// ev:notify() -> the number of waiters it woke. Callable anywhere, init code included.
int l_event_notify(lua_State* L) {
  auto& impl = impl_of(L);
  const std::shared_ptr<EventState>& event = check_event(L, 1);
  const std::vector<VuHandle> waiters = std::move(event->waiters);
  event->waiters.clear();
  lua_Integer woken = 0;
  for (const VuHandle& handle : waiters) {
    VuState* vu = impl.find(handle);
    if (vu == nullptr || vu->pending != PendingKind::EventWait || vu->pending_event != event) continue;
    if (vu->timer != nullptr) uv_timer_stop(vu->timer);
    vu->pending_event.reset();
    vu->pending = PendingKind::EventWake;
    impl.wake_later(handle, PendingKind::EventWake, true);
    ++woken;
  }
  lua_pushinteger(L, woken);
  return 1;
}

int l_event_gc(lua_State* L) {
  check_event(L, 1).~shared_ptr();
  return 0;
}

int l_event_tostring(lua_State* L) {
  lua_pushfstring(L, "luaload.Event (%d waiting)", static_cast<int>(check_event(L, 1)->waiters.size()));
  return 1;
}

}  // namespace

void forget_event_wait(VuState& vu) {
  if (vu.pending_event == nullptr) return;
  std::erase_if(vu.pending_event->waiters, [&vu](const VuHandle& h) { return h.key == vu.key; });
  vu.pending_event.reset();
}

void open_event(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kMethods[] = {
      {"wait", l_event_wait},
      {"notify", l_event_notify},
      {nullptr, nullptr},
  };
  luaL_newmetatable(L, kEventMeta);
  lua_pushcfunction(L, l_event_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_event_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  lua_pushlightuserdata(L, impl);
  luaL_setfuncs(L, kMethods, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_event_new);
  lua_setfield(L, -2, "event_new");
}

}  // namespace luaload::bindings
