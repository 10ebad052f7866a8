// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/target/target_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {

// luaload.mcp end to end: `luaload run` on a script written by the test, against the built-in target started
// in-process on 127.0.0.1 (port 0). Scripts report what they saw as `key=value` lines on stdout.
class McpTest : public ::testing::Test {
 protected:
  // The preamble every script starts with: the modules, the MCP URL and out(key, value).
  static constexpr const char* kPrelude = R"(
local mcp = require("luaload.mcp")
local http = require("luaload.http")
local ll = require("luaload")
local url = ll.env.TARGET .. "/mcp"
local function out(key, value) print(key .. "=" .. tostring(value)) end
)";

  // The in-process target writes to streams the client may have closed: that must be EPIPE, not a fatal SIGPIPE
  // (the luaload binary ignores SIGPIPE in main()).
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void start_target(engine::target::McpSseMode mode, int64_t heartbeat_ms = 15'000) {
    engine::target::TargetOptions options;
    options.mcp_sse = mode;
    options.mcp_heartbeat_ms = heartbeat_ms;
    std::string error;
    target_ = engine::target::TargetServer::create(options, &error);
    ASSERT_NE(target_, nullptr) << error;
  }

  void TearDown() override {
    if (target_) {
      EXPECT_TRUE(target_->stop());
    }
  }

  // Runs kPrelude + body with one VU for `iterations` iterations (or the given extra arguments).
  ProcessResult run(const std::string& body, std::vector<std::string> extra = {"-i", "1"}) {
    auto path = dir_.write_file("script.lua", std::string(kPrelude) + body);
    std::vector<std::string> argv = {LUALOAD_BINARY, "run", path.string(), "--quiet", "-e", "TARGET=" + target_->url(),
                                     "--summary-export", (dir_.path() / "summary.json").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, std::chrono::milliseconds(20'000));
  }

  nlohmann::json summary() const {
    std::ifstream in(dir_.path() / "summary.json");
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str(), nullptr, false);
  }

  // True when `out` has the exact line `line`.
  static bool has_line(const std::string& out, const std::string& line) {
    std::istringstream lines(out);
    for (std::string l; std::getline(lines, l);) {
      if (l == line) return true;
    }
    return false;
  }

  std::unique_ptr<engine::target::TargetServer> target_;
  TempDir dir_;
};

#define LUALOAD_EXPECT_LINE(result, line) EXPECT_TRUE(has_line((result).out, line)) << (result).out << (result).err

}  // namespace luaload::test
