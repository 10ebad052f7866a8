// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "engine/loop/mailbox.hpp"

namespace luaload::engine::loop {

// One thread running one libuv loop. Everything that lives on the loop (handles, connections, the Lua state in
// bindings/) is created and touched only from tasks posted here.
//
// Lifecycle:
//   constructed -> start() -> running -> request_stop() -> on_stop hook closes the owner's handles
//               -> loop runs dry -> uv_loop_close() == 0 checked -> thread ends -> join()
// The destructor requests a stop and joins if the owner did not.
class Worker {
 public:
  explicit Worker(std::string name);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  // Main thread. Starts the thread; `on_start` runs first on it. `on_stop` runs on it when a stop is requested and
  // must close every handle the owner opened on loop(), so that the loop can end.
  void start(std::function<void()> on_start, std::function<void()> on_stop);

  // Any thread. Runs `task` on the loop thread. Returns false once the worker is stopping.
  bool post(std::function<void()> task);

  // Any thread. Asks the loop to wind down (runs on_stop on the loop thread). Idempotent.
  void request_stop();

  // Main thread. Waits for the thread to end. Returns true when the loop closed cleanly (no handle left open).
  bool join();

  uv_loop_t* loop() { return &loop_; }
  const std::string& name() const { return name_; }
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_id_.load(); }

 private:
  void run();

  std::string name_;
  uv_loop_t loop_{};
  std::unique_ptr<Mailbox> mailbox_;
  std::function<void()> on_start_;
  std::function<void()> on_stop_;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
  std::atomic<bool> stop_requested_{false};
  bool started_ = false;
  bool closed_cleanly_ = false;
};

}  // namespace luaload::engine::loop
