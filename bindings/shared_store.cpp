// SPDX-License-Identifier: MIT
// SharedStore and the ll.shared.get/set functions over it (lua/luaload.lua wires them as ll.shared).
#include "bindings/shared_store.hpp"

#include "bindings/runtime.hpp"

namespace luaload::bindings {

std::optional<std::string> SharedStore::get(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

bool SharedStore::set(std::string_view key, std::optional<std::string_view> value) {
  std::lock_guard lock(mutex_);
  auto it = values_.find(std::string(key));
  const size_t old_bytes = it == values_.end() ? 0 : key.size() + it->second.size();
  if (!value) {
    if (it != values_.end()) values_.erase(it);
    bytes_ -= old_bytes;
    return true;
  }
  const size_t new_bytes = key.size() + value->size();
  const bool new_key = it == values_.end();
  if ((new_key && values_.size() >= kMaxKeys) || bytes_ - old_bytes + new_bytes > kMaxBytes) return false;
  if (new_key) {
    values_.emplace(std::string(key), std::string(*value));
  } else {
    it->second.assign(value->data(), value->size());
  }
  bytes_ = bytes_ - old_bytes + new_bytes;
  return true;
}

size_t SharedStore::size() const {
  std::lock_guard lock(mutex_);
  return values_.size();
}

size_t SharedStore::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

namespace {

std::string_view check_key(lua_State* L, const char* api) {
  size_t length = 0;
  const char* key = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &length) : nullptr;
  if (key == nullptr) luaL_error(L, "%s: the key must be a string, got %s", api, luaL_typename(L, 1));
  if (length > SharedStore::kMaxKeyBytes) {
    luaL_error(L, "%s: the key is %d bytes long, more than the %d a key may have", api, static_cast<int>(length),
               static_cast<int>(SharedStore::kMaxKeyBytes));
  }
  return {key, length};
}

// ll.shared.get(key) -> the string, or nil
int l_shared_get(lua_State* L) {
  const std::string_view key = check_key(L, "ll.shared.get");
  const auto value = impl_of(L).config().shared->get(key);
  if (value) {
    lua_pushlstring(L, value->data(), value->size());
  } else {
    lua_pushnil(L);
  }
  return 1;
}

// ll.shared.set(key, value): a string stores it, nil removes the key.
int l_shared_set(lua_State* L) {
  const std::string_view key = check_key(L, "ll.shared.set");
  std::optional<std::string_view> value;
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t length = 0;
    const char* data = lua_tolstring(L, 2, &length);
    value = std::string_view(data, length);
  } else if (!lua_isnoneornil(L, 2)) {
    return luaL_error(L, "ll.shared.set: the value must be a string (or nil to remove the key), got %s",
                      luaL_typename(L, 2));
  }
  if (!impl_of(L).config().shared->set(key, value)) {
    return luaL_error(L, "ll.shared.set: the shared store is full (at most %d keys and %d MiB of keys and values); "
                      "\"%s\" was not stored", static_cast<int>(SharedStore::kMaxKeys),
                      static_cast<int>(SharedStore::kMaxBytes >> 20), lua_tostring(L, 1));
  }
  return 0;
}

}  // namespace

void open_shared(lua_State* L, WorkerRuntime::Impl* impl) {
  static const luaL_Reg kFunctions[] = {
      {"shared_get", l_shared_get},
      {"shared_set", l_shared_set},
      {nullptr, nullptr},
  };
  lua_pushlightuserdata(L, impl);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace luaload::bindings
