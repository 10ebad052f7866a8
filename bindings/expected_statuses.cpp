// SPDX-License-Identifier: MIT
#include "bindings/expected_statuses.hpp"

#include <algorithm>

namespace luaload::bindings {

namespace {

int status_at(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TNUMBER) luaL_error(L, "expected_statuses: a range needs numeric min and max");
  return static_cast<int>(lua_tointeger(L, index));
}

}  // namespace

void ExpectedStatuses::add(int lo, int hi) {
  lo = std::max(lo, kLowest);
  hi = std::min(hi, kHighest);
  // Whole words at a time: a range such as 100-599 is a handful of ORs, not 500 bit operations.
  for (int status = lo; status <= hi;) {
    const int bit = status % 64;
    const int count = std::min(64 - bit, hi - status + 1);
    const uint64_t ones = count == 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1;
    bits_[static_cast<size_t>(status) / 64] |= ones << bit;
    status += count;
  }
}

void read_expected_statuses(lua_State* L, int index, std::optional<ExpectedStatuses>* out) {
  if (lua_isnoneornil(L, index)) {
    out->reset();
    return;
  }
  if (!lua_istable(L, index)) luaL_error(L, "expected_statuses must be a list");
  ExpectedStatuses statuses;
  const int count = static_cast<int>(lua_objlen(L, index));
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(L, index, i);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      const int status = static_cast<int>(lua_tointeger(L, -1));
      statuses.add(status, status);
    } else if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "min");
      lua_getfield(L, -2, "max");
      statuses.add(status_at(L, -2), status_at(L, -1));
      lua_pop(L, 2);
    } else {
      luaL_error(L, "expected_statuses: item %d is neither a status code nor a range", i);
    }
    lua_pop(L, 1);
  }
  *out = statuses;
}

}  // namespace luaload::bindings
