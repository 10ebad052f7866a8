// SPDX-License-Identifier: MIT
// luaload.mcp against servers built with the official MCP TypeScript SDK v2 (tests/node/servers): the modern-only
// server (createMcpHandler, legacy: 'reject'), the sessionful 2025-era server, the dual-era one and the stdio
// server; protocol_version "auto", tools, progress, input requests, and a 20-VU load run against each.
#include <string>

#include "integration/mcp_sdk_fixture.hpp"

namespace luaload::test {
namespace {

// One SDK server and the revision and era protocol_version = "auto" must end up with against it.
struct SdkServer {
  const char* mode;
  const char* version;
  const char* era;
};

std::string server_name(const ::testing::TestParamInfo<SdkServer>& info) { return info.param.mode; }
void PrintTo(const SdkServer& server, std::ostream* os) { *os << server.mode; }

class McpSdkServerTest : public McpSdkTest, public ::testing::WithParamInterface<SdkServer> {
 protected:
  void SetUp() override { start_server(GetParam().mode); }
  std::string version_line() const { return std::string("version=") + GetParam().version; }
  bool modern() const { return std::string(GetParam().era) == "modern"; }
};

INSTANTIATE_TEST_SUITE_P(Sdk, McpSdkServerTest,
                         ::testing::Values(SdkServer{"modern", "2026-07-28", "modern"},
                                           SdkServer{"legacy", "2025-11-25", "legacy"}),
                         server_name);

TEST_P(McpSdkServerTest, AutoSpeaksTheNewestRevisionTheServerSpeaks) {
  auto result = run(R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = "auto", capabilities = CAPABILITIES }))
  out("version", s.protocol_version)
  out("era", s.era)
  out("transport", s.transport)
  out("server", s.server_info and s.server_info.name)
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, version_line());
  LUALOAD_SDK_EXPECT_LINE(result, std::string("era=") + GetParam().era);
  LUALOAD_SDK_EXPECT_LINE(result, "transport=http");
  LUALOAD_SDK_EXPECT_LINE(result, "server=luaload-sdk-test-server");
}

// The fallback to 2025-11-25 is detected once per server and run: later sessions go straight to the legacy
// revision, and only the first pays the failed modern attempt.
TEST_P(McpSdkServerTest, TheVersionFallbackIsPaidOncePerRun) {
  auto result = run(R"(
function default()
  local s = assert(mcp.connect(url, { capabilities = CAPABILITIES }))
  out("version", s.protocol_version)
  s:close()
end
)",
                    {"-u", "1", "-i", "3"});
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, version_line());
  const auto s = summary();
  EXPECT_EQ(counter(s, "mcp_version_fallbacks"), modern() ? 0 : 1) << s.dump(1);
  EXPECT_EQ(trend_count(s, "mcp_version_probe_duration"), modern() ? 0 : 1);
  EXPECT_EQ(counter(s, "mcp_sessions"), 3);  // every open counts, a 2025 initialize or a 2026-07-28 connect
}

