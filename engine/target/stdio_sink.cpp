// SPDX-License-Identifier: MIT
#include <utility>

#include "engine/target/mcp_protocol.hpp"
#include "engine/target/stdio_state.hpp"

namespace luaload::engine::target {

namespace {

void on_timer_closed_cb(uv_handle_t* handle) { delete reinterpret_cast<StdioTimer*>(handle); }

void on_timer_cb(uv_timer_t* handle) {
  auto* timer = reinterpret_cast<StdioTimer*>(handle);
  StdioState* state = timer->state;
  std::function<void()> fn = std::move(timer->fn);
  state->cancel(timer);
  if (fn && !state->ended) fn();
}

}  // namespace

// Timers -------------------------------------------------------------------------------------------------------------

StdioTimer* StdioState::after(uint64_t delay_ms, std::function<void()> fn) {
  auto* timer = new StdioTimer;
  timer->fn = std::move(fn);
  timer->state = this;
  uv_timer_init(loop, &timer->handle);
  uv_timer_start(&timer->handle, on_timer_cb, delay_ms, 0);
  timers.insert(timer);
  return timer;
}

void StdioState::cancel(StdioTimer* timer) {
  if (timers.erase(timer) == 0) return;
  timer->fn = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer->handle), on_timer_closed_cb);
}

// The client is gone: every exchange stops, every timer is dropped with the callbacks (and exchanges) it holds.
void StdioState::cancel_all() {
  auto in_flight = std::move(exchanges);
  exchanges.clear();
  for (auto& [id, sink] : in_flight) sink->cancel();
  awaiting.clear();
  auto pending = timers;
  for (StdioTimer* timer : pending) cancel(timer);
  change_poll = nullptr;
}

// The sink ---------------------------------------------------------------------------------------------------------

void StdioSink::send(const nlohmann::json& message) {
  if (!over_) state_->write(message);
}

void StdioSink::respond(const nlohmann::json& response, int) {
  if (over_) return;
  state_->write(response);
  done();
}

void StdioSink::finish() { done(); }

void StdioSink::after(uint64_t delay_ms, std::function<void()> fn) {
  if (over_) return;
  if (pending_ != nullptr) state_->cancel(pending_);
  // The timer holds the run (through fn), and the run holds this sink: `this` lives while the timer does.
  pending_ = state_->after(delay_ms, [this, fn = std::move(fn)] {
    pending_ = nullptr;
    if (!over_) fn();
  });
}

nlohmann::json StdioSink::next_request_id() { return "srv-" + std::to_string(++state_->next_server_request); }

void StdioSink::await_answer(const nlohmann::json& id, std::function<void(const nlohmann::json&)> fn) {
  if (over_ || !id.is_string()) return;
  awaited_ = id.get<std::string>();
  state_->awaiting[awaited_] = std::move(fn);
}

void StdioSink::cancel() {
  if (over_) return;
  over_ = true;
  if (pending_ != nullptr) state_->cancel(pending_);
  pending_ = nullptr;
  if (!awaited_.empty()) state_->awaiting.erase(awaited_);
}

void StdioSink::done() {
  if (over_) return;
  cancel();
  auto it = state_->exchanges.find(mcp::dump(id_));
  if (it != state_->exchanges.end() && it->second.get() == this) state_->exchanges.erase(it);  // may free *this
}

}  // namespace luaload::engine::target
