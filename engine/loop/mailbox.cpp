// SPDX-License-Identifier: MIT
#include "engine/loop/mailbox.hpp"

#include "engine/core/assert.hpp"

namespace luaload::engine::loop {

Mailbox::Mailbox(uv_loop_t* loop) {
  LUALOAD_CHECK(uv_async_init(loop, &async_, on_async_cb) == 0, "uv_async_init failed");
  async_.data = this;
}

Mailbox::~Mailbox() { LUALOAD_CHECK(handle_closed_, "Mailbox destroyed before its handle was closed"); }

bool Mailbox::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    queue_.push_back(std::move(task));
  }
  // Safe while not closed: close() flips closed_ under the same mutex before uv_close.
  uv_async_send(&async_);
  return true;
}

void Mailbox::close(std::function<void()> on_closed) {
  drain();
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  // Tasks posted between the drain above and closed_ still run: a reply to a request must not vanish.
  drain();
  on_closed_ = std::move(on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), on_close_cb);
}

void Mailbox::on_async_cb(uv_async_t* handle) { static_cast<Mailbox*>(handle->data)->drain(); }

void Mailbox::on_close_cb(uv_handle_t* handle) {
  auto* self = static_cast<Mailbox*>(handle->data);
  self->handle_closed_ = true;
  if (auto done = std::move(self->on_closed_)) done();
}

void Mailbox::drain() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
  }
  for (auto& task : batch) task();
}

}  // namespace luaload::engine::loop
