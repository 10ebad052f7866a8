// SPDX-License-Identifier: MIT
#include "engine/target/option_parsing.hpp"

#include <charconv>
#include <cstdlib>

#include "engine/core/duration.hpp"

namespace luaload::engine::target {
namespace {

bool fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

bool parse_port(std::string_view text, int* port) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *port);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty() && *port >= 0 && *port <= 65535;
}

}  // namespace

bool parse_listen(std::string_view text, TargetOptions* options, std::string* error) {
  std::string bad = "--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080, got \"" + std::string(text) + "\"";
  std::string host = "127.0.0.1";
  std::string_view port_text = text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find("]:");
    if (close == std::string_view::npos) return fail(error, bad);
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (colon > 0) host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  int port = 0;
  if (!parse_port(port_text, &port) || host.empty()) return fail(error, bad);
  options->host = host;
  options->port = port;
  return true;
}

bool parse_route_latency(std::string_view text, TargetOptions* options, std::string* error) {
  size_t eq = text.find('=');
  std::string route(text.substr(0, eq == std::string_view::npos ? 0 : eq));
  auto it = options->content.find(route);
  if (eq == std::string_view::npos || it == options->content.end()) {
    return fail(error, "--route-latency must be ROUTE=SPEC with ROUTE one of fast, slow, mixed, custom, got \"" +
                           std::string(text) + "\"");
  }
  auto spec = parse_latency(text.substr(eq + 1));
  if (!spec) {
    return fail(error, "--route-latency: bad latency \"" + std::string(text.substr(eq + 1)) +
                           "\" (fixed:20ms, uniform:5ms-50ms or lognormal:median=20ms,p99=200ms)");
  }
  it->second.latency = *spec;
  return true;
}

bool parse_error_rate(std::string_view text, TargetOptions* options, std::string* error) {
  std::string value(text);
  char* end = nullptr;
  double rate = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(rate >= 0 && rate <= 1)) {
    return fail(error, "--error-rate must be a number from 0 to 1, got \"" + value + "\"");
  }
  for (auto& [name, profile] : options->content) profile.error_rate = rate;
  return true;
}

bool parse_mcp_sse(std::string_view text, TargetOptions* options, std::string* error) {
  if (text == "auto") {
    options->mcp_sse = McpSseMode::Auto;
  } else if (text == "always") {
    options->mcp_sse = McpSseMode::Always;
  } else if (text == "never") {
    options->mcp_sse = McpSseMode::Never;
  } else {
    return fail(error, "--mcp-sse must be auto, always or never, got \"" + std::string(text) + "\"");
  }
  return true;
}

bool parse_mcp_era(std::string_view text, TargetOptions* options, std::string* error) {
  if (text == "both") {
    options->mcp_era = McpEra::Both;
  } else if (text == "modern") {
    options->mcp_era = McpEra::Modern;
  } else if (text == "legacy") {
    options->mcp_era = McpEra::Legacy;
  } else {
    return fail(error, "--mcp-era must be both, modern or legacy, got \"" + std::string(text) + "\"");
  }
  return true;
}

bool parse_mcp_duration(std::string_view flag, std::string_view text, int64_t* ms, std::string* error) {
  if (text == "0") {
    *ms = 0;
    return true;
  }
  auto ns = core::parse_duration(text);
  if (!ns || *ns < 0) {
    return fail(error, std::string(flag) + " must be a duration such as 500ms or 5m, got \"" + std::string(text) + "\"");
  }
  *ms = *ns / 1'000'000;
  return true;
}

bool parse_token_format(std::string_view text, TargetOptions* options, std::string* error) {
  if (text != "opaque" && text != "jwt") {
    return fail(error, "--token-format must be opaque or jwt, got \"" + std::string(text) + "\"");
  }
  options->jwt_access_tokens = text == "jwt";
  return true;
}

bool parse_token_ttl(std::string_view text, TargetOptions* options, std::string* error) {
  auto ns = core::parse_duration(text);
  if (!ns || *ns < 1'000'000) {
    return fail(error, "--token-ttl must be a duration of at least 1ms, got \"" + std::string(text) + "\"");
  }
  options->token_ttl_ms = *ns / 1'000'000;
  return true;
}

}  // namespace luaload::engine::target
