// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace luaload::engine::target::mcp {

// A change the server announces to listeners: a list changed, or one resource was updated.
struct ChangeEvent {
  enum class Kind { ToolsListChanged, PromptsListChanged, ResourcesListChanged, ResourceUpdated };
  Kind kind;
  std::string uri;  // ResourceUpdated only
  uint64_t seq = 0;
};

// The change feed of one MCP server, shared by every thread and transport. publish() appends; listeners poll
// with since(), passing the last sequence number they saw, so a listener only ever receives changes published
// after it started (it begins at latest()). The feed keeps the last kCapacity events: a listener that falls
// further behind misses the oldest ones.
//
// Threading: any thread. latest() is a lock-free load, so an idle poll costs one atomic read.
class ChangeFeed {
 public:
  static constexpr size_t kCapacity = 1024;

  void publish(ChangeEvent::Kind kind, std::string uri = {});
  uint64_t latest() const { return latest_.load(std::memory_order_acquire); }
  // Appends events with seq > after to *out (oldest first) and returns the newest seq seen (after, if none).
  uint64_t since(uint64_t after, std::vector<ChangeEvent>* out) const;

 private:
  mutable std::mutex mutex_;
  std::deque<ChangeEvent> events_;
  std::atomic<uint64_t> latest_{0};
};

}  // namespace luaload::engine::target::mcp
