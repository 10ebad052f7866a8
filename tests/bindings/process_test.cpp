// SPDX-License-Identifier: MIT
// luaload.process (bindings/process.cpp): spawning from a VU, lines both ways, the on_activity callback, exit and
// stderr, and who stops the child: the script, the garbage collector, the VU's retirement, the runtime's close.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <string>

#include "bindings/runtime_fixture.hpp"
#include "support/misbehaving_server.hpp"
#include "support/temp_dir.hpp"

namespace luaload::bindings::test {
namespace {

// Polls `cond` (a Lua expression) every 10 ms for up to 5 s; the binding itself never yields.
constexpr const char* kPrelude = R"(
local ll = require("luaload")
local process = require("luaload.process")
local function eventually(cond)
  for _ = 1, 500 do
    if cond() then return true end
    ll.sleep(0.01)
  end
  return false
end
local function write_pid(p)
  local f = assert(io.open(ll.env.PID_FILE, "w"))
  f:write(tostring(p:pid()))
  f:close()
end
)";

class ProcessBinding : public RuntimeTest {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void load_script(const std::string& body) {
    RuntimeConfig config;
    pid_file_ = dir_.path() / "pid";
    config.env["PID_FILE"] = pid_file_.string();
    load(std::string(kPrelude) + body, config);
  }

  pid_t written_pid() {
    std::ifstream in(pid_file_);
    pid_t pid = -1;
    in >> pid;
    return pid;
  }

  static bool gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

  std::string only_error() {
    auto errors = runtime_->take_script_errors();
    EXPECT_LE(errors.size(), 1u);
    return errors.empty() ? "" : errors[0].message;
  }

