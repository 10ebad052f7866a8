// SPDX-License-Identifier: MIT
// The `luaload.crypto` module: sha256, hmac-sha256, random bytes and UUIDs on OpenSSL 3's EVP APIs; the JWS
// signing functions are in crypto_sign.cpp.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>
#include <string>

#include "bindings/crypto.hpp"

namespace luaload::bindings::codec {

std::string sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // EVP_Digest only fails on allocation failure; an empty result then makes the caller's comparison fail loudly.
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t length = 0;
  // EVP_Q_mac is OpenSSL 3's one-shot MAC; an empty key is valid HMAC input but needs a non-null pointer.
  static const unsigned char kEmpty = 0;
  const void* key_data = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_data, key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, sizeof digest,
                &length) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::optional<std::string> random_bytes(size_t count) {
  std::string out(count, '\0');
  if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> uuid_v4() {
  auto bytes = random_bytes(16);
  if (!bytes) return std::nullopt;
  std::string& b = *bytes;
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // variant 10xx (RFC 9562)
  const std::string hex = hex_encode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace luaload::bindings::codec

namespace luaload::bindings {

namespace {

// The most random bytes one call may ask for: a typo (random_bytes(1e9)) must not allocate gigabytes.
constexpr lua_Number kMaxRandomBytes = 1 << 20;

std::string_view check_bytes(lua_State* L, int index) {
  size_t length = 0;
  const char* data = luaL_checklstring(L, index, &length);
  return {data, length};
}

// crypto.sha256(data [, encoding = "hex"])
int l_crypto_sha256(lua_State* L) { return push_encoded(L, "crypto.sha256", codec::sha256(check_bytes(L, 1)), 2, "hex"); }

// crypto.hmac_sha256(key, data [, encoding = "hex"])
int l_crypto_hmac_sha256(lua_State* L) {
  const std::string_view key = check_bytes(L, 1);
  const std::string_view data = check_bytes(L, 2);
  return push_encoded(L, "crypto.hmac_sha256", codec::hmac_sha256(key, data), 3, "hex");
}

// crypto.random_bytes(n [, encoding = "raw"])
int l_crypto_random_bytes(lua_State* L) {
  const lua_Number count = luaL_checknumber(L, 1);
  if (!(count >= 0 && count <= kMaxRandomBytes && count == static_cast<lua_Number>(static_cast<size_t>(count)))) {
    return luaL_error(L, "crypto.random_bytes: n must be a whole number of bytes between 0 and 1048576");
  }
  auto bytes = codec::random_bytes(static_cast<size_t>(count));
  if (!bytes) {
    return luaL_error(L, "crypto.random_bytes: the OpenSSL random generator failed");
  }
  return push_encoded(L, "crypto.random_bytes", *bytes, 2, "raw");
}

// crypto.uuid() -> "1b4e28ba-2fa1-4d2c-883f-0016d3cca427"
int l_crypto_uuid(lua_State* L) {
  auto uuid = codec::uuid_v4();
  if (!uuid) {
    return luaL_error(L, "crypto.uuid: the OpenSSL random generator failed");
  }
  lua_pushlstring(L, uuid->data(), uuid->size());
  return 1;
}

}  // namespace

int push_encoded(lua_State* L, const char* api, const std::string& raw, int arg, const char* fallback) {
  const char* encoding = luaL_optstring(L, arg, fallback);
  std::string out;
  if (std::strcmp(encoding, "hex") == 0) {
    out = codec::hex_encode(raw);
  } else if (std::strcmp(encoding, "base64") == 0) {
    out = codec::base64_encode(raw, false);
  } else if (std::strcmp(encoding, "base64url") == 0) {
    out = codec::base64_encode(raw, true);
  } else if (std::strcmp(encoding, "raw") == 0) {
    out = raw;
  } else {
    return luaL_error(L, "%s: output encoding must be \"hex\", \"base64\", \"base64url\" or \"raw\" (got \"%s\")", api,
                      encoding);
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

void open_crypto(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"sha256", l_crypto_sha256},
      {"hmac_sha256", l_crypto_hmac_sha256},
      {"random_bytes", l_crypto_random_bytes},
      {"uuid", l_crypto_uuid},
      {nullptr, nullptr},
  };
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  add_signing_functions(L);
}

}  // namespace luaload::bindings
