// SPDX-License-Identifier: MIT
// The runtime primitives that only a whole run shows: ll.shared across worker threads, and ll.on_vu_end hooks at
// the end of a run (normal end, Ctrl-C, a hanging hook, a failing hook, a ramp-down to zero), counted as requests
// at a server of the test's own.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "integration/target_script_test.hpp"
#include "support/server_thread.hpp"

namespace luaload::test {
namespace {

class RuntimePrimitivesTest : public TargetScriptTest {
 protected:
  RuntimePrimitivesTest() : TargetScriptTest("local ll = require('luaload')\nlocal http = require('luaload.http')\n") {}
  void SetUp() override {
    start_target({});
    counter_ = std::make_unique<ServerThread>(std::vector<Reply>{{Reply::Action::Respond, http_response(200, "ok")}});
    counter_->start();
  }
  void TearDown() override {
    counter_.reset();
    TargetScriptTest::TearDown();
  }

  // Runs `body` with ll.env.URL pointing at the counting server; stops it, so requests() can be read.
  ProcessResult run_counted(const std::string& body, std::vector<std::string> extra) {
    extra.insert(extra.end(), {"-e", "URL=" + counter_->server().url("/")});
    auto r = run(body, extra);
    counter_->stop();
    return r;
  }

  size_t requests() const { return counter_->server().requests(); }

 public:
  using TargetScriptTest::dir_;
  std::unique_ptr<ServerThread> counter_;
};

constexpr const char* kEndHookScript = R"lua(
  function default()
    if ll.vu.iteration == 0 then
      ll.on_vu_end(function() http.get(ll.env.URL .. "end") end)
    end
    ll.sleep(0.05)
  end
  function teardown() http.get(ll.env.URL .. "teardown") end
)lua";

// Two VUs on two worker threads (each worker takes one VU of the scenario): what VU 1 stores, VU 2 reads.
TEST_F(RuntimePrimitivesTest, AValueStoredInOneWorkerIsReadInAnother) {
  auto r = run(R"lua(
    options = { scenarios = { s = { executor = "per-vu-iterations", vus = 2, iterations = 1 } } }
    function default()
      if ll.vu.id == 1 then
        ll.shared.set("era", "modern from vu 1")
        return
      end
      local deadline = ll.now() + 5000
      while ll.shared.get("era") == nil and ll.now() < deadline do ll.sleep(0.01) end
      print("seen=" .. tostring(ll.shared.get("era")))
    end
  )lua", {"--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  LUALOAD_EXPECT_LINE(r, "seen=modern from vu 1");
}

TEST_F(RuntimePrimitivesTest, ExecutableNamesTheLualoadBinaryThatRunsTheScript) {
  auto r = run(R"lua(
    function default()
      print("executable=" .. ll.executable)
      local out = io.popen("'" .. ll.executable .. "' version"):read("*a")
      print("version_runs=" .. tostring(out:find("luaload") ~= nil))
    end
  )lua");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  LUALOAD_EXPECT_LINE(r, "executable=" + std::filesystem::canonical(LUALOAD_BINARY).string());
  LUALOAD_EXPECT_LINE(r, "version_runs=true");
}

TEST_F(RuntimePrimitivesTest, EveryVuOfEveryWorkerRunsItsEndHookOnceBeforeTeardown) {
  auto r = run_counted(kEndHookScript, {"-u", "4", "-d", "1s", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(requests(), 5u);  // four hooks, then teardown
  EXPECT_NE(counter_->server().last_request_head().find("GET /teardown"), std::string::npos)
      << counter_->server().last_request_head();
}

TEST_F(RuntimePrimitivesTest, VusRampedDownToZeroAtTheEndOfTheirScenarioRunTheirHooks) {
  auto r = run_counted(R"lua(
    options = { scenarios = { ramp = { executor = "ramping-vus", startVUs = 0, gracefulRampDown = "0s",
                                       stages = { { duration = "1s", target = 3 }, { duration = "1s", target = 0 } } } } }
  )lua" + std::string(kEndHookScript), {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(requests(), 4u);
}

TEST_F(RuntimePrimitivesTest, AHangingHookIsCutAtVuEndTimeoutAndTheRunGoesOn) {
  const auto started = std::chrono::steady_clock::now();
  auto r = run_counted(R"lua(
    options = { vuEndTimeout = "500ms" }
    ll.on_vu_end(function()
      if ll.vu.id == 1 then ll.sleep(30) end
      http.get(ll.env.URL .. "end")
    end)
    function default() end
  )lua", {"-u", "2", "-i", "2"});
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(seconds, 10);
  EXPECT_EQ(requests(), 1u);
  EXPECT_NE(r.err.find("ll.on_vu_end: end hooks still running after vuEndTimeout (500 ms) were interrupted"),
            std::string::npos) << r.err;
}

TEST_F(RuntimePrimitivesTest, AnErrorInAHookIsReportedLikeAnIterationErrorAndTheOthersRun) {
  auto r = run_counted(R"lua(
    ll.on_vu_end(function() error("the session would not close") end)
    ll.on_vu_end(function() http.get(ll.env.URL .. "end") end)
    function default() end
  )lua", {"-u", "2", "-i", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(requests(), 2u);
  EXPECT_NE(r.err.find("iteration error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the session would not close"), std::string::npos) << r.err;
}

// Starts `luaload run` on prelude + `body` in the background (with ll.env.URL and --summary-export), waits 1.5 s,
// sends SIGINT `signals` times (300 ms apart), and returns its exit code (-1 when it had to be killed).
int run_interrupted(RuntimePrimitivesTest& test, const std::string& body, std::vector<std::string> args,
                    int signals) {
  auto path = test.dir_.write_file("script.lua",
                                   "local ll = require('luaload')\nlocal http = require('luaload.http')\n" + body);
  std::vector<std::string> argv = {LUALOAD_BINARY, "run", path.string(), "--quiet", "-e",
                                   "URL=" + test.counter_->server().url("/"), "--summary-export",
                                   (test.dir_.path() / "summary.json").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  BackgroundProcess run;
  std::string error;
  EXPECT_TRUE(run.start(argv, test.dir_.path() / "run.log", &error)) << error;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  for (int i = 0; i < signals; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(run.pid(), SIGINT);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (run.running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (run.running()) {
    run.stop(SIGKILL, std::chrono::milliseconds(1000));
    return -1;
  }
  test.counter_->stop();
  return WIFEXITED(run.wait_status()) ? WEXITSTATUS(run.wait_status()) : -1;
}

TEST_F(RuntimePrimitivesTest, ACtrlCMidRunStillRunsTheHooksAndWritesTheSummary) {
  EXPECT_EQ(run_interrupted(*this, kEndHookScript, {"-u", "3", "-d", "60s"}, 1), 105)
      << read_text(dir_.path() / "run.log");
  EXPECT_EQ(requests(), 4u);  // three hooks and teardown
  EXPECT_TRUE(read_json_file(dir_.path() / "summary.json").contains("metrics"));
}

TEST_F(RuntimePrimitivesTest, ASecondCtrlCDuringAHangingHookEndsTheRunWithItsSummary) {
  EXPECT_EQ(run_interrupted(*this, R"lua(
    options = { vuEndTimeout = "60s" }
    ll.on_vu_end(function() ll.sleep(60) end)
    function default() end
  )lua", {"-u", "1", "-i", "1"}, 2), 105) << read_text(dir_.path() / "run.log");
  EXPECT_TRUE(read_json_file(dir_.path() / "summary.json").contains("metrics"));
}

}  // namespace
}  // namespace luaload::test
