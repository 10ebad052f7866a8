// SPDX-License-Identifier: MIT
// luaload.mcp against the dual-era built-in target: 2026-07-28 spoken by default (envelope, metadata headers, no
// handshake), server requests answered in both eras (MRTR rounds and mid-stream), a 2025 stream resumed, ttlMs
// caching, listen streams, x-mcp-header re-listing, the era fallback counted once, and the sessions a retiring VU
// left open closed.
#include <map>

#include "integration/mcp_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::McpEra;
using engine::target::McpSseMode;

double metric_count(const nlohmann::json& metrics, const std::string& name) {
  if (!metrics.contains(name)) return 0;
  const auto& m = metrics[name];
  if (m.contains("histogram")) return m["histogram"]["count"].get<double>();
  return m["values"]["count"].get<double>();
}

TEST_F(McpTest, AutoSpeaks2026WithTheDualEraTargetAndSendsNoHandshake) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url))
  out("era", s.era .. " " .. s.protocol_version .. " " .. tostring(s.id))
  out("server", s.server_info.name)
  out("echo", s:call_tool("echo", { text = "hi" }).content[1].text)
  out("close", s:close())
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "era=modern 2026-07-28 nil");
  LUALOAD_EXPECT_LINE(r, "server=luaload-target");
  LUALOAD_EXPECT_LINE(r, "echo=hi");
  LUALOAD_EXPECT_LINE(r, "close=true");
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  const auto& m = s["metrics"];
  EXPECT_EQ(metric_count(m, "http_reqs"), 2);  // server/discover (the probe) and tools/call: no initialize, no DELETE
  EXPECT_EQ(metric_count(m, "mcp_version_fallbacks"), 0);
  for (const auto& series : m["mcp_request_duration"]["series"]) {
    EXPECT_EQ(series["tags"]["mcp_version"], "2026-07-28");
    EXPECT_EQ(series["tags"]["mcp_transport"], "http");
  }
}

// Pointed at /echo, the session shows what a 2026 request carries.
TEST_F(McpTest, A2026RequestCarriesTheEnvelopeAndTheMetadataHeaders) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = "2026-07-28", client_info = { name = "agent" },
    capabilities = { elicitation = {} }, log_level = "info" }))
  s.transport.url = ll.env.TARGET .. "/echo"
  local _, err = s:call_tool("echo", { text = "x" })
  out("kind", err.kind)
  local seen = ll.json.decode(s.last_response.body)
  out("method", seen.headers["mcp-method"])
  out("name", seen.headers["mcp-name"])
  out("version", seen.headers["mcp-protocol-version"])
  out("session", seen.headers["mcp-session-id"])
  local meta = ll.json.decode(seen.body).params._meta
  out("meta_version", meta["io.modelcontextprotocol/protocolVersion"])
  out("meta_client", meta["io.modelcontextprotocol/clientInfo"].name)
  out("meta_caps", ll.json.encode(meta["io.modelcontextprotocol/clientCapabilities"]))
  out("meta_level", meta["io.modelcontextprotocol/logLevel"])
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "kind=protocol");
  LUALOAD_EXPECT_LINE(r, "method=tools/call");
  LUALOAD_EXPECT_LINE(r, "name=echo");
  LUALOAD_EXPECT_LINE(r, "version=2026-07-28");
  LUALOAD_EXPECT_LINE(r, "session=nil");
  LUALOAD_EXPECT_LINE(r, "meta_version=2026-07-28");
  LUALOAD_EXPECT_LINE(r, "meta_client=agent");
  LUALOAD_EXPECT_LINE(r, "meta_caps={\"elicitation\":{}}");
  LUALOAD_EXPECT_LINE(r, "meta_level=info");
}

constexpr const char* kAskTheClient = R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = ll.env.VERSION, roots = { { uri = "file:///w" } },
    capabilities = { elicitation = {}, roots = {} },
    on_request = function(m)
      if m.method == "elicitation/create" then return { action = "accept", content = { response = "yes" } } end
    end }))
  out("elicitation", s:call_tool("test_elicitation", { message = "ok?" }).content[1].text)
  out("roots", s:call_tool("test_list_roots", {}).content[1].text)
end
)";

TEST_F(McpTest, ServerRequestsAreAnsweredAsInputRoundsIn2026) {
  start_target(McpSseMode::Auto);
  auto r = run(kAskTheClient, {"-i", "1", "-e", "VERSION=2026-07-28"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "elicitation=User response: action=accept, content={\"response\":\"yes\"}");
  LUALOAD_EXPECT_LINE(r, "roots=Found 1 root(s)");
  const auto s = summary();
  const auto& m = s["metrics"];
  EXPECT_EQ(metric_count(m, "mcp_input_required"), 2);
  EXPECT_EQ(metric_count(m, "mcp_server_requests"), 2);
  EXPECT_EQ(metric_count(m, "http_reqs"), 4);  // each call: the first round and its retry
}

TEST_F(McpTest, ServerRequestsAreAnsweredWhileTheStreamStaysOpenIn2025) {
  start_target(McpSseMode::Auto);
  auto r = run(kAskTheClient, {"-i", "1", "-e", "VERSION=2025-11-25"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "elicitation=User response: action=accept, content={\"response\":\"yes\"}");
  LUALOAD_EXPECT_LINE(r, "roots=Found 1 root(s)");
  const auto s = summary();
  const auto& m = s["metrics"];
  EXPECT_EQ(metric_count(m, "mcp_server_requests"), 2);
  EXPECT_EQ(metric_count(m, "mcp_input_required"), 0);
  std::vector<std::string> methods;
  for (const auto& series : m["mcp_server_requests"]["series"]) {
    methods.push_back(series["tags"]["mcp_method"].get<std::string>());
  }
  std::sort(methods.begin(), methods.end());
  EXPECT_EQ(methods, (std::vector<std::string>{"elicitation/create", "roots/list"}));
}

TEST_F(McpTest, A2025StreamClosedBeforeItsResponseIsResumedWithLastEventId) {
  engine::target::TargetOptions options;
  options.mcp_retry_ms = 50;
  TargetScriptTest::start_target(options);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, legacy))
  local t0 = ll.now()
  local result, err = s:call_tool("test_reconnection", {})
  out("text", result and result.content[1].text:sub(1, 27))
  out("waited_retry", ll.now() - t0 >= 50)
  out("resumptions", s.last_response.resumptions)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "text=Reconnection test completed");
  LUALOAD_EXPECT_LINE(r, "waited_retry=true");
  LUALOAD_EXPECT_LINE(r, "resumptions=1");
  const auto s = summary();
  EXPECT_EQ(metric_count(s["metrics"], "mcp_stream_resumptions"), 1);
}

