// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "engine/target/mcp_methods.hpp"

namespace luaload::engine::target {

// A POST stream the server closed early (Step::Suspend), waiting for the client to resume it with GET +
// Last-Event-ID: the rest of its reply and the number of its next event.
struct ParkedStream {
  mcp::Reply rest;
  uint64_t next_event = 1;
};

// The legacy (2025) MCP sessions of one target server (streamable HTTP): per session, the context initialize
// negotiated, the log level, resource subscriptions, the client's answers to server requests and parked streams.
// Shared by all server threads behind one mutex. At most kMaxSessions live at once; create() beyond that evicts
// an arbitrary session, so a load test that never sends DELETE cannot grow the table without bound. Answers and
// parked streams are bounded per session (kMaxPending each; the oldest goes).
class McpSessions {
 public:
  static constexpr size_t kMaxSessions = 100'000;
  static constexpr size_t kMaxPending = 64;
  // Legacy sessions receive notifications/message at this level and above until logging/setLevel.
  static constexpr const char* kDefaultLogLevel = "info";

  // A new session id (visible ASCII, as the spec requires for Mcp-Session-Id) for `ctx` (from mcp::initialize).
  std::string create(const mcp::Context& ctx);
  // The session's context (era, version, capabilities, log level), nullopt when unknown or deleted.
  std::optional<mcp::Context> find(const std::string& id);
  bool contains(const std::string& id);
  // False when the id was unknown.
  bool remove(const std::string& id);

  // Applies a reply's session effects (logging/setLevel, resources/(un)subscribe).
  void apply(const std::string& id, const mcp::Reply& reply);
  bool subscribed(const std::string& id, const std::string& uri);

  // The client's response to server request `request_id` (a JSON-RPC response message). False: unknown session.
  bool put_answer(const std::string& id, const std::string& request_id, nlohmann::json message);
  std::optional<nlohmann::json> take_answer(const std::string& id, const std::string& request_id);

  // A fresh stream id for a POST or GET stream of the session (event ids are "<stream>-<n>").
  std::string new_stream_id();
  bool park(const std::string& id, const std::string& stream_id, ParkedStream stream);
  std::optional<ParkedStream> take_parked(const std::string& id, const std::string& stream_id);

 private:
  struct Session {
    mcp::Context ctx;
    std::set<std::string> subscriptions;
    std::unordered_map<std::string, nlohmann::json> answers;
    std::unordered_map<std::string, ParkedStream> parked;
  };
  Session* find_locked(const std::string& id);

  std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;
  uint64_t streams_ = 0;
};

}  // namespace luaload::engine::target
