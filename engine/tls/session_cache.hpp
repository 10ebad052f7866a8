// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

typedef struct ssl_session_st SSL_SESSION;

namespace luaload::engine::tls {

// Least-recently-used map from a connection key ("host:port") to the last TLS session the server gave us for it.
// Bounded: storing into a full cache evicts the least recently used key. Each entry owns one SSL_SESSION
// reference, released on replacement, eviction, forget() or destruction.
//
// Threading: one owner thread (the worker's loop thread, through ClientContext).
class SessionCache {
 public:
  explicit SessionCache(size_t capacity);
  ~SessionCache();
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  // Borrowed pointer (valid until the next store/forget for the key), nullptr when none. Marks the key as used.
  SSL_SESSION* find(const std::string& key);
  // Takes over the caller's reference to `session`, replacing any previous session for the key.
  void store(const std::string& key, SSL_SESSION* session);
  void forget(const std::string& key);

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<std::string, SSL_SESSION*>;
  size_t capacity_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace luaload::engine::tls
