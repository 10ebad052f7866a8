// SPDX-License-Identifier: MIT
// mcp.spawn end to end: `luaload run` scripts whose MCP server is `luaload target --stdio` (this build's binary) or
// the TypeScript SDK v2 stdio server (tests/node): journeys in every revision, listen streams, a server that dies
// (kind "process", restarted with reinitialize), and Ctrl-C leaving no server process behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/node_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

constexpr const char* kPrelude = R"(
local mcp = require("luaload.mcp")
local ll = require("luaload")
local function version() return (ll.env.VERSION or "") ~= "" and ll.env.VERSION or nil end
local function target_spec() return { command = ll.env.LUALOAD, args = { "target", "--stdio" } } end
local function say(key, value) print(key .. "=" .. tostring(value)) end
)";

class McpStdioTest : public ::testing::Test {
 protected:
  ProcessResult run(const std::string& body, std::vector<std::string> extra = {"-i", "1"}) {
    auto path = dir_.write_file("script.lua", std::string(kPrelude) + body);
    std::vector<std::string> argv = {LUALOAD_BINARY,
                                     "run",
                                     path.string(),
                                     "--quiet",
                                     "-e",
                                     std::string("LUALOAD=") + LUALOAD_BINARY,
                                     "--summary-export",
                                     (dir_.path() / "summary.json").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, std::chrono::milliseconds(60'000));
  }

  static bool has_line(const std::string& out, const std::string& line) {
    std::istringstream lines(out);
    for (std::string l; std::getline(lines, l);) {
      if (l == line) return true;
    }
    return false;
  }

  double metric_count(const std::string& name) {
    nlohmann::json summary = read_json_file(dir_.path() / "summary.json");
    const auto& metric = summary["metrics"][name];
    return metric.is_null() ? 0 : metric["values"].value("count", 0.0);
  }

  // Pids of the processes whose parent is `parent` (from /proc).
  static std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> result;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream stat(entry.path() / "stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      const size_t paren = text.rfind(')');
      if (paren == std::string::npos) continue;
      std::istringstream rest(text.substr(paren + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid == parent && state != 'Z') result.push_back(std::stoi(name));
    }
    return result;
  }

  static bool alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');
    return paren != std::string::npos && text[paren + 2] != 'Z';
  }

  TempDir dir_;
};

#define EXPECT_LINE(result, line) EXPECT_TRUE(has_line((result).out, line)) << (result).out << (result).err

constexpr const char* kJourney = R"(
function default()
  local s, err = mcp.spawn(target_spec(), { protocol_version = version() })
  assert(s, tostring(err))
  say("era", s.era)
  say("version", s.protocol_version)
  say("transport", s.transport.kind)
  local r, e = s:call_tool("echo", { text = "over stdio" })
  say("echo", r and r.content[1].text or tostring(e))
  local notes
  r, e, notes = s:call_tool("slow", { delay_ms = 30 }, { progress = true })
  say("slow", e == nil and #notes > 0)
  r, e = s:prompts_get("greet", { name = "stdio" })
  say("prompt", e == nil and #r.messages)
  r, e = s:resources_read("luaload://readme")
  say("read", e == nil and #r.contents)
  s:close()
end
)";

TEST_F(McpStdioTest, AJourneyAgainstTheTargetDetectsTheModernEra) {
  auto r = run(kJourney);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LINE(r, "era=modern");
  EXPECT_LINE(r, "version=2026-07-28");
  EXPECT_LINE(r, "transport=stdio");
  EXPECT_LINE(r, "echo=over stdio");
  EXPECT_LINE(r, "slow=true");
  EXPECT_LINE(r, "prompt=1");
  EXPECT_LINE(r, "read=1");
  EXPECT_EQ(metric_count("mcp_process_starts"), 1);
  EXPECT_EQ(metric_count("mcp_process_exits"), 1);  // stopped by s:close()
}

TEST_F(McpStdioTest, AJourneyWorksInEveryLegacyRevision) {
  for (const char* v : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    auto r = run(kJourney, {"-i", "1", "-e", std::string("VERSION=") + v});
    ASSERT_EQ(r.exit_code, 0) << v << r.err;
    EXPECT_LINE(r, "era=legacy");
    EXPECT_LINE(r, std::string("version=") + v);
    EXPECT_LINE(r, "echo=over stdio");
    EXPECT_LINE(r, "slow=true");
    EXPECT_LINE(r, "read=1");
  }
}

TEST_F(McpStdioTest, ALegacyOnlyServerIsFoundByTheFailedProbe) {
  auto r = run(R"(
function default()
  local s = assert(mcp.spawn({ command = ll.env.LUALOAD, args = { "target", "--stdio", "--mcp-era", "legacy" } }))
  say("era", s.era)
  local res, e = s:call_tool("echo", { text = "x" })
  say("echo", res and res.content[1].text or tostring(e))
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LINE(r, "era=legacy");
  EXPECT_LINE(r, "echo=x");
  EXPECT_EQ(metric_count("mcp_version_fallbacks"), 1);
}

TEST_F(McpStdioTest, ListenStreamsDeliverListChangesInBothEras) {
  for (const char* v : {"", "2025-11-25"}) {
    auto r = run(R"(
function default()
  local s = assert(mcp.spawn(target_spec(), { protocol_version = version() }))
  local l = s:listen({ toolsListChanged = true })
  say("open", l:wait_open(5))
  s:call_tool("test_trigger_tool_change", {})
  for _ = 1, 100 do
    if #l.notifications > 0 then break end
    ll.sleep(0.01)
  end
  say("change", l.notifications[1] and l.notifications[1].method)
  l:close()
  say("ended", l:wait() == nil)
end
)",
                 {"-i", "1", "-e", std::string("VERSION=") + v});
    ASSERT_EQ(r.exit_code, 0) << v << r.err;
    EXPECT_LINE(r, "open=true");
    EXPECT_LINE(r, "change=notifications/tools/list_changed");
    EXPECT_LINE(r, "ended=true");
  }
}

constexpr const char* kDying = R"(
function default()
  local s = assert(mcp.spawn(target_spec(), { protocol_version = version(), reinitialize = ll.env.REINIT == "1" }))
  local pid = s.transport:pid()
  -- The server dies in the middle of a call.
  local task = ll.spawn(function() return s:call_tool("slow", { delay_ms = 2000 }) end)
  ll.sleep(0.2)
  os.execute("kill -9 " .. pid)
  task:wait()
  local e = task.results[2]
  say("kind", e and e.kind)
  say("signal", e and e.exit and e.exit.signal)
  say("stderr", e and e.stderr:find("serving MCP", 1, true) ~= nil)
  local r, e2 = s:call_tool("echo", { text = "next" })
  say("next", r and r.content[1].text or (e2 and e2.kind))
  say("restarts", s.transport.restarts)
end
)";

TEST_F(McpStdioTest, AServerThatDiesIsAProcessErrorWithItsSignalAndStderr) {
  auto r = run(kDying);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LINE(r, "kind=process");
  EXPECT_LINE(r, "signal=9");
  EXPECT_LINE(r, "stderr=true");
  EXPECT_LINE(r, "next=process");
  EXPECT_LINE(r, "restarts=0");
  EXPECT_EQ(metric_count("mcp_process_exits"), 1);
}

TEST_F(McpStdioTest, WithReinitializeADeadServerIsRestartedInBothEras) {
  for (const char* v : {"", "2025-11-25"}) {
    auto r = run(kDying, {"-i", "1", "-e", "REINIT=1", "-e", std::string("VERSION=") + v});
    ASSERT_EQ(r.exit_code, 0) << v << r.err;
    EXPECT_LINE(r, "kind=process");
    EXPECT_LINE(r, "next=next");
    EXPECT_LINE(r, "restarts=1");
    EXPECT_EQ(metric_count("mcp_process_starts"), 2);
  }
}

TEST_F(McpStdioTest, ARequestWithoutAnswerInTimeIsCancelledAndFailsAsATimeout) {
  auto r = run(R"(
function default()
  local s = assert(mcp.spawn(target_spec(), { protocol_version = version() }))
  local started = ll.now()
  local res, e = s:call_tool("slow", { delay_ms = 3000 }, { timeout = 0.3 })
  say("kind", e and e.kind)
  say("code", e and e.error_code)
  say("quick", ll.now() - started < 2000)
  res, e = s:call_tool("echo", { text = "still there" })
  say("echo", res and res.content[1].text or tostring(e))
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LINE(r, "kind=http");
  EXPECT_LINE(r, "code=1050");
  EXPECT_LINE(r, "quick=true");
  EXPECT_LINE(r, "echo=still there");
}

TEST_F(McpStdioTest, ARequestFromWhereTheVuCannotWaitRaisesBeforeAnythingIsSent) {
  auto r = run(R"(
function default()
  local s = assert(mcp.spawn(target_spec()))
  local before = s.transport.pipe.next_id
  table.sort({ 2, 1 }, function(a, b)
    local ok, err = pcall(s.call_tool, s, "echo", { text = "x" })
    say("raised", not ok and err:find("cannot wait here", 1, true) ~= nil)
    return a < b
  end)
  say("nothing sent", s.transport.pipe.next_id == before)
  local res, e = s:call_tool("echo", { text = "fine" })
  say("echo", res and res.content[1].text or tostring(e))
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LINE(r, "raised=true");
  EXPECT_LINE(r, "nothing sent=true");
  EXPECT_LINE(r, "echo=fine");
}

TEST_F(McpStdioTest, AProcessPerVuOrOneSharedPerWorker) {
  constexpr const char* kPids = R"(
local s
function default()
  s = s or assert(mcp.spawn({ command = ll.env.LUALOAD, args = { "target", "--stdio" }, shared = ll.env.SHARED == "1" }))
  local r, e = s:call_tool("echo", { text = "x" })
  assert(e == nil, tostring(e))
  print("pid=" .. s.transport:pid())
end
)";
  auto count_pids = [](const std::string& out) {
    std::istringstream lines(out);
    std::set<std::string> pids;
    for (std::string l; std::getline(lines, l);) {
      if (l.rfind("pid=", 0) == 0) pids.insert(l);
    }
    return pids.size();
  };
  auto per_vu = run(kPids, {"-u", "4", "-i", "8", "--threads", "1"});
  ASSERT_EQ(per_vu.exit_code, 0) << per_vu.err;
  EXPECT_EQ(count_pids(per_vu.out), 4u);
  auto shared = run(kPids, {"-u", "4", "-i", "8", "--threads", "1", "-e", "SHARED=1"});
  ASSERT_EQ(shared.exit_code, 0) << shared.err;
  EXPECT_EQ(count_pids(shared.out), 1u);
}

TEST_F(McpStdioTest, CtrlCLeavesNoServerProcessBehind) {
  auto path = dir_.write_file("script.lua", std::string(kPrelude) + R"(
local s
function default()
  s = s or assert(mcp.spawn(target_spec()))
  s:call_tool("slow", { delay_ms = 50 })
end
)");
  BackgroundProcess run;
  std::string error;
  ASSERT_TRUE(run.start({LUALOAD_BINARY, "run", path.string(), "--quiet", "-u", "3", "-d", "60s", "-e",
                         std::string("LUALOAD=") + LUALOAD_BINARY},
                        dir_.path() / "run.log", &error))
      << error;
  std::vector<pid_t> servers;
  for (int i = 0; i < 300 && servers.size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    servers = children_of(run.pid());
  }
  ASSERT_EQ(servers.size(), 3u) << read_text(dir_.path() / "run.log");
  ::kill(run.pid(), SIGINT);
  for (int i = 0; i < 500 && run.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(run.running());
  EXPECT_EQ(WEXITSTATUS(run.wait_status()), 105);
  for (pid_t pid : servers) EXPECT_FALSE(alive(pid)) << "server " << pid << " outlived luaload";
}

TEST_F(McpStdioTest, AKilledLualoadTakesItsServersWithIt) {
  auto path = dir_.write_file("script.lua", std::string(kPrelude) + R"(
local s
function default()
  s = s or assert(mcp.spawn(target_spec()))
  s:call_tool("slow", { delay_ms = 50 })
end
)");
  BackgroundProcess run;
  std::string error;
  ASSERT_TRUE(run.start({LUALOAD_BINARY, "run", path.string(), "--quiet", "-u", "2", "-d", "60s", "-e",
                         std::string("LUALOAD=") + LUALOAD_BINARY},
                        dir_.path() / "run.log", &error))
      << error;
  std::vector<pid_t> servers;
  for (int i = 0; i < 300 && servers.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    servers = children_of(run.pid());
  }
  ASSERT_EQ(servers.size(), 2u);
  ::kill(run.pid(), SIGKILL);
  for (int i = 0; i < 250 && run.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  bool all_gone = false;
  for (int i = 0; i < 250 && !all_gone; ++i) {
    all_gone = true;
    for (pid_t pid : servers) all_gone = all_gone && !alive(pid);
    if (!all_gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(all_gone) << "PR_SET_PDEATHSIG should have killed the servers";
}

// The TypeScript SDK v2 stdio server (tests/node/servers/stdio.mjs).
class McpStdioSdkTest : public McpStdioTest {
 protected:
  void SetUp() override {
    std::string why;
    ASSERT_TRUE(node_tools::available(&why)) << why;
  }

  std::vector<std::string> sdk_env(const char* mode) {
    auto command = node_tools::stdio_server_command(mode);
    std::vector<std::string> env = {"-i", "1", "-e", "NODE=" + command[0]};
    std::string args;
    for (size_t i = 1; i < command.size(); ++i) args += (i > 1 ? "\x1f" : "") + command[i];
    env.insert(env.end(), {"-e", "NODE_ARGS=" + args});
    return env;
  }
};

constexpr const char* kSdkJourney = R"(
local function sdk_spec()
  local args = {}
  for a in (ll.env.NODE_ARGS .. "\31"):gmatch("(.-)\31") do args[#args + 1] = a end
  return { command = ll.env.NODE, args = args }
end
function default()
  local s, err = mcp.spawn(sdk_spec(), { capabilities = { elicitation = { form = {} } },
    on_request = function(m)
      if m.method == "elicitation/create" then return { action = "accept", content = { confirm = true } } end
    end })
  assert(s, tostring(err))
  say("era", s.era)
  local r, e = s:call_tool("add", { a = 2, b = 3 })
  say("add", r and r.content[1].text or tostring(e))
  local notes
  r, e, notes = s:call_tool("slow", { steps = 3, delay_ms = 10 }, { progress = true })
  say("progress", e == nil and #notes)
  r, e = s:call_tool("confirm", { message = "go?" })
  say("confirm", r and r.content[1].text or tostring(e))
  s:close()
end
)";

TEST_F(McpStdioSdkTest, TheSdkServerInModernOnlyModeServesTheModernEra) {
  auto r = run(kSdkJourney, sdk_env("modern"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LINE(r, "era=modern");
  EXPECT_LINE(r, "add=5");
  EXPECT_LINE(r, "progress=3");
  EXPECT_LINE(r, "confirm=confirmed");
}

TEST_F(McpStdioSdkTest, TheSdkServerInLegacyModeFallsBackToInitialize) {
  auto r = run(kSdkJourney, sdk_env("legacy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LINE(r, "era=legacy");
  EXPECT_LINE(r, "add=5");
  EXPECT_LINE(r, "progress=3");
  EXPECT_LINE(r, "confirm=confirmed");  // elicitation/create as a server request, answered on stdin
}

}  // namespace
}  // namespace luaload::test
