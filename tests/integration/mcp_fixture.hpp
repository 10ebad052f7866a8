// SPDX-License-Identifier: MIT
#pragma once

#include <csignal>

#include "target_script_test.hpp"

namespace luaload::test {

// luaload.mcp end to end against the in-process target (TargetScriptTest).
// The preamble every script starts with: the modules, the MCP URL, out(key, value), and `legacy`, the options of a
// session pinned to 2025-11-25 (for tests of the initialize-based era's mechanics).
inline constexpr const char* kMcpPrelude = R"(
local mcp = require("luaload.mcp")
local http = require("luaload.http")
local ll = require("luaload")
local url = ll.env.TARGET .. "/mcp"
local legacy = { protocol_version = "2025-11-25" }
local function out(key, value) print(key .. "=" .. tostring(value)) end
)";

class McpTest : public TargetScriptTest {
 protected:
  McpTest() : TargetScriptTest(kMcpPrelude) {}

  // The in-process target writes to streams the client may have closed: that must be EPIPE, not a fatal SIGPIPE
  // (the luaload binary ignores SIGPIPE in main()).
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void start_target(engine::target::McpSseMode mode, int64_t heartbeat_ms = 15'000) {
    engine::target::TargetOptions options;
    options.mcp_sse = mode;
    options.mcp_heartbeat_ms = heartbeat_ms;
    TargetScriptTest::start_target(options);
  }
};

}  // namespace luaload::test
