// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "engine/target/target_options.hpp"

namespace luaload::engine::target {

// Parsers for the `luaload target` flags. Each returns false with a one-line *error naming the bad value, and leaves
// *options untouched in that case.

// "127.0.0.1:8080", "[::1]:8080", ":8080" (127.0.0.1), "8080" (127.0.0.1). Sets host and port.
bool parse_listen(std::string_view text, TargetOptions* options, std::string* error);
// "fast=fixed:2ms": the latency of one /content route.
bool parse_route_latency(std::string_view text, TargetOptions* options, std::string* error);
// Probability in [0, 1], applied to every /content route.
bool parse_error_rate(std::string_view text, TargetOptions* options, std::string* error);
// "auto", "always" or "never".
bool parse_mcp_sse(std::string_view text, TargetOptions* options, std::string* error);
// "both", "modern" or "legacy".
bool parse_mcp_era(std::string_view text, TargetOptions* options, std::string* error);
// A k6 duration ("300ms", "5m"; "0" allowed) for one of the MCP timing flags, named in the error by `flag`.
bool parse_mcp_duration(std::string_view flag, std::string_view text, int64_t* ms, std::string* error);
// "opaque" or "jwt": the format of OAuth access tokens.
bool parse_token_format(std::string_view text, TargetOptions* options, std::string* error);
// A k6 duration ("30s", "1h") for the access token lifetime.
bool parse_token_ttl(std::string_view text, TargetOptions* options, std::string* error);

}  // namespace luaload::engine::target
