// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>

namespace luaload::bindings {

// The allocator of a worker's Lua state, with a limit on the bytes it holds (--max-lua-memory): a script that grows
// a table without end fails its iteration instead of taking the machine.
//
// The limit is enforced only inside an Enforce scope, which the runtime opens around protected Lua execution
// (resuming a VU, running init code): there a refused allocation is a Lua "not enough memory" error that unwinds to
// the iteration. Outside (the runtime's own C++ glue) an error would have no protected call to land in and LuaJIT
// would abort, so allocations always succeed there; they are small and bounded.
//
// Once the limit has been hit, allocations get kHeadroom more so that the error can be handled (a traceback, the
// end of the iteration); the runtime then collects the garbage and calls recover(), which re-arms the plain limit
// once the heap is below it again. Threading: the state's thread only.
class LuaHeap {
 public:
  explicit LuaHeap(size_t limit_bytes) : limit_(limit_bytes) {}
  LuaHeap(const LuaHeap&) = delete;
  LuaHeap& operator=(const LuaHeap&) = delete;

  // lua_Alloc; `ud` is the LuaHeap.
  static void* allocate(void* ud, void* ptr, size_t old_size, size_t new_size);

  size_t limit() const { return limit_; }  // 0: no limit
  size_t used() const { return used_; }
  // True from a refused allocation until recover() finds the heap below the limit.
  bool limit_hit() const { return hit_; }
  void recover();

  // "Lua memory limit of 64 MB reached in worker 0".
  std::string limit_message(int worker_index) const;

  class Enforce {
   public:
    explicit Enforce(LuaHeap& heap) : heap_(heap), previous_(heap.enforcing_) { heap_.enforcing_ = true; }
    ~Enforce() { heap_.enforcing_ = previous_; }
    Enforce(const Enforce&) = delete;
    Enforce& operator=(const Enforce&) = delete;

   private:
    LuaHeap& heap_;
    bool previous_;
  };

 private:
  size_t headroom() const;

  size_t limit_;
  size_t used_ = 0;
  bool hit_ = false;
  bool enforcing_ = false;
};

}  // namespace luaload::bindings
