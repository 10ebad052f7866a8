// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <functional>
#include <vector>

namespace luaload::engine::net {

// Runs tasks on a later turn of one loop, in post order. It is how an operation that already knows its result
// (a cache hit, an invalid argument) still completes "never from inside the call that started it".
//
// One uv_idle_t, active only while tasks are queued, so an empty queue neither spins the loop nor keeps it alive.
// A task posted while the queue drains runs on the next turn, never in the same drain.
//
// Threading: loop thread only. Lifecycle: construct -> post()* -> close(on_closed) -> destroy after on_closed.
// Tasks still queued at close() run before the handle closes (the completions they carry must run exactly once).
class DeferredQueue {
 public:
  using Task = std::function<void()>;

  explicit DeferredQueue(uv_loop_t* loop);
  DeferredQueue(const DeferredQueue&) = delete;
  DeferredQueue& operator=(const DeferredQueue&) = delete;
  ~DeferredQueue();

  void post(Task task);
  void close(std::function<void()> on_closed);
  bool closed() const { return closing_; }

 private:
  static void on_idle_cb(uv_idle_t* handle);
  static void on_close_cb(uv_handle_t* handle);
  void drain();

  uv_idle_t idle_{};
  std::vector<Task> queue_;
  std::vector<Task> running_;  // reused between drains to avoid reallocating
  bool closing_ = false;
  std::function<void()> on_closed_;
};

}  // namespace luaload::engine::net
