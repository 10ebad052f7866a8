// SPDX-License-Identifier: MIT
#include "engine/target/mcp_sessions.hpp"

#include "engine/target/http_util.hpp"

namespace luaload::engine::target {

std::string McpSessions::create(const std::string& protocol_version) {
  std::string id = random_token(16);
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= kMaxSessions) sessions_.erase(sessions_.begin());
  sessions_[id] = protocol_version;
  return id;
}

std::optional<std::string> McpSessions::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

bool McpSessions::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  return sessions_.erase(id) > 0;
}

}  // namespace luaload::engine::target
