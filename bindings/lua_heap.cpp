// SPDX-License-Identifier: MIT
#include "bindings/lua_heap.hpp"

#include <algorithm>
#include <cstdlib>

namespace luaload::bindings {

size_t LuaHeap::headroom() const { return std::max<size_t>(limit_ / 8, 8u << 20); }

void* LuaHeap::allocate(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto& heap = *static_cast<LuaHeap*>(ud);
  if (ptr == nullptr) old_size = 0;  // a new block: old_size carries no size then
  if (new_size == 0) {
    std::free(ptr);
    heap.used_ -= old_size;
    return nullptr;
  }
  if (heap.limit_ != 0 && heap.enforcing_ && new_size > old_size) {
    const size_t cap = heap.hit_ ? heap.limit_ + heap.headroom() : heap.limit_;
    if (heap.used_ - old_size + new_size > cap) {
      heap.hit_ = true;
      return nullptr;  // LuaJIT raises "not enough memory" in the running code
    }
  }
  void* block = std::realloc(ptr, new_size);
  if (block != nullptr) heap.used_ = heap.used_ - old_size + new_size;
  return block;
}

void LuaHeap::recover() {
  if (used_ < limit_) hit_ = false;
}

std::string LuaHeap::limit_message(int worker_index) const {
  return "Lua memory limit of " + std::to_string(limit_ >> 20) + " MB reached in worker " +
         std::to_string(worker_index) + " (--max-lua-memory)";
}

}  // namespace luaload::bindings