TEST_P(McpSdkServerTest, ToolsListShowsTheSdkToolSet) {
  auto result = run(R"(
function default()
  local s = assert(mcp.connect(url, { capabilities = CAPABILITIES }))
  local list, err = s:tools_list()
  assert(list, tostring(err))
  local names = {}
  for _, tool in ipairs(list.tools) do names[#names + 1] = tool.name end
  table.sort(names)
  out("tools", table.concat(names, ","))
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "tools=add,confirm,echo,roots,slow");
}

TEST_P(McpSdkServerTest, ToolsCallReturnsTextAndStructuredContent) {
  auto result = run(R"(
function default()
  local s = assert(mcp.connect(url, { capabilities = CAPABILITIES }))
  local echo, err = s:call_tool("echo", { text = "hello sdk" })
  out("echo", text_of(echo) or tostring(err))
  local sum, err2 = s:call_tool("add", { a = 2, b = 3 })
  out("add", text_of(sum) or tostring(err2))
  out("sum", sum and sum.structuredContent and sum.structuredContent.sum)
  local _, bad = s:call_tool("add", { a = 2, b = "three" })
  out("bad_kind", bad and bad.kind)
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "echo=hello sdk");
  LUALOAD_SDK_EXPECT_LINE(result, "add=5");
  LUALOAD_SDK_EXPECT_LINE(result, "sum=5");
  LUALOAD_SDK_EXPECT_LINE(result, "bad_kind=tool");  // the SDK reports invalid arguments as an isError result
  const auto s = summary();
  EXPECT_EQ(trend_count(s, "mcp_tool_call_duration"), 3) << s.dump(1);
  EXPECT_TRUE(has_series_tag(s, "mcp_tool_call_duration", "mcp_version", GetParam().version));
  EXPECT_TRUE(has_series_tag(s, "mcp_tool_call_duration", "mcp_transport", "http"));
}

// The slow tool sends one notifications/progress per step on the response stream, before its result; each reaches
// on_notification as it arrives, and the intervals between them are measured.
TEST_P(McpSdkServerTest, ProgressNotificationsArriveWhileTheToolRuns) {
  auto result = run(R"(
function default()
  local s = assert(mcp.connect(url, { capabilities = CAPABILITIES }))
  local seen = {}
  local res, err, notes = s:call_tool("slow", { steps = 3, delay_ms = 100 }, {
    progress = true,
    on_notification = function(msg)
      if msg.method == "notifications/progress" then seen[#seen + 1] = msg.params.progress end
    end,
  })
  out("result", text_of(res) or tostring(err))
  out("seen", table.concat(seen, ","))
  local returned = 0
  for _, note in ipairs(notes or {}) do
    if note.method == "notifications/progress" then returned = returned + 1 end
  end
  out("returned", returned)
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "result=done 3");
  LUALOAD_SDK_EXPECT_LINE(result, "seen=1,2,3");
  LUALOAD_SDK_EXPECT_LINE(result, "returned=3");
  const auto s = summary();
  EXPECT_EQ(trend_count(s, "mcp_progress_interval"), 2) << s.dump(1);
  EXPECT_GE(trend_count(s, "mcp_time_to_first_event"), 1);
}

// The confirm tool needs an elicitation: a 2026-07-28 server returns an InputRequiredResult (answered, then the
// call is retried), a 2025 session gets elicitation/create on the open response stream (answered while it stays
// open). Either way on_request answers it and the tool sees the answer.
TEST_P(McpSdkServerTest, AnInputRequestIsAnsweredByOnRequest) {
  auto result = run(R"(
function default()
  local asked = {}
  local s = assert(mcp.connect(url, {
    capabilities = CAPABILITIES,
    on_request = function(message)
      asked[#asked + 1] = message.method
      if message.method == "elicitation/create" then
        return { action = "accept", content = { confirm = true } }
      end
    end,
  }))
  local res, err = s:call_tool("confirm", { message = "Deploy?" })
  out("result", text_of(res) or tostring(err))
  out("asked", table.concat(asked, ","))
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "result=confirmed");
  LUALOAD_SDK_EXPECT_LINE(result, "asked=elicitation/create");
  const auto s = summary();
  EXPECT_EQ(counter_where(s, "mcp_server_requests", "mcp_method", "elicitation/create"), 1) << s.dump(1);
  EXPECT_EQ(counter(s, "mcp_input_required"), modern() ? 1 : 0);
}

TEST_P(McpSdkServerTest, WithoutOnRequestAnElicitationIsDeclined) {
  auto result = run(R"(
function default()
  local s = assert(mcp.connect(url, { capabilities = CAPABILITIES }))
  local res, err = s:call_tool("confirm", {})
  out("result", text_of(res) or tostring(err))
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "result=declined");
}

TEST_P(McpSdkServerTest, RootsListIsAnsweredFromOptsRoots) {
  auto result = run(R"(
function default()
  local s = assert(mcp.connect(url, {
    capabilities = CAPABILITIES,
    roots = { { uri = "file:///work/project", name = "project" } },
  }))
  local res, err = s:call_tool("roots", {})
  out("result", text_of(res) or tostring(err))
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "result=file:///work/project");
}

// The issue's acceptance run: 20 VUs for 20 s, each VU with its own session, every tool of the journey (progress
// and an input request included), thresholds on errors and checks, zero protocol errors.
constexpr const char* kLoadJourney = R"(
options = {
  thresholds = {
    mcp_errors = { "rate==0" },
    checks = { "rate==1" },
    ["mcp_tool_call_duration{mcp_tool:echo}"] = { "p(95)<1000" },
    ["mcp_errors{mcp_version:%VERSION%}"] = { "rate==0" },
  },
}

local session

local function answer(message)
  if message.method == "elicitation/create" then return { action = "accept", content = { confirm = true } } end
end

function default()
  if session == nil then
    session = assert(mcp.connect(url, { capabilities = CAPABILITIES, on_request = answer }))
  end
  local list = session:tools_list()
  local echo = session:call_tool("echo", { text = "vu " .. ll.vu.id })
  local sum = session:call_tool("add", { a = ll.vu.id, b = 1 })
  local slow = session:call_tool("slow", { steps = 2, delay_ms = 20 }, { progress = true })
  local confirm = session:call_tool("confirm", {})
  ll.check(true, {
    ["tools listed"] = function() return list ~= nil and #list.tools == 5 end,
    ["echo answers"] = function() return text_of(echo) == "vu " .. ll.vu.id end,
    ["add answers"] = function() return sum ~= nil and sum.structuredContent.sum == ll.vu.id + 1 end,
    ["slow finishes"] = function() return text_of(slow) == "done 2" end,
    ["confirm confirmed"] = function() return text_of(confirm) == "confirmed" end,
  })
  ll.sleep(0.05)
end
)";

TEST_P(McpSdkServerTest, TwentyVusForTwentySecondsPassTheirThresholds) {
  std::string journey = kLoadJourney;
  journey.replace(journey.find("%VERSION%"), 9, GetParam().version);
  auto result = run(journey, {"-u", "20", "-d", "20s"}, std::chrono::milliseconds(90'000));
  EXPECT_EQ(result.exit_code, 0) << describe(result);
  const auto s = summary();
  ASSERT_FALSE(s.is_discarded()) << result.err;
  const auto& errors = s.at("metrics").at("mcp_errors").at("values");
  EXPECT_GT(errors.value("fails", 0.0) + errors.value("passes", 0.0), 0);
  EXPECT_EQ(errors.value("rate", 1.0), 0.0) << s.at("metrics").at("mcp_errors").dump(1);
  const auto& versioned = s.at("metrics").at(std::string("mcp_errors{mcp_version:") + GetParam().version + "}");
  EXPECT_FALSE(versioned.at("thresholds").begin()->at("no_data").get<bool>()) << versioned.dump(1);
  EXPECT_GT(s.at("metrics").at("iterations").at("values").value("count", 0.0), 100);
  EXPECT_EQ(s.at("metrics").at("checks").at("values").value("fails", -1.0), 0);
}

// The dual-era server (createMcpHandler's default stateless legacy serving) speaks both: auto stays on 2026-07-28,
// an explicit 2025-11-25 gets a sessionless legacy session.
TEST_F(McpSdkTest, ADualEraServerServesBothRevisions) {
  start_server("dual");
  auto result = run(R"(
function default()
  local modern = assert(mcp.connect(url, { capabilities = CAPABILITIES }))
  out("auto", modern.protocol_version)
  local legacy = assert(mcp.connect(url, { protocol_version = "2025-11-25", capabilities = CAPABILITIES }))
  out("legacy", legacy.protocol_version .. "/" .. legacy.era .. "/" .. tostring(legacy.id))
  local echo, err = legacy:call_tool("echo", { text = "old" })
  out("echo", text_of(echo) or tostring(err))
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "auto=2026-07-28");
  LUALOAD_SDK_EXPECT_LINE(result, "legacy=2025-11-25/legacy/nil");
  LUALOAD_SDK_EXPECT_LINE(result, "echo=old");
  EXPECT_EQ(counter(summary(), "mcp_version_fallbacks"), 0);
}

// The SDK's stdio server (serveStdio): a spawned process per VU, 2026-07-28 with auto, the same tools.
TEST_F(McpSdkTest, TheSdkStdioServerSpeaksTheModernRevision) {
  auto result = run(R"(
function default()
  local s = assert(mcp.spawn({ command = ll.env.SDK_STDIO_NODE, args = { ll.env.SDK_STDIO_SCRIPT, "--mode", "dual" } },
                             { capabilities = CAPABILITIES,
                               on_request = function() return { action = "accept", content = { confirm = true } } end }))
  out("version", s.protocol_version)
  out("transport", s.transport)
  local sum, err = s:call_tool("add", { a = 20, b = 22 })
  out("add", text_of(sum) or tostring(err))
  local confirm, err2 = s:call_tool("confirm", {})
  out("confirm", text_of(confirm) or tostring(err2))
  s:close()
end
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  LUALOAD_SDK_EXPECT_LINE(result, "version=2026-07-28");
  LUALOAD_SDK_EXPECT_LINE(result, "transport=stdio");
  LUALOAD_SDK_EXPECT_LINE(result, "add=42");
  LUALOAD_SDK_EXPECT_LINE(result, "confirm=confirmed");
  EXPECT_EQ(counter(summary(), "mcp_process_starts"), 1);
}

}  // namespace
}  // namespace luaload::test
