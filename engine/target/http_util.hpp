// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace luaload::engine::target {

// Decodes %XX escapes, and '+' as a space (form encoding). nullopt on a malformed escape.
std::optional<std::string> url_decode(std::string_view text);
std::string url_encode(std::string_view text);

// Value of `name` in an application/x-www-form-urlencoded string (a query or a form body), decoded.
// nullopt when absent or malformed.
std::optional<std::string> form_param(std::string_view form, std::string_view name);

// Standard base64 (RFC 4648 §4); decode returns nullopt on invalid input.
std::optional<std::string> base64_decode(std::string_view text);
// base64url without padding (RFC 4648 §5), as PKCE and JOSE use; decode accepts it with or without padding.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// "OK", "Not Found"...; "Unknown" for codes without a registered phrase.
std::string_view reason_phrase(int status);

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);
// True when a comma-separated header value (Accept, Connection) lists `token`, ignoring parameters and case.
bool header_lists(std::string_view value, std::string_view token);

// Hex encoding of `bytes` random bytes from OpenSSL's CSPRNG: tokens that cannot be guessed.
std::string random_token(size_t bytes);

}  // namespace luaload::engine::target
