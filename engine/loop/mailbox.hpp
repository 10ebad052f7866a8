// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <mutex>

namespace luaload::engine::loop {

// A task queue drained on one loop: any thread may post(), the tasks run on the loop's thread in post order.
// It is the only way data crosses threads in luaload; tasks must capture copied values, never references into
// another thread's state. uv_async_send coalesces, so one wake-up drains everything queued by then.
//
// Lifecycle: construct on the thread that owns `loop` (or before that loop starts running), post() from anywhere
// until close(); close() runs on the loop thread, and tasks posted after it are dropped. The object must outlive
// the close callback, i.e. until `on_closed` has run.
class Mailbox {
 public:
  explicit Mailbox(uv_loop_t* loop);
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;
  ~Mailbox();

  // Any thread. Returns false when the mailbox is closed (the task is dropped).
  bool post(std::function<void()> task);

  // Loop thread. Runs the tasks already queued, then closes the async handle; on_closed runs from its close callback.
  void close(std::function<void()> on_closed = nullptr);

 private:
  static void on_async_cb(uv_async_t* handle);
  static void on_close_cb(uv_handle_t* handle);
  void drain();

  uv_async_t async_{};
  std::mutex mutex_;
  std::deque<std::function<void()>> queue_;
  bool closed_ = false;
  bool handle_closed_ = false;
  std::function<void()> on_closed_;
};

}  // namespace luaload::engine::loop
