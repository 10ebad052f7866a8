// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace luaload::engine::http {

// An absolute http:// or https:// URL, split the way the client needs it.
struct Url {
  bool https = false;
  std::string host;         // without brackets for IPv6 literals, lower-cased
  uint16_t port = 0;        // explicit or the scheme's default
  std::string target;       // path + query for the request line ("/" when empty); never the fragment
  std::string host_header;  // Host header value: host (bracketed for IPv6) + ":port" when not the default
  std::string origin;       // "scheme://host_header-with-port": the keep-alive pool key

  std::string to_string() const;  // scheme://host_header + target
};

// Parses an absolute URL. nullopt when it is not http/https, has no host, a bad port, userinfo, or spaces.
std::optional<Url> parse_url(std::string_view text);

// Resolves a redirect's Location (absolute, scheme-relative "//host/x", absolute-path "/x", or relative "x", with
// "." and ".." segments removed) against the URL of the request that received it. nullopt if the result is invalid.
std::optional<Url> resolve_location(const Url& base, std::string_view location);

}  // namespace luaload::engine::http
