// SPDX-License-Identifier: MIT
#include "engine/target/mcp_sessions.hpp"

#include "engine/target/http_util.hpp"

namespace luaload::engine::target {
namespace {

// Keeps a per-session map bounded: drops an arbitrary entry once it is full (answers nobody waits for, streams
// nobody resumes).
template <typename Map>
void make_room(Map& map) {
  if (map.size() >= McpSessions::kMaxPending) map.erase(map.begin());
}

}  // namespace

McpSessions::Session* McpSessions::find_locked(const std::string& id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::string McpSessions::create(const mcp::Context& ctx) {
  std::string id = random_token(16);
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= kMaxSessions) sessions_.erase(sessions_.begin());
  Session& session = sessions_[id];
  session.ctx = ctx;
  if (session.ctx.log_level.empty()) session.ctx.log_level = kDefaultLogLevel;
  return id;
}

std::optional<mcp::Context> McpSessions::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  Session* session = find_locked(id);
  if (session == nullptr) return std::nullopt;
  return session->ctx;
}

bool McpSessions::contains(const std::string& id) {
  std::lock_guard lock(mutex_);
  return sessions_.count(id) > 0;
}

bool McpSessions::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  return sessions_.erase(id) > 0;
}

void McpSessions::apply(const std::string& id, const mcp::Reply& reply) {
  if (!reply.set_log_level && reply.subscription_changes.empty()) return;
  std::lock_guard lock(mutex_);
  Session* session = find_locked(id);
  if (session == nullptr) return;
  if (reply.set_log_level) session->ctx.log_level = *reply.set_log_level;
  for (const auto& [uri, on] : reply.subscription_changes) {
    if (on) {
      if (session->subscriptions.size() < kMaxPending) session->subscriptions.insert(uri);
    } else {
      session->subscriptions.erase(uri);
    }
  }
}

bool McpSessions::subscribed(const std::string& id, const std::string& uri) {
  std::lock_guard lock(mutex_);
  Session* session = find_locked(id);
  return session != nullptr && session->subscriptions.count(uri) > 0;
}

bool McpSessions::put_answer(const std::string& id, const std::string& request_id, nlohmann::json message) {
  std::lock_guard lock(mutex_);
  Session* session = find_locked(id);
  if (session == nullptr) return false;
  make_room(session->answers);
  session->answers[request_id] = std::move(message);
  return true;
}

std::optional<nlohmann::json> McpSessions::take_answer(const std::string& id, const std::string& request_id) {
  std::lock_guard lock(mutex_);
  Session* session = find_locked(id);
  if (session == nullptr) return std::nullopt;
  auto it = session->answers.find(request_id);
  if (it == session->answers.end()) return std::nullopt;
  nlohmann::json answer = std::move(it->second);
  session->answers.erase(it);
  return answer;
}

std::string McpSessions::new_stream_id() {
  std::lock_guard lock(mutex_);
  return "s" + std::to_string(++streams_) + random_token(4);
}

bool McpSessions::park(const std::string& id, const std::string& stream_id, ParkedStream stream) {
  std::lock_guard lock(mutex_);
  Session* session = find_locked(id);
  if (session == nullptr) return false;
  make_room(session->parked);
  session->parked[stream_id] = std::move(stream);
  return true;
}

std::optional<ParkedStream> McpSessions::take_parked(const std::string& id, const std::string& stream_id) {
  std::lock_guard lock(mutex_);
  Session* session = find_locked(id);
  if (session == nullptr) return std::nullopt;
  auto it = session->parked.find(stream_id);
  if (it == session->parked.end()) return std::nullopt;
  ParkedStream stream = std::move(it->second);
  session->parked.erase(it);
  return stream;
}

}  // namespace luaload::engine::target
