// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bindings/worker_runtime.hpp"
#include "engine/process/process.hpp"

namespace luaload::bindings {

class ProcessRegistry;

// One child process as the Lua side sees it (luaload.process.spawn, bindings/process.cpp). Shared by the script's
// luaload.Process object (which may be collected first) and the registry (which keeps it until it is closed).
//
// States: running (Lua callbacks on) -> closing (close() called, by the script, its __gc, its owner's end or the
//         runtime's close: no more Lua callbacks) -> closed (the engine Process reaped its child, closed its handles
//         and was destroyed; every close() waiter ran).
struct ProcessHandle {
  WorkerRuntime::Impl* impl = nullptr;
  ProcessRegistry* registry = nullptr;
  uint64_t owner = 0;  // the VU's key, or 0 for the worker
  std::string command;
  std::unique_ptr<engine::process::Process> process;
  bool closing = false;
  bool closed = false;
  std::vector<std::function<void()>> on_closed;
};

// Starts stopping `handle` (idempotent); `done`, if given, runs once it is closed (on a later loop turn).
void close_process(const std::shared_ptr<ProcessHandle>& handle, std::function<void()> done);

// The stdio server processes of one worker runtime, by owner: a VU (by key) or the worker itself (owner 0). A VU's
// processes are stopped when the VU retires, the worker's (and any left) when the runtime closes; a process closed
// earlier (p:close(), garbage) leaves on its own.
//
// Threading: the worker's loop thread only. Owned by WorkerRuntime::Impl, destroyed after every process is closed.
class ProcessRegistry {
 public:
  explicit ProcessRegistry(WorkerRuntime::Impl& impl) : impl_(impl) {}
  ProcessRegistry(const ProcessRegistry&) = delete;
  ProcessRegistry& operator=(const ProcessRegistry&) = delete;

  void add(const std::shared_ptr<ProcessHandle>& handle);
  void remove(const ProcessHandle& handle);
  size_t count(uint64_t owner) const;

  // Stops the owner's processes. false when it has none; else `done` runs once, when all of them are closed.
  bool close_owner(uint64_t owner, std::function<void()> done);
  // Stops every process; from now on no process calls into Lua. `done` runs once all are closed, always on a later
  // loop turn.
  void close_all(std::function<void()> done);
  bool closing() const { return closing_; }

 private:
  void close_list(std::vector<std::shared_ptr<ProcessHandle>> list, std::function<void()> done);

  WorkerRuntime::Impl& impl_;
  std::unordered_map<uint64_t, std::vector<std::shared_ptr<ProcessHandle>>> by_owner_;
  bool closing_ = false;
};

}  // namespace luaload::bindings
