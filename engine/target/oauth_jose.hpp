// SPDX-License-Identifier: MIT
#pragma once

// Just enough JOSE for the target's authorization server: compact JWS (RFC 7515) verification with ES256 and
// RS256 public keys from a JWK Set (RFC 7517), and an ES256 signing key of its own (published at jwks_uri) for the
// JWTs it issues (ID tokens, ID-JAGs, JWT access tokens). Thread-safe: keys are immutable after construction.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace luaload::engine::target {

// A compact JWS split and decoded, not yet verified.
struct Jws {
  nlohmann::json header;
  nlohmann::json claims;
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::string signature;      // raw bytes
};
// nullopt when `token` is not three base64url parts with JSON objects for header and payload.
std::optional<Jws> parse_jws(std::string_view token);

// True when the JWS is signed (alg ES256 or RS256, as its header says) by one of the keys of `jwks`
// ({"keys":[...]}); when the header names a kid, only keys with that kid are tried.
bool verify_jws(const Jws& jws, const nlohmann::json& jwks);

// An ES256 (ECDSA P-256) key pair generated at startup.
class SigningKey {
 public:
  SigningKey();
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  // A compact JWS of `claims` with header {"alg":"ES256","kid":...,"typ":typ} (typ omitted when empty).
  std::string sign(const nlohmann::json& claims, std::string_view typ = "JWT") const;
  const std::string& kid() const { return kid_; }
  // {"keys":[<public JWK>]}
  const nlohmann::json& jwks() const { return jwks_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string kid_;
  nlohmann::json jwks_;
};

}  // namespace luaload::engine::target
