// SPDX-License-Identifier: MIT
// luaload.mcp errors and metrics against the built-in target: tool errors, JSON-RPC errors, network errors, the
// mcp_* metrics and per-tool thresholds in the summary.
#include <algorithm>

#include "integration/mcp_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::McpSseMode;

TEST_F(McpTest, AToolErrorReturnsTheResultAndAToolKindError) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url))
  local result, err = s:call_tool("add", { a = 1, b = "two" })
  out("is_error", result.isError)
  out("kind", err.kind)
  out("message", err.message)
  out("string", tostring(err))
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "is_error=true");
  LUALOAD_EXPECT_LINE(r, "kind=tool");
  LUALOAD_EXPECT_LINE(r, "message=a and b must be numbers");
  LUALOAD_EXPECT_LINE(r, "string=mcp tools/call add: tool error: a and b must be numbers");
}

TEST_F(McpTest, AnUnknownToolIsAJsonRpcError) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url))
  local result, err = s:call_tool("nope", {})
  out("result", result)
  out("error", err.kind .. " " .. err.code .. " " .. err.message)
  out("string", tostring(err))
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "result=nil");
  LUALOAD_EXPECT_LINE(r, "error=jsonrpc -32602 unknown tool: nope");
  LUALOAD_EXPECT_LINE(r, "string=mcp tools/call nope: JSON-RPC error -32602: unknown tool: nope");
}

TEST_F(McpTest, AnUnknownMethodIsAJsonRpcError) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url))
  local result, err = s:request("sampling/nothing", { x = 1 })
  out("result", result)
  out("error", err.kind .. " " .. err.code .. " " .. err.message)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "result=nil");
  LUALOAD_EXPECT_LINE(r, "error=jsonrpc -32601 Method not found: sampling/nothing");
}

TEST_F(McpTest, ARefusedConnectionIsAnHttpErrorWithTheK6Code) {
  start_target(McpSseMode::Auto);
  const int port = target_->port();
  ASSERT_TRUE(target_->stop());
  auto r = run("function default()\n  local s, err = mcp.connect('http://127.0.0.1:" + std::to_string(port) +
               "/mcp')\n  out('session', s)\n  out('error', err.kind .. ' ' .. err.status .. ' ' .. err.error_code)\n"
               "end\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "session=nil");
  LUALOAD_EXPECT_LINE(r, "error=http 0 1212");
}

TEST_F(McpTest, RequestsAreRecordedAsMetricsTaggedByMethodAndTool) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  s:tools_list()
  s:call_tool("echo", { text = "a" })
  s:call_tool("echo", { text = "b" })
  s:call_tool("add", { a = 1 })
  s:close()
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  const auto& m = s["metrics"];
  EXPECT_EQ(m["mcp_sessions"]["values"]["count"].get<double>(), 1);
  // initialize, notifications/initialized, tools/list, 3 x tools/call, close.
  EXPECT_EQ(m["mcp_request_duration"]["histogram"]["count"].get<double>(), 7);
  EXPECT_EQ(m["mcp_tool_call_duration"]["histogram"]["count"].get<double>(), 3);
  EXPECT_EQ(m["mcp_errors"]["values"]["passes"].get<double>(), 1);
  EXPECT_EQ(m["mcp_errors"]["values"]["fails"].get<double>(), 6);
  EXPECT_EQ(m["http_reqs"]["values"]["count"].get<double>(), 7);
  std::vector<std::string> tools;
  for (const auto& series : m["mcp_tool_call_duration"]["series"]) {
    tools.push_back(series["tags"]["mcp_tool"].get<std::string>() + ":" +
                    std::to_string(series["histogram"]["count"].get<int>()));
  }
  EXPECT_EQ(tools, (std::vector<std::string>{"add:1", "echo:2"}));
  std::vector<std::string> names;
  for (const auto& series : m["http_reqs"]["series"]) names.push_back(series["tags"]["name"].get<std::string>());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"mcp close", "mcp initialize", "mcp notifications/initialized",
                                              "mcp tools/call", "mcp tools/list"}));
}

TEST_F(McpTest, PerToolThresholdsPassAndFailIndependently) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
options = { thresholds = {
  ["mcp_tool_call_duration{mcp_tool:echo}"] = { "p(95)<1000" },
  ["mcp_tool_call_duration{mcp_tool:slow}"] = { "p(95)<10" },
  ["mcp_errors{mcp_tool:add}"] = { "rate<0.5" },
} }
function default()
  local s = assert(mcp.connect(url))
  s:call_tool("echo", { text = "quick" })
  s:call_tool("slow", { delay_ms = 30 })
  s:call_tool("add", { a = 1, b = 2 })
end
)", {"-i", "2"});
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  const auto& m = s["metrics"];
  EXPECT_TRUE(m["mcp_tool_call_duration{mcp_tool:echo}"]["thresholds"]["p(95)<1000"]["ok"].get<bool>());
  EXPECT_FALSE(m["mcp_tool_call_duration{mcp_tool:slow}"]["thresholds"]["p(95)<10"]["ok"].get<bool>());
  EXPECT_TRUE(m["mcp_errors{mcp_tool:add}"]["thresholds"]["rate<0.5"]["ok"].get<bool>());
  EXPECT_EQ(m["mcp_tool_call_duration{mcp_tool:slow}"]["histogram"]["count"].get<double>(), 2);
}

}  // namespace
}  // namespace luaload::test
