// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace luaload::engine::target {

// Who a token or code was issued to.
struct TokenInfo {
  std::string client_id;
  std::string subject;  // user name; the client id for client_credentials
  std::string scope;
  int64_t expires_at_ms = 0;  // monotonic milliseconds
  std::string resource;       // the audience (RFC 8707 resource indicator); empty: no particular resource
};

// A pending authorization code (RFC 6749 §4.1, PKCE RFC 7636).
struct AuthCode {
  TokenInfo info;
  std::string redirect_uri;
  std::string code_challenge;
  std::string code_challenge_method;  // "S256" or "plain"
};

struct IssuedTokens {
  std::string access_token;
  std::string refresh_token;  // empty when none was issued
  int64_t expires_in_s = 0;
};

// The opaque tokens of one target server: random hex strings mapped to what they grant, with expiry. Shared by all
// server threads (every method locks one mutex: token traffic is not the hot path). Expired entries are swept every
// kSweepEvery insertions so a long run with short lifetimes stays bounded.
class OAuthStore {
 public:
  static constexpr int64_t kCodeTtlMs = 60'000;
  static constexpr int kSweepEvery = 1024;

  OAuthStore(int64_t access_ttl_ms, int64_t refresh_ttl_ms);

  // Issues an access token (and a refresh token when asked) for `info` (its expires_at_ms is ignored). A given
  // `access_token` (a signed JWT) is stored instead of a random one, living `access_ttl_ms` (its exp) instead of the
  // configured lifetime; expires_in stays the configured lifetime, as servers that write exp in whole seconds do.
  IssuedTokens issue(const TokenInfo& info, bool with_refresh, std::string access_token = {},
                     int64_t access_ttl_ms = -1);
  // The grant behind a valid access token, nullopt when unknown or expired.
  std::optional<TokenInfo> check_access(const std::string& token);
  // Consumes a refresh token: valid once, for the client it was issued to (rotation: the caller issues a new one).
  std::optional<TokenInfo> take_refresh(const std::string& token, const std::string& client_id);
  // The grant behind a refresh token, without consuming it (to check a request before redeeming).
  std::optional<TokenInfo> find_refresh(const std::string& token);
  std::string issue_code(AuthCode code);
  // Consumes an authorization code (single use), nullopt when unknown or expired.
  std::optional<AuthCode> take_code(const std::string& code);
  // Replay protection for JWT assertions: true the first time `jti` is presented (remembered until expires_at_ms,
  // monotonic), false after.
  bool first_use(const std::string& jti, int64_t expires_at_ms);

 private:
  void note_insert_locked(int64_t now_ms);

  const int64_t access_ttl_ms_;
  const int64_t refresh_ttl_ms_;
  std::mutex mutex_;
  std::unordered_map<std::string, TokenInfo> access_;
  std::unordered_map<std::string, TokenInfo> refresh_;
  std::unordered_map<std::string, AuthCode> codes_;
  std::unordered_map<std::string, int64_t> used_jti_;
  int inserts_since_sweep_ = 0;
};

}  // namespace luaload::engine::target
