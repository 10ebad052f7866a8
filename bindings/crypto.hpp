// SPDX-License-Identifier: MIT
#pragma once

#include <lua.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace luaload::bindings::codec

namespace luaload::bindings {

// Push the `luaload.encoding` table (C functions only; open_helper_modules adds form_encode from lua/http.lua so
// that there is one form encoder) and the `luaload.crypto` table.
void open_encoding(lua_State* L);
void open_crypto(lua_State* L);

// Registers luaload.encoding and luaload.crypto in the package.loaded table at stack index `loaded`. luaload.http
// must be registered already: its form encoder becomes encoding.form_encode. Runs inside the state's protected
// setup.
void open_helper_modules(lua_State* L, int loaded);

}  // namespace luaload::bindings
