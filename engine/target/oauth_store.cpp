// SPDX-License-Identifier: MIT
#include "engine/target/oauth_store.hpp"

#include "engine/core/clock.hpp"
#include "engine/target/http_util.hpp"

namespace luaload::engine::target {
namespace {

int64_t now_ms() { return core::mono_now_ns() / 1'000'000; }

template <typename Map>
void erase_expired(Map& map, int64_t now, auto expiry_of) {
  for (auto it = map.begin(); it != map.end();) {
    it = expiry_of(it->second) <= now ? map.erase(it) : std::next(it);
  }
}

}  // namespace

OAuthStore::OAuthStore(int64_t access_ttl_ms, int64_t refresh_ttl_ms)
    : access_ttl_ms_(access_ttl_ms), refresh_ttl_ms_(refresh_ttl_ms) {}

void OAuthStore::note_insert_locked(int64_t now) {
  if (++inserts_since_sweep_ < kSweepEvery) return;
  inserts_since_sweep_ = 0;
  erase_expired(access_, now, [](const TokenInfo& i) { return i.expires_at_ms; });
  erase_expired(refresh_, now, [](const TokenInfo& i) { return i.expires_at_ms; });
  erase_expired(codes_, now, [](const AuthCode& c) { return c.info.expires_at_ms; });
  erase_expired(used_jti_, now, [](int64_t expiry) { return expiry; });
}

IssuedTokens OAuthStore::issue(const TokenInfo& info, bool with_refresh, std::string access_token,
                               int64_t access_ttl_ms) {
  IssuedTokens out;
  out.access_token = access_token.empty() ? random_token(20) : std::move(access_token);
  int64_t lifetime_ms = access_ttl_ms >= 0 ? access_ttl_ms : access_ttl_ms_;
  if (with_refresh) out.refresh_token = random_token(20);
  out.expires_in_s = (access_ttl_ms_ + 999) / 1000;
  int64_t now = now_ms();
  std::lock_guard lock(mutex_);
  TokenInfo access = info;
  access.expires_at_ms = now + lifetime_ms;
  access_[out.access_token] = std::move(access);
  if (with_refresh) {
    TokenInfo refresh = info;
    refresh.expires_at_ms = now + refresh_ttl_ms_;
    refresh_[out.refresh_token] = std::move(refresh);
  }
  note_insert_locked(now);
  return out;
}

std::optional<TokenInfo> OAuthStore::check_access(const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = access_.find(token);
  if (it == access_.end()) return std::nullopt;
  if (it->second.expires_at_ms <= now_ms()) {
    access_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

std::optional<TokenInfo> OAuthStore::take_refresh(const std::string& token, const std::string& client_id) {
  std::lock_guard lock(mutex_);
  auto it = refresh_.find(token);
  if (it == refresh_.end()) return std::nullopt;
  // RFC 6749 §6: a refresh token is bound to its client. A wrong client does not burn it.
  if (it->second.client_id != client_id) return std::nullopt;
  TokenInfo info = std::move(it->second);
  refresh_.erase(it);
  if (info.expires_at_ms <= now_ms()) return std::nullopt;
  return info;
}

std::optional<TokenInfo> OAuthStore::find_refresh(const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = refresh_.find(token);
  if (it == refresh_.end()) return std::nullopt;
  return it->second;
}

std::string OAuthStore::issue_code(AuthCode code) {
  std::string id = random_token(16);
  int64_t now = now_ms();
  code.info.expires_at_ms = now + kCodeTtlMs;
  std::lock_guard lock(mutex_);
  codes_[id] = std::move(code);
  note_insert_locked(now);
  return id;
}

std::optional<AuthCode> OAuthStore::take_code(const std::string& code) {
  std::lock_guard lock(mutex_);
  auto it = codes_.find(code);
  if (it == codes_.end()) return std::nullopt;
  AuthCode out = std::move(it->second);
  codes_.erase(it);
  if (out.info.expires_at_ms <= now_ms()) return std::nullopt;
  return out;
}

bool OAuthStore::first_use(const std::string& jti, int64_t expires_at_ms) {
  int64_t now = now_ms();
  std::lock_guard lock(mutex_);
  auto [it, inserted] = used_jti_.emplace(jti, expires_at_ms);
  if (!inserted && it->second <= now) {
    it->second = expires_at_ms;
    inserted = true;
  }
  if (inserted) note_insert_locked(now);
  return inserted;
}

}  // namespace luaload::engine::target
