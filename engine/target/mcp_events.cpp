// SPDX-License-Identifier: MIT
#include "engine/target/mcp_events.hpp"

namespace luaload::engine::target::mcp {

void ChangeFeed::publish(ChangeEvent::Kind kind, std::string uri) {
  std::lock_guard lock(mutex_);
  uint64_t seq = latest_.load(std::memory_order_relaxed) + 1;
  events_.push_back({kind, std::move(uri), seq});
  if (events_.size() > kCapacity) events_.pop_front();
  latest_.store(seq, std::memory_order_release);
}

uint64_t ChangeFeed::since(uint64_t after, std::vector<ChangeEvent>* out) const {
  if (latest() <= after) return after;
  std::lock_guard lock(mutex_);
  uint64_t newest = after;
  for (const ChangeEvent& event : events_) {
    if (event.seq <= after) continue;
    out->push_back(event);
    newest = event.seq;
  }
  return newest;
}

}  // namespace luaload::engine::target::mcp
