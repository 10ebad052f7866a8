// SPDX-License-Identifier: MIT
// luaload.mcp sessions against the built-in target: initialize, lists and calls over JSON and over SSE, progress
// notifications, protocol versions and headers, close, and lost sessions.
#include "integration/mcp_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::McpSseMode;

constexpr const char* kListAndCall = R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  out("id_length", #s.id)
  out("version", s.protocol_version)
  out("server", s.server_info.name)
  local tools = assert(s:tools_list_all())
  out("tools", tools[1].name .. "," .. tools[2].name .. "," .. tools[3].name)
  local echo, err = s:call_tool("echo", { text = "hi there" })
  out("echo", echo.content[1].text)
  out("echo_err", err)
  out("echo_type", s.last_response.headers["Content-Type"])
  local sum = s:call_tool("add", { a = 2, b = 40 })
  out("sum", sum.structuredContent.sum)
  out("close", s:close())
end
)";

TEST_F(McpTest, InitializeListAndCallWorkWithJsonAnswers) {
  start_target(McpSseMode::Never);
  auto r = run(kListAndCall);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "id_length=32");
  LUALOAD_EXPECT_LINE(r, "version=2025-11-25");
  LUALOAD_EXPECT_LINE(r, "server=luaload-target");
  LUALOAD_EXPECT_LINE(r, "tools=echo,add,slow");
  LUALOAD_EXPECT_LINE(r, "echo=hi there");
  LUALOAD_EXPECT_LINE(r, "echo_err=nil");
  LUALOAD_EXPECT_LINE(r, "echo_type=application/json");
  LUALOAD_EXPECT_LINE(r, "sum=42");
  LUALOAD_EXPECT_LINE(r, "close=true");
}

TEST_F(McpTest, InitializeListAndCallWorkWithSseAnswers) {
  start_target(McpSseMode::Always);
  auto r = run(kListAndCall);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "version=2025-11-25");
  LUALOAD_EXPECT_LINE(r, "tools=echo,add,slow");
  LUALOAD_EXPECT_LINE(r, "echo=hi there");
  LUALOAD_EXPECT_LINE(r, "echo_type=text/event-stream");
  LUALOAD_EXPECT_LINE(r, "sum=42");
}

TEST_F(McpTest, ProgressNotificationsArriveBeforeTheResultOfASlowCall) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  local seen = {}
  local result, err, notes = s:call_tool("slow", { delay_ms = 20 }, {
    progress = true,
    on_notification = function(m) seen[#seen + 1] = m.params.progress .. "/" .. m.params.total end,
  })
  out("text", result.content[1].text)
  out("err", err)
  out("type", s.last_response.headers["Content-Type"])
  out("callback", table.concat(seen, " "))
  out("notes", #notes .. " " .. notes[1].method)
  local plain, _, none = s:call_tool("slow", { delay_ms = 1 })
  out("plain", plain.content[1].text .. " " .. #none)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "text=waited 20 ms");
  LUALOAD_EXPECT_LINE(r, "err=nil");
  LUALOAD_EXPECT_LINE(r, "type=text/event-stream");
  LUALOAD_EXPECT_LINE(r, "callback=0/4 1/4 2/4 3/4");
  LUALOAD_EXPECT_LINE(r, "notes=4 notifications/progress");
  LUALOAD_EXPECT_LINE(r, "plain=waited 1 ms 0");
}

TEST_F(McpTest, ResourcesPromptsAndPingWork) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  local resources = s:resources_list()
  out("resources", resources.resources[1].uri .. "," .. resources.resources[2].uri)
  local config = s:resources_read("luaload://config")
  out("config", ll.json.decode(config.contents[1].text).server)
  out("prompts", s:prompts_list().prompts[1].name)
  out("prompt", s:prompts_get("greet", { name = "Ada" }).messages[1].content.text)
  local pong, err = s:ping()
  out("ping", next(pong) == nil and err == nil)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "resources=luaload://readme,luaload://config");
  LUALOAD_EXPECT_LINE(r, "config=luaload-target");
  LUALOAD_EXPECT_LINE(r, "prompts=greet");
  LUALOAD_EXPECT_LINE(r, "prompt=Say hello to Ada.");
  LUALOAD_EXPECT_LINE(r, "ping=true");
}

// The session is pointed at /echo after initialize, so the target echoes the headers of a later request.
TEST_F(McpTest, EveryLaterRequestCarriesTheSessionTheNegotiatedVersionAndTheScriptHeaders) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = "2025-06-18",
    headers = { Authorization = "Bearer t0k", accept = "text/html" } }))
  out("version", s.protocol_version)
  s.transport.url = ll.env.TARGET .. "/echo"
  local _, err = s:ping()
  out("kind", err.kind)
  local seen = ll.json.decode(s.last_response.body).headers
  out("session_sent", seen["mcp-session-id"] == s.id)
  out("version_header", seen["mcp-protocol-version"])
  out("accept", seen["accept"])
  out("content_type", seen["content-type"])
  out("authorization", seen["authorization"])
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "version=2025-06-18");
  LUALOAD_EXPECT_LINE(r, "kind=protocol");
  LUALOAD_EXPECT_LINE(r, "session_sent=true");
  LUALOAD_EXPECT_LINE(r, "version_header=2025-06-18");
  LUALOAD_EXPECT_LINE(r, "accept=application/json, text/event-stream");
  LUALOAD_EXPECT_LINE(r, "content_type=application/json");
  LUALOAD_EXPECT_LINE(r, "authorization=Bearer t0k");
}

