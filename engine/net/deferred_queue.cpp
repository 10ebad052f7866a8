// SPDX-License-Identifier: MIT
#include "engine/net/deferred_queue.hpp"

#include "engine/core/assert.hpp"

namespace luaload::engine::net {

DeferredQueue::DeferredQueue(uv_loop_t* loop) {
  uv_idle_init(loop, &idle_);
  idle_.data = this;
}

DeferredQueue::~DeferredQueue() {
  LUALOAD_CHECK(closing_ && !on_closed_, "DeferredQueue destroyed before its close callback");
}

void DeferredQueue::post(Task task) {
  LUALOAD_ASSERT(!closing_);
  if (queue_.empty()) uv_idle_start(&idle_, on_idle_cb);
  queue_.push_back(std::move(task));
}

void DeferredQueue::on_idle_cb(uv_idle_t* handle) { static_cast<DeferredQueue*>(handle->data)->drain(); }

void DeferredQueue::drain() {
  running_.swap(queue_);
  if (queue_.empty()) uv_idle_stop(&idle_);
  for (auto& task : running_) task();
  running_.clear();
  if (!queue_.empty()) uv_idle_start(&idle_, on_idle_cb);
}

void DeferredQueue::close(std::function<void()> on_closed) {
  LUALOAD_ASSERT(!closing_);
  // Queued tasks carry completions that must still run; they run now, on the loop, which is already a later turn
  // than the calls that queued them. Tasks they post in turn are run too.
  while (!queue_.empty()) drain();
  closing_ = true;
  on_closed_ = on_closed ? std::move(on_closed) : [] {};
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), on_close_cb);
}

void DeferredQueue::on_close_cb(uv_handle_t* handle) {
  auto* self = static_cast<DeferredQueue*>(handle->data);
  auto done = std::move(self->on_closed_);
  self->on_closed_ = nullptr;
  done();
}

}  // namespace luaload::engine::net
