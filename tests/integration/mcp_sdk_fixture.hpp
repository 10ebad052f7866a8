// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/files.hpp"
#include "support/node_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {

// luaload.mcp end to end against servers built with the official MCP TypeScript SDK v2 (tests/node/servers,
// installed by .ci/setup.sh). A test starts one server, runs `luaload run` on kSdkPrelude + its body with
// MCP_URL set to the server's endpoint, and reads what the script printed (`key=value` lines) and the summary
// export. A missing Node installation fails the test with the install hint, never skips it.
inline constexpr const char* kSdkPrelude = R"(
local mcp = require("luaload.mcp")
local ll = require("luaload")
local url = ll.env.MCP_URL
local function out(key, value) print(key .. "=" .. tostring(value)) end
-- What the SDK servers' confirm and roots tools need the client to declare.
local CAPABILITIES = { elicitation = { form = {} }, roots = {} }
local function text_of(result) return result and result.content and result.content[1] and result.content[1].text end
)";

class McpSdkTest : public ::testing::Test {
 protected:
  static constexpr std::chrono::milliseconds kRunTimeout{30'000};

  // Starts the SDK HTTP server in `mode` ("modern", "legacy" or "dual").
  void start_server(std::string_view mode) {
    std::string error;
    ASSERT_TRUE(server_.start(mode, &error)) << error;
  }

  // Runs prelude + body with one VU for one iteration (or the given arguments) against the started server; the
  // stdio server's command is in the environment too (SDK_STDIO_NODE, SDK_STDIO_SCRIPT).
  ProcessResult run(const std::string& body, std::vector<std::string> extra = {"-i", "1"},
                    std::chrono::milliseconds timeout = kRunTimeout) {
    const auto path = dir_.write_file("script.lua", std::string(kSdkPrelude) + body);
    const auto stdio = node_tools::stdio_server_command("dual");
    std::vector<std::string> argv = {LUALOAD_BINARY, "run", path.string(), "--quiet",
                                     "-e", "MCP_URL=" + server_.url(),
                                     "-e", "SDK_STDIO_NODE=" + stdio[0],
                                     "-e", "SDK_STDIO_SCRIPT=" + stdio[1],
                                     "--summary-export", (dir_.path() / "summary.json").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, timeout);
  }

  nlohmann::json summary() const { return read_json_file(dir_.path() / "summary.json"); }

  // A counter's total in the summary export, 0 when the metric has no samples (and so no entry).
  static double counter(const nlohmann::json& summary, const std::string& name) {
    const auto& metrics = summary.at("metrics");
    return metrics.contains(name) ? metrics.at(name).at("values").value("count", 0.0) : 0.0;
  }

  // How many samples a trend received, 0 when it has none.
  static int64_t trend_count(const nlohmann::json& summary, const std::string& name) {
    const auto& metrics = summary.at("metrics");
    return metrics.contains(name) ? metrics.at(name).at("histogram").value("count", int64_t{0}) : 0;
  }

  // The total of a counter over its series whose tag `key` is `value`.
  static double counter_where(const nlohmann::json& summary, const std::string& name, const std::string& key,
                              const std::string& value) {
    const auto& metrics = summary.at("metrics");
    if (!metrics.contains(name)) return 0;
    double total = 0;
    for (const auto& series : metrics.at(name).value("series", nlohmann::json::array())) {
      if (series.at("tags").value(key, "") == value) total += series.at("values").value("count", 0.0);
    }
    return total;
  }

  // True when some series of `name` carries tag `key` = `value`.
  static bool has_series_tag(const nlohmann::json& summary, const std::string& name, const std::string& key,
                             const std::string& value) {
    const auto& metrics = summary.at("metrics");
    if (!metrics.contains(name)) return false;
    for (const auto& series : metrics.at(name).value("series", nlohmann::json::array())) {
      if (series.at("tags").value(key, "") == value) return true;
    }
    return false;
  }

  // What a failed run did, for assertion messages.
  static std::string describe(const ProcessResult& result) {
    std::string text = result.timed_out ? "timed out" : "exit " + std::to_string(result.exit_code);
    if (!result.started) text = "not started: " + result.spawn_error;
    return text + "\n--- stdout\n" + result.out + "--- stderr\n" + result.err;
  }

  static bool has_line(const std::string& out, const std::string& line) {
    std::istringstream lines(out);
    for (std::string l; std::getline(lines, l);) {
      if (l == line) return true;
    }
    return false;
  }

  NodeMcpServer server_;
  TempDir dir_;
};

#define LUALOAD_SDK_EXPECT_LINE(result, line) EXPECT_TRUE(has_line((result).out, line)) << describe(result)

}  // namespace luaload::test
