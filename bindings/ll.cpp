// SPDX-License-Identifier: MIT
// C++ side of the `luaload` module (lua/luaload.lua): sleep, abort, checks, groups, custom metrics, ll.vu, ll.env.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "bindings/runtime.hpp"
#include "engine/core/clock.hpp"
#include "engine/metrics/builtin.hpp"

namespace luaload::bindings {

namespace {

namespace builtin = engine::metrics::builtin;
using engine::metrics::MetricType;
using engine::metrics::ValueType;

void on_sleep_done_cb(uv_timer_t* timer) {
  auto* vu = static_cast<VuState*>(timer->data);
  vu->pending = PendingKind::None;
  lua_settop(vu->thread, 0);
  vu->owner->resume(*vu, 0);
}

// ll.sleep(seconds): suspends this VU on its own (reused) timer; other VUs run meanwhile.
int l_ll_sleep(lua_State* L) {
  auto& impl = impl_of(L);
  if (lua_type(L, 1) != LUA_TNUMBER) {
    return luaL_error(L, "ll.sleep: seconds must be a number, got %s", luaL_typename(L, 1));
  }
  const double seconds = lua_tonumber(L, 1);
  if (!std::isfinite(seconds) || seconds < 0) {
    return luaL_error(L, "ll.sleep: seconds must be a finite number >= 0, got %f", seconds);
  }
  VuState& vu = impl.require_waiting_vu(L, "ll.sleep");
  // libuv counts a timeout from the loop time cached at the start of this turn; Lua may have run for a while
  // since, and the sleep would end that much early.
  uv_update_time(impl.loop());
  uv_timer_start(impl.timer_for(vu), on_sleep_done_cb, static_cast<uint64_t>(std::llround(seconds * 1000.0)), 0);
  vu.pending = PendingKind::Sleep;
  lua_pushlightuserdata(L, engine_yield_sentinel());
  return lua_yield(L, 1);
}

// ll.abort(message): stops the whole test. It yields (nobody resumes it), so a pcall in the script cannot catch it.
int l_ll_abort(lua_State* L) {
  auto& impl = impl_of(L);
  const char* message = luaL_optstring(L, 1, "abort() called");
  VuState* vu = impl.current();
  if (vu == nullptr || vu->in_init) {
    return luaL_error(L, "test aborted: %s", message);  // the marker app/exit_codes.hpp turns into exit 108
  }
  vu->aborted = true;
  vu->abort_message = message;
  if (!impl.can_yield(L)) {
    // Where the VU cannot be suspended (a table.sort comparator...) the abort is an error that unwinds the script;
    // the runner ends the VU as aborted the next time its coroutine yields or returns, and no wait starts before.
    return luaL_error(L, "test aborted: %s", message);
  }
  vu->pending = PendingKind::Abort;
  lua_pushlightuserdata(L, engine_yield_sentinel());
  return lua_yield(L, 1);
}

// core.record_check(name, passed, tags)
int l_ll_record_check(lua_State* L) {
  auto& impl = impl_of(L);
  const char* name = luaL_checkstring(L, 1);
  const bool passed = lua_toboolean(L, 2);
  VuState& vu = impl.require_vu(L, "ll.check");
  engine::metrics::Tags tags = impl.base_tags(vu, L, lua_istable(L, 3) ? 3 : 0);
  tags.emplace_back("check", name);
  auto& registry = impl.registry();
  registry.add(builtin::kChecks, registry.intern(std::move(tags)), passed ? 1.0 : 0.0);
  return 0;
}

// core.group_enter(name) -> depth
int l_ll_group_enter(lua_State* L) {
  auto& impl = impl_of(L);
  size_t length = 0;
  const char* name = luaL_checklstring(L, 1, &length);
  VuState& vu = impl.require_vu(L, "ll.group");
  if (std::strstr(name, "::") != nullptr) {
    return luaL_error(L, "ll.group: group names cannot contain '::' (got \"%s\")", name);
  }
  vu.groups.push_back({vu.group_path.size(), core::mono_now_ns()});
  vu.group_path.append("::").append(name, length);
  lua_pushinteger(L, static_cast<lua_Integer>(vu.groups.size()));
  return 1;
}

// core.group_leave(depth, ok): records group_duration for a group that completed.
int l_ll_group_leave(lua_State* L) {
  auto& impl = impl_of(L);
  const auto depth = static_cast<size_t>(luaL_checkinteger(L, 1));
  const bool ok = lua_toboolean(L, 2);
  VuState& vu = impl.require_vu(L, "ll.group");
  if (depth == 0 || depth > vu.groups.size()) {
    return 0;  // the stack was reset under it (should not happen); nothing to close
  }
  const GroupFrame frame = vu.groups[depth - 1];
  if (ok) {
    const double ms = static_cast<double>(core::mono_now_ns() - frame.started_ns) / 1e6;
    auto& registry = impl.registry();
    registry.add(builtin::kGroupDuration, impl.base_tag_set(vu, L, 0), ms);
  }
  vu.groups.resize(depth - 1);
  vu.group_path.resize(frame.path_length);
  return 0;
}

MetricType metric_type(lua_State* L, const char* kind) {
  if (std::strcmp(kind, "counter") == 0) return MetricType::Counter;
  if (std::strcmp(kind, "gauge") == 0) return MetricType::Gauge;
  if (std::strcmp(kind, "rate") == 0) return MetricType::Rate;
  if (std::strcmp(kind, "trend") == 0) return MetricType::Trend;
  luaL_error(L, "unknown metric kind %s", kind);
  return MetricType::Counter;
}

// core.metric_define(name, kind, is_time) -> id
int l_ll_metric_define(lua_State* L) {
  auto& impl = impl_of(L);
  const char* name = luaL_checkstring(L, 1);
  const MetricType type = metric_type(L, luaL_checkstring(L, 2));
  const ValueType contains = lua_toboolean(L, 3) ? ValueType::Time : ValueType::Default;
  std::string error;
  const auto id = impl.registry().define(name, type, contains, &error);
  if (!id) {
    return luaL_error(L, "ll.metrics: %s", error.c_str());
  }
  lua_pushinteger(L, static_cast<lua_Integer>(*id));
  return 1;
}

// core.metric_add(id, value, tags): booleans count as 1/0 (for Rate).
int l_ll_metric_add(lua_State* L) {
  auto& impl = impl_of(L);
  const auto id = static_cast<engine::metrics::MetricId>(luaL_checkinteger(L, 1));
  double value = 0;
  if (lua_isboolean(L, 2)) {
    value = lua_toboolean(L, 2) ? 1.0 : 0.0;
  } else {
    value = luaL_checknumber(L, 2);
  }
  if (lua_gettop(L) >= 3 && !lua_isnil(L, 3) && !lua_istable(L, 3)) {
    return luaL_argerror(L, 3, "tags must be a table");
  }
  VuState& vu = impl.require_vu(L, "metric:add");
  auto& registry = impl.registry();
  registry.add(id, impl.base_tag_set(vu, L, 3), value);
  return 0;
}

// ll.now(): milliseconds on the engine's monotonic clock (for durations and token expiry, never wall time).
int l_ll_now(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(core::mono_now_ns()) / 1e6);
  return 1;
}

// core.vu_field(key): ll.vu.id / iteration / scenario of the running VU.
int l_ll_vu_field(lua_State* L) {
  auto& impl = impl_of(L);
  const char* key = luaL_checkstring(L, 1);
  const VuState* vu = impl.current();
  if (std::strcmp(key, "id") == 0) {
    lua_pushnumber(L, vu != nullptr ? static_cast<lua_Number>(vu->id) : 0);
  } else if (std::strcmp(key, "iteration") == 0) {
    lua_pushnumber(L, vu != nullptr ? static_cast<lua_Number>(vu->context.iteration_in_vu) : 0);
  } else if (std::strcmp(key, "scenario") == 0) {
    lua_pushstring(L, vu != nullptr ? vu->context.scenario.c_str() : "");
  } else {
    lua_pushnil(L);
  }
  return 1;
}

// ll.env misses (keys not given with -e) fall back to the running scenario's env, then the process environment.
int l_env_index(lua_State* L) {
  const char* key = lua_tostring(L, 2);
  VuState* vu = impl_of(L).current();
  if (key != nullptr && vu != nullptr && vu->context.config) {
    auto it = vu->context.config->env.find(key);
    if (it != vu->context.config->env.end()) {
      lua_pushlstring(L, it->second.data(), it->second.size());
      return 1;
    }
  }
  const char* value = key != nullptr ? std::getenv(key) : nullptr;
  if (value == nullptr) {
    lua_pushnil(L);
  } else {
    lua_pushstring(L, value);
  }
  return 1;
}

void push_env(lua_State* L, WorkerRuntime::Impl* impl, const RuntimeConfig& config) {
  lua_createtable(L, 0, static_cast<int>(config.env.size()));
  for (const auto& [key, value] : config.env) {
    lua_pushlstring(L, value.data(), value.size());
    lua_setfield(L, -2, key.c_str());
  }
  lua_createtable(L, 0, 1);
  lua_pushlightuserdata(L, impl);
  lua_pushcclosure(L, l_env_index, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

// core.executable: the absolute path of the running binary, so that scripts can start `luaload target --stdio`;
// nil if /proc/self/exe cannot be read.
void push_executable(lua_State* L) {
  std::error_code error;
  const std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error || path.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushstring(L, path.c_str());
  }
}

}  // namespace

void open_ll(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kFunctions[] = {
      {"sleep", l_ll_sleep},
      {"abort", l_ll_abort},
      {"record_check", l_ll_record_check},
      {"group_enter", l_ll_group_enter},
      {"group_leave", l_ll_group_leave},
      {"metric_define", l_ll_metric_define},
      {"metric_add", l_ll_metric_add},
      {"vu_field", l_ll_vu_field},
      {"now", l_ll_now},
      {nullptr, nullptr},
  };
  lua_pushlightuserdata(L, impl);
  luaL_setfuncs(L, kFunctions, 1);
  push_env(L, impl, impl->config());
  lua_setfield(L, -2, "env");
  push_executable(L);
  lua_setfield(L, -2, "executable");
}

}  // namespace luaload::bindings
