// SPDX-License-Identifier: MIT
#include "engine/tls/session_cache.hpp"

#include <openssl/ssl.h>

#include "engine/core/assert.hpp"

namespace luaload::engine::tls {

SessionCache::SessionCache(size_t capacity) : capacity_(capacity) { LUALOAD_CHECK(capacity_ > 0, "empty session cache"); }

SessionCache::~SessionCache() {
  for (auto& entry : entries_) {
    SSL_SESSION_free(entry.second);
  }
}

SSL_SESSION* SessionCache::find(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->second;
}

void SessionCache::store(const std::string& key, SSL_SESSION* session) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    SSL_SESSION_free(it->second->second);
    it->second->second = session;
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (entries_.size() == capacity_) {
    Entry& oldest = entries_.back();
    SSL_SESSION_free(oldest.second);
    index_.erase(oldest.first);
    entries_.pop_back();
  }
  entries_.emplace_front(key, session);
  index_.emplace(key, entries_.begin());
}

void SessionCache::forget(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    return;
  }
  SSL_SESSION_free(it->second->second);
  entries_.erase(it->second);
  index_.erase(it);
}

}  // namespace luaload::engine::tls
