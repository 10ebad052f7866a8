// SPDX-License-Identifier: MIT
#pragma once

#include <lua.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The `luaload.encoding` and `luaload.crypto` modules (crypto.cpp, crypto_encoding.cpp) and the plain C++
// functions behind them. Every function is pure and thread-safe (OpenSSL 3 needs no locking setup); none throws.
namespace luaload::bindings::codec {

// RFC 4648 §4 (standard alphabet, '=' padding) or, with `url`, §5 (base64url, no padding).
std::string base64_encode(std::string_view bytes, bool url);
// Strict: the alphabet of the variant, padding as in §4 (base64url also accepts it but never needs it), no
// whitespace, no non-zero trailing bits. nullopt on any invalid input.
std::optional<std::string> base64_decode(std::string_view text, bool url);

// RFC 3986 percent-encoding of one component: everything but ALPHA DIGIT - . _ ~ becomes %XX (upper case).
std::string url_encode(std::string_view text);
// Decodes %XX; with `plus_is_space` a '+' becomes ' ' (application/x-www-form-urlencoded). nullopt on a malformed
// escape ("%4", "%zz").
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space);

// Lower-case hexadecimal.
std::string hex_encode(std::string_view bytes);

// Raw 32-byte digests (FIPS 180-4 SHA-256; RFC 2104 HMAC with SHA-256).
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);

// `count` bytes from OpenSSL's CSPRNG (RAND_bytes); nullopt if it fails.
std::optional<std::string> random_bytes(size_t count);
// A random (version 4, RFC 9562 §5.4) UUID, "xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx"; nullopt if RAND_bytes fails.
std::optional<std::string> uuid_v4();

// JWS signing (crypto_keys.cpp): ES256, RS256, PS256 as RFC 7518 defines them. Keys are PEM text: private keys
// unencrypted PKCS#8, SEC 1 or PKCS#1; public keys SubjectPublicKeyInfo (a private key PEM is accepted wherever a
// public key is). RSA keys must have at least 2048 bits, EC keys be on P-256 (ES256). Each function returns false
// with *error (a phrase without the caller's name) on a key it cannot read or that does not fit the algorithm.
enum class SignAlgorithm { ES256, RS256, PS256 };
std::optional<SignAlgorithm> sign_algorithm(std::string_view name);
const char* sign_algorithm_name(SignAlgorithm alg);

// The signature as JWS carries it: r || s (64 bytes) for ES256, the RSA signature for RS256/PS256.
bool sign(SignAlgorithm alg, std::string_view private_pem, std::string_view data, std::string* signature,
          std::string* error);
// *valid tells whether `signature` is a valid signature of `data`; a malformed signature is simply not valid.
bool verify(SignAlgorithm alg, std::string_view key_pem, std::string_view data, std::string_view signature,
            bool* valid, std::string* error);
// A new private key as PKCS#8 PEM: P-256 for ES256, RSA of `rsa_bits` for RS256/PS256.
bool generate_key(SignAlgorithm alg, int rsa_bits, std::string* private_pem, std::string* error);
// The public key of `key_pem` as SubjectPublicKeyInfo PEM.
bool public_key_pem(std::string_view key_pem, std::string* public_pem, std::string* error);

// JWK members (name, value), values as JSON strings.
using JwkMembers = std::vector<std::pair<std::string, std::string>>;
// The public JWK of an RSA key (kty, n, e) or an EC P-256 key (kty, crv, x, y), base64url values (RFC 7518 §6).
bool public_jwk(std::string_view key_pem, JwkMembers* members, std::string* error);
// RFC 7638: base64url(SHA-256(the members, sorted by name, as JSON without whitespace)). `required` must hold
// exactly the members required for the key type.
std::string jwk_thumbprint(JwkMembers required);

}  // namespace luaload::bindings::codec

namespace luaload::bindings {

// Push the `luaload.encoding` table (C functions only; open_helper_modules adds form_encode from lua/http.lua so
// that there is one form encoder) and the `luaload.crypto` table.
void open_encoding(lua_State* L);
void open_crypto(lua_State* L);
// Adds sign, verify, generate_key, public_key, public_jwk and jwk_thumbprint to the table on top (crypto_sign.cpp).
void add_signing_functions(lua_State* L);
// Pushes `raw` in the output encoding named by argument `arg` ("hex", "base64", "base64url" or "raw"; `fallback`
// when absent); raises a Lua error naming `api` on another name.
int push_encoded(lua_State* L, const char* api, const std::string& raw, int arg, const char* fallback);

// Registers luaload.encoding and luaload.crypto in the package.loaded table at stack index `loaded`. luaload.http
// must be registered already: its form encoder becomes encoding.form_encode. Runs inside the state's protected
// setup.
void open_helper_modules(lua_State* L, int loaded);

}  // namespace luaload::bindings