TEST_F(McpTest, TheOldestSupportedProtocolVersionIsNegotiatedWhenAsked) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = "2025-03-26" }))
  out("version", s.protocol_version)
  out("echo", s:call_tool("echo", { text = "old" }).content[1].text)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "version=2025-03-26");
  LUALOAD_EXPECT_LINE(r, "echo=old");
}

TEST_F(McpTest, AnUnsupportedProtocolVersionIsAScriptError) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
local ok, err = pcall(mcp.new, "http://127.0.0.1:1/mcp", { protocol_version = "2024-01-01" })
function default() end
print("raised=" .. tostring(not ok) .. " " .. tostring(err:find("unsupported protocol_version", 1, true) ~= nil))
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "raised=true true");
}

TEST_F(McpTest, CloseDeletesTheSessionOnTheServer) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  local id = s.id
  out("close", s:close())
  out("status", s.last_response.status)
  local res = http.post(url, '{"jsonrpc":"2.0","id":1,"method":"ping"}', { headers = {
    ["Mcp-Session-Id"] = id, Accept = "application/json", ["Content-Type"] = "application/json" } })
  out("after", res.status)
  local ok, err = pcall(s.ping, s)
  out("closed_call", not ok and err:find("session is not open", 1, true) ~= nil)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "close=true");
  LUALOAD_EXPECT_LINE(r, "status=204");
  LUALOAD_EXPECT_LINE(r, "after=404");
  LUALOAD_EXPECT_LINE(r, "closed_call=true");
}

// Deletes the session behind the client's back, as a server restart or expiry would.
constexpr const char* kLoseSession = R"(
local function lose(s)
  http.del(url, nil, { headers = { ["Mcp-Session-Id"] = s.id } })
end
)";

TEST_F(McpTest, ALostSessionIsReportedWhenReinitializationWasNotAsked) {
  start_target(McpSseMode::Auto);
  auto r = run(std::string(kLoseSession) + R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  lose(s)
  local result, err = s:call_tool("echo", { text = "x" })
  out("result", result)
  out("kind", err.kind)
  out("status", err.status)
  out("tool", err.tool)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "result=nil");
  LUALOAD_EXPECT_LINE(r, "kind=session_lost");
  LUALOAD_EXPECT_LINE(r, "status=404");
  LUALOAD_EXPECT_LINE(r, "tool=echo");
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["metrics"]["mcp_sessions"]["values"]["count"].get<double>(), 1);
  EXPECT_EQ(s["metrics"]["mcp_errors"]["values"]["passes"].get<double>(), 1);
}

TEST_F(McpTest, ALostSessionIsReinitializedAndTheCallRetriedWhenAsked) {
  start_target(McpSseMode::Auto);
  auto r = run(std::string(kLoseSession) + R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = "2025-11-25", reinitialize = true }))
  local old = s.id
  lose(s)
  local result, err = s:call_tool("echo", { text = "again" })
  out("echo", result.content[1].text)
  out("err", err)
  out("new_session", s.id ~= old and #s.id == 32)
  out("reinitializations", s.reinitializations)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "echo=again");
  LUALOAD_EXPECT_LINE(r, "err=nil");
  LUALOAD_EXPECT_LINE(r, "new_session=true");
  LUALOAD_EXPECT_LINE(r, "reinitializations=1");
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["metrics"]["mcp_sessions"]["values"]["count"].get<double>(), 2);
  EXPECT_EQ(s["metrics"]["mcp_errors"]["values"]["passes"].get<double>(), 0);
}

// The target sends a heartbeat comment every 20 ms here; it ends a stream whose session is gone at the next one.
TEST_F(McpTest, TheGetStreamStaysOpenDuringCallsAndEndsOnCloseOrWithTheSession) {
  start_target(McpSseMode::Auto, 20);
  auto r = run(std::string(kLoseSession) + R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  local stream = s:open_stream()
  local texts = {}
  for i = 1, 3 do
    texts[i] = s:call_tool("echo", { text = "e" .. i }).content[1].text
  end
  out("calls", table.concat(texts, ","))
  ll.sleep(0.1)
  out("open", stream.status .. " " .. tostring(stream.task:done()))
  stream:close()
  out("closed", tostring(stream:wait()) .. " " .. tostring(stream.task:done()))

  local second = s:open_stream()
  ll.sleep(0.05)
  s:close()
  local started = ll.now()
  out("ended", tostring(second:wait()) .. " " .. second.status .. " " .. tostring(ll.now() - started < 2000))

  local other = assert(mcp.connect(url, legacy))
  lose(other)
  local refused = other:open_stream()
  local err = refused:wait()
  out("refused", err.kind .. " " .. err.status)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "calls=e1,e2,e3");
  LUALOAD_EXPECT_LINE(r, "open=200 false");
  LUALOAD_EXPECT_LINE(r, "closed=nil true");
  LUALOAD_EXPECT_LINE(r, "ended=nil 200 true");
  LUALOAD_EXPECT_LINE(r, "refused=session_lost 404");
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["metrics"]["mcp_errors"]["values"]["passes"].get<double>(), 1);
}

}  // namespace
}  // namespace luaload::test
