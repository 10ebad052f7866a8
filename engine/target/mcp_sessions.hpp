// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace luaload::engine::target {

// MCP sessions of one target server (streamable HTTP transport): id -> negotiated protocol version. Shared by all
// server threads behind one mutex. At most kMaxSessions live at once; create() beyond that evicts an arbitrary
// session, so a load test that never sends DELETE cannot grow the table without bound.
class McpSessions {
 public:
  static constexpr size_t kMaxSessions = 100'000;

  // A new session id (visible ASCII, as the spec requires for Mcp-Session-Id).
  std::string create(const std::string& protocol_version);
  // The session's protocol version, nullopt when the id is unknown or was deleted.
  std::optional<std::string> find(const std::string& id);
  // False when the id was unknown.
  bool remove(const std::string& id);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::string> sessions_;
};

}  // namespace luaload::engine::target