  luaload::test::TempDir dir_;
  std::filesystem::path pid_file_;
};

TEST_F(ProcessBinding, LinesGoInAndComeBackWithTheCallbackAnnouncingThem) {
  load_script(R"(
function default()
  local seen = {}
  local p = assert(process.spawn({ command = "/bin/sh", args = { "-c", "read -r l; echo \"got $l\"; exit 4" } },
    false, function(what) seen[#seen + 1] = what end))
  assert(p:write("hi") == "queued")
  assert(eventually(function() return p:exit() ~= nil end), "no exit")
  local line, overlong = p:read()
  assert(line == "got hi" and overlong == false, tostring(line))
  assert(p:read() == nil)
  local exit = p:exit()
  assert(exit.status == 4 and exit.signal == 0 and exit.requested == false)
  assert(seen[1] == "lines" and seen[#seen] == "exit", table.concat(seen, ","))
  p:close()
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(ProcessBinding, ACommandThatCannotStartIsNilAndAMessage) {
  load_script(R"(
function default()
  local p, message, code = process.spawn({ command = "luaload-no-such-command" }, false, function() end)
  assert(p == nil)
  assert(message == "cannot start luaload-no-such-command: No such file or directory", message)
  assert(code == 2)
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(ProcessBinding, StderrIsKeptForErrorMessages) {
  load_script(R"(
function default()
  local p = assert(process.spawn({ command = "/bin/sh", args = { "-c", "echo 'boom: bad config' >&2; exit 1" },
    stderr_bytes = 64 }, false, function() end))
  assert(eventually(function() return p:exit() ~= nil end))
  assert(eventually(function() return p:stderr() == "boom: bad config\n" end), p:stderr())
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(ProcessBinding, AFullWriteQueueSaysSoAndTheCallbackSaysWhenThereIsRoom) {
  load_script(R"(
function default()
  local writable = 0
  local p = assert(process.spawn({ command = "/bin/sh", args = { "-c", "sleep 0.3; cat > /dev/null" },
    max_write_bytes = 4096 }, false, function(what) if what == "writable" then writable = writable + 1 end end))
  local line = string.rep("x", 1000)
  local results = {}
  for i = 1, 200 do
    local r = p:write(line)
    results[r] = (results[r] or 0) + 1
    if r == "full" then break end
  end
  assert(results.full == 1, "the queue filled up")
  assert(eventually(function() return writable > 0 end), "writable came")
  assert(p:write(line) == "queued")
  p:kill()
  assert(eventually(function() return p:exit() ~= nil end))
  assert(p:exit().signal == 15 and p:exit().requested == true)
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(ProcessBinding, MisuseRaises) {
  load_script(R"(
function default()
  local ok, err = pcall(process.spawn, { command = 42 }, false, function() end)
  assert(not ok and err:find("command must be a string"), err)
  ok, err = pcall(process.spawn, { command = "sh", args = { {} } }, false, function() end)
  assert(not ok and err:find("args%[1%] must be a string"), err)
  local p = assert(process.spawn({ command = "cat" }, false, function() end))
  ok, err = pcall(p.write, p, "a\nb")
  assert(not ok and err:find("cannot contain a newline"), err)
  p:close()
  assert(p:write("late") == "closed")
  assert(p:closed())
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(ProcessBinding, AProcessOfAVuLivesAcrossIterationsAndStopsWhenTheVuRetires) {
  load_script(R"(
local p
function default()
  if p == nil then
    p = assert(process.spawn({ command = "cat" }, false, function() end))
    write_pid(p)
  end
  assert(p:write("ping") == "queued")
  assert(eventually(function() return p:read() == "ping" end))
end
)");
  VuBody& body = vu(1);
  EXPECT_EQ(run_one(body, 0), IterationOutcome::Completed);
  EXPECT_EQ(run_one(body, 1), IterationOutcome::Completed);
  expect_no_script_errors();
  const pid_t pid = written_pid();
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(gone(pid));
  vus_.clear();  // the VU retires
  EXPECT_TRUE(luaload::test::run_until(&loop_, [pid] { return gone(pid); }));
}

TEST_F(ProcessBinding, ASharedProcessOutlivesTheVuThatStartedItUntilTheRuntimeCloses) {
  load_script(R"(
function default()
  local p = assert(process.spawn({ command = "sleep", args = { "30" }, stop_timeout_ms = 100 }, true,
    function() end))
  write_pid(p)
  shared_process = p
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  const pid_t pid = written_pid();
  vus_.clear();
  luaload::test::run_until(
      &loop_, [] { return false; }, 100);
  EXPECT_FALSE(gone(pid));
  bool closed = false;
  runtime_->close([&closed] { closed = true; });
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&closed] { return closed; }));
  EXPECT_TRUE(gone(pid));
  runtime_.reset();
}

TEST_F(ProcessBinding, AProcessTheScriptDroppedIsStoppedByTheCollector) {
  load_script(R"(
function default()
  do
    local p = assert(process.spawn({ command = "cat" }, false, function() end))
    write_pid(p)
  end
  collectgarbage()
  collectgarbage()
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  const pid_t pid = written_pid();
  EXPECT_TRUE(luaload::test::run_until(&loop_, [pid] { return gone(pid); }));
}

TEST_F(ProcessBinding, ClosingTheRuntimeStopsARunningProcessAndClosesEveryHandle) {
  load_script(R"(
local p
function default()
  p = assert(process.spawn({ command = "/bin/sh", args = { "-c", "trap '' TERM; exec sleep 30" },
    stop_timeout_ms = 50 }, false, function() end))
  write_pid(p)
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  const pid_t pid = written_pid();
  EXPECT_FALSE(gone(pid));
  // TearDown closes the runtime (SIGKILL after 2 x 50 ms) and checks uv_loop_close() == 0.
  bool closed = false;
  runtime_->close([&closed] { closed = true; });
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&closed] { return closed; }));
  EXPECT_TRUE(gone(pid));
  runtime_.reset();
}

TEST_F(ProcessBinding, AVuCannotStartProcessesWithoutBound) {
  load_script(R"(
local kept = {}
function default()
  for i = 1, 65 do
    kept[i] = assert(process.spawn({ command = "cat" }, false, function() end))
  end
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  EXPECT_NE(only_error().find("64 processes are running already for this VU"), std::string::npos);
}

TEST_F(ProcessBinding, AnErrorInTheCallbackIsAScriptError) {
  load_script(R"(
function default()
  local p = assert(process.spawn({ command = "/bin/sh", args = { "-c", "echo x" } }, false,
    function() error("callback failed") end))
  assert(eventually(function() return p:exit() ~= nil end))
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_NE(only_error().find("stdio process callback: "), std::string::npos);
}

TEST_F(ProcessBinding, RequireYieldableRefusesACBoundaryOnly) {
  load_script(R"(
function default()
  process.require_yieldable("mcp test")
  local refused
  table.sort({ 2, 1 }, function(a, b)
    local ok, err = pcall(process.require_yieldable, "mcp test")
    refused = not ok and err:find("mcp test cannot wait here", 1, true) ~= nil
    return a < b
  end)
  assert(refused, "a comparator cannot wait")
end
)");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(ProcessBinding, SpawningInTheInitContextRaises) {
  std::string error;
  RuntimeConfig config;
  runtime_ = WorkerRuntime::create(&loop_, 0, {"script.lua", R"(
local process = require("luaload.process")
process.spawn({ command = "cat" }, false, function() end)
function default() end
)"},
                                   config, &error);
  ASSERT_NE(runtime_, nullptr) << error;
  auto body = runtime_->create_vu(1, &error);
  EXPECT_EQ(body, nullptr);
  EXPECT_NE(error.find("mcp.spawn cannot be called in the init context"), std::string::npos) << error;
}

}  // namespace
}  // namespace luaload::bindings::test
