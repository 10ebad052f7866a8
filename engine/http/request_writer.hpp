// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "engine/http/types.hpp"
#include "engine/http/url.hpp"

namespace luaload::engine::http {

inline constexpr std::string_view kDefaultUserAgent = "luaload/0.1";

// Appends the HTTP/1.1 request head (request line, headers, blank line) for `request` sent to `url` to *out. The
// body is not copied: the connection writes it as a second buffer after the head.
//
// The user's headers are written first, in their order and case. Then, when the user did not give them: Host,
// User-Agent (kDefaultUserAgent), and Content-Length when there is a body or the method is POST, PUT or PATCH (and
// no Transfer-Encoding was given). `body` is passed separately because a redirect may drop it (303).
void write_request_head(std::string_view method, const Url& url, const Headers& headers, std::string_view body,
                        std::string* out);

}  // namespace luaload::engine::http
