// SPDX-License-Identifier: MIT
// luaload.crypto's JWS functions (the C++ behind them is crypto_keys.cpp): sign, verify, generate_key, public_key,
// public_jwk, jwk_thumbprint. Bad keys, unknown algorithms and malformed JWKs are script misuse: Lua errors naming
// the function. No function yields; generate_key("RS256") takes tens of milliseconds of the worker's thread.
#include <cmath>
#include <cstring>
#include <string>

#include "bindings/crypto.hpp"

namespace luaload::bindings {

namespace {

constexpr int kDefaultRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

std::string_view check_bytes(lua_State* L, int index) {
  size_t length = 0;
  const char* data = luaL_checklstring(L, index, &length);
  return {data, length};
}

codec::SignAlgorithm check_algorithm(lua_State* L, int arg, const char* api) {
  const char* name = luaL_checkstring(L, arg);
  auto alg = codec::sign_algorithm(name);
  if (!alg) luaL_error(L, "%s: unsupported algorithm \"%s\" (ES256, RS256 or PS256)", api, name);
  return alg.value_or(codec::SignAlgorithm::ES256);
}

void push_string(lua_State* L, const std::string& text) { lua_pushlstring(L, text.data(), text.size()); }

// crypto.sign(alg, private_key_pem, data [, out = "raw"]) -> the JWS signature
int l_crypto_sign(lua_State* L) {
  const auto alg = check_algorithm(L, 1, "crypto.sign");
  const std::string_view pem = check_bytes(L, 2);
  const std::string_view data = check_bytes(L, 3);
  std::string signature, error;
  if (!codec::sign(alg, pem, data, &signature, &error)) return luaL_error(L, "crypto.sign: %s", error.c_str());
  return push_encoded(L, "crypto.sign", signature, 4, "raw");
}

// crypto.verify(alg, public_key_pem, data, signature) -> boolean
int l_crypto_verify(lua_State* L) {
  const auto alg = check_algorithm(L, 1, "crypto.verify");
  const std::string_view pem = check_bytes(L, 2);
  const std::string_view data = check_bytes(L, 3);
  const std::string_view signature = check_bytes(L, 4);
  bool valid = false;
  std::string error;
  if (!codec::verify(alg, pem, data, signature, &valid, &error)) {
    return luaL_error(L, "crypto.verify: %s", error.c_str());
  }
  lua_pushboolean(L, valid);
  return 1;
}

// crypto.generate_key(alg [, rsa_bits = 2048]) -> private key PEM (PKCS#8)
int l_crypto_generate_key(lua_State* L) {
  const auto alg = check_algorithm(L, 1, "crypto.generate_key");
  int bits = kDefaultRsaBits;
  if (!lua_isnoneornil(L, 2)) {
    const lua_Number n = luaL_checknumber(L, 2);
    if (alg == codec::SignAlgorithm::ES256 || !(n >= 2048 && n <= kMaxRsaBits && n == std::floor(n))) {
      return luaL_error(L, "crypto.generate_key: a key size is for RS256/PS256 only: a whole number of bits from 2048 "
                        "to %d", kMaxRsaBits);
    }
    bits = static_cast<int>(n);
  }
  std::string pem, error;
  if (!codec::generate_key(alg, bits, &pem, &error)) return luaL_error(L, "crypto.generate_key: %s", error.c_str());
  push_string(L, pem);
  return 1;
}

// crypto.public_key(pem) -> public key PEM
int l_crypto_public_key(lua_State* L) {
  std::string pem, error;
  if (!codec::public_key_pem(check_bytes(L, 1), &pem, &error)) {
    return luaL_error(L, "crypto.public_key: %s", error.c_str());
  }
  push_string(L, pem);
  return 1;
}

// crypto.public_jwk(pem) -> { kty = "EC", crv = "P-256", x =, y = } or { kty = "RSA", n =, e = }
int l_crypto_public_jwk(lua_State* L) {
  codec::JwkMembers members;
  std::string error;
  if (!codec::public_jwk(check_bytes(L, 1), &members, &error)) {
    return luaL_error(L, "crypto.public_jwk: %s", error.c_str());
  }
  lua_createtable(L, 0, static_cast<int>(members.size()));
  for (const auto& [name, value] : members) {
    push_string(L, value);
    lua_setfield(L, -2, name.c_str());
  }
  return 1;
}

// The members RFC 7638 §3.2 requires for each key type (RFC 7518 §6, RFC 8037 for OKP), sorted.
const char* const* required_members(const char* kty) {
  static const char* const kEc[] = {"crv", "x", "y", nullptr};
  static const char* const kRsa[] = {"e", "n", nullptr};
  static const char* const kOct[] = {"k", nullptr};
  static const char* const kOkp[] = {"crv", "x", nullptr};
  if (std::strcmp(kty, "EC") == 0) return kEc;
  if (std::strcmp(kty, "RSA") == 0) return kRsa;
  if (std::strcmp(kty, "oct") == 0) return kOct;
  if (std::strcmp(kty, "OKP") == 0) return kOkp;
  return nullptr;
}

// crypto.jwk_thumbprint(jwk) -> base64url SHA-256 thumbprint (RFC 7638); other members of the table are ignored
int l_crypto_jwk_thumbprint(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "kty");
  const char* kty = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  const char* const* names = required_members(kty);
  if (names == nullptr) {
    return luaL_error(L, "crypto.jwk_thumbprint: the JWK's kty must be \"EC\", \"RSA\", \"oct\" or \"OKP\" (got \"%s\")",
                      kty);
  }
  codec::JwkMembers members{{"kty", kty}};
  for (; *names != nullptr; ++names) {
    lua_getfield(L, 1, *names);
    if (lua_type(L, -1) != LUA_TSTRING) {
      return luaL_error(L, "crypto.jwk_thumbprint: a JWK of kty \"%s\" needs the string member \"%s\"", kty, *names);
    }
    size_t length = 0;
    const char* value = lua_tolstring(L, -1, &length);
    members.emplace_back(*names, std::string(value, length));
    lua_pop(L, 1);
  }
  push_string(L, codec::jwk_thumbprint(std::move(members)));
  return 1;
}

}  // namespace

void add_signing_functions(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"sign", l_crypto_sign},
      {"verify", l_crypto_verify},
      {"generate_key", l_crypto_generate_key},
      {"public_key", l_crypto_public_key},
      {"public_jwk", l_crypto_public_jwk},
      {"jwk_thumbprint", l_crypto_jwk_thumbprint},
      {nullptr, nullptr},
  };
  luaL_register(L, nullptr, kFunctions);
}

}  // namespace luaload::bindings