TEST_F(McpTest, CachedListsAreServedWithoutARequestUntilAListChangeArrives) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = "2026-07-28" }))
  local first = assert(s:tools_list())
  out("ttl", first.ttlMs > 0)
  out("hit", s:tools_list() == first)
  local listener = s:listen({ toolsListChanged = true })
  out("open", listener:wait_open(5))
  s:call_tool("test_trigger_tool_change", {})
  for _ = 1, 100 do
    if #listener.notifications > 0 then break end
    ll.sleep(0.01)
  end
  out("change", listener.notifications[1].method)
  out("refetched", s:tools_list() ~= first)
  listener:close()
  out("ended", listener:wait())
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "ttl=true");
  LUALOAD_EXPECT_LINE(r, "hit=true");
  LUALOAD_EXPECT_LINE(r, "open=true");
  LUALOAD_EXPECT_LINE(r, "change=notifications/tools/list_changed");
  LUALOAD_EXPECT_LINE(r, "refetched=true");
  LUALOAD_EXPECT_LINE(r, "ended=nil");
  const auto s = summary();
  EXPECT_EQ(metric_count(s["metrics"], "mcp_cache_hits"), 1);
}

TEST_F(McpTest, AHeaderMismatchMakesTheSessionListTheToolsAndRetryWithTheirHeaders) {
  engine::target::TargetOptions options;
  options.mcp_fixtures = true;
  TargetScriptTest::start_target(options);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url, { protocol_version = "2026-07-28" }))
  local result, err = s:call_tool("test_custom_header", { region = "us-west1", priority = 7 })
  out("err", err)
  out("param", s.last_response.status)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "err=nil");
  LUALOAD_EXPECT_LINE(r, "param=200");
  // tools/call refused (400 -32020), tools/list, tools/call again with Mcp-Param-Region and Mcp-Param-Priority.
  std::map<std::string, int> requests;
  const auto s = summary();
  for (const auto& series : s["metrics"]["http_reqs"]["series"]) {
    requests[series["tags"]["name"].get<std::string>() + " " + series["tags"]["status"].get<std::string>()] +=
        series["values"]["count"].get<int>();
  }
  EXPECT_EQ(requests, (std::map<std::string, int>{
                          {"mcp tools/call 200", 1}, {"mcp tools/call 400", 1}, {"mcp tools/list 200", 1}}));
}

TEST_F(McpTest, ALegacyOnlyServerIsProbedOncePerWorkerForTheWholeRun) {
  engine::target::TargetOptions options;
  options.mcp_era = McpEra::Legacy;
  TargetScriptTest::start_target(options);
  auto r = run(R"(
function default()
  local s = assert(mcp.connect(url))
  out("era", s.era .. " " .. s.protocol_version)
  s:close()
end
)", {"-u", "3", "-i", "6", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "era=legacy 2025-11-25");
  const auto s = summary();
  const auto& m = s["metrics"];
  EXPECT_EQ(metric_count(m, "mcp_version_fallbacks"), 1);
  EXPECT_EQ(metric_count(m, "mcp_version_probe_duration"), 1);
  EXPECT_EQ(metric_count(m, "mcp_sessions"), 6);
}

TEST_F(McpTest, AModernOnlyServerRefusesAPinnedLegacySessionAndServesAuto) {
  engine::target::TargetOptions options;
  options.mcp_era = McpEra::Modern;
  TargetScriptTest::start_target(options);
  auto r = run(R"(
function default()
  local s, err = mcp.connect(url, legacy)
  out("legacy", s == nil and err.kind)
  local m = assert(mcp.connect(url))
  out("auto", m.era)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(has_line(r.out, "legacy=false")) << r.out;
  LUALOAD_EXPECT_LINE(r, "auto=modern");
}

TEST_F(McpTest, SessionsStillOpenWhenTheVuRetiresAreClosed) {
  start_target(McpSseMode::Auto);
  auto r = run(R"(
options = { scenarios = { two = { executor = "per-vu-iterations", vus = 2, iterations = 2 } } }
local session
function default()
  if session == nil then
    session = assert(mcp.connect(url, legacy))
    out("opened", session.id ~= nil)
  end
  session:call_tool("echo", { text = "x" })
end
)", {});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "opened=true");
  // Each VU's session was DELETEd by its end hook, with the same tags as session:close().
  int closes = 0;
  const auto s = summary();
  for (const auto& series : s["metrics"]["http_reqs"]["series"]) {
    if (series["tags"]["name"] == "mcp close") closes += series["values"]["count"].get<int>();
  }
  EXPECT_EQ(closes, 2);
}

}  // namespace
}  // namespace luaload::test
