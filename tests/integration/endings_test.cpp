// SPDX-License-Identifier: MIT
// Every file luaload promises (--summary-export, --out, --junit) is complete under its name whatever ends the run:
// the end of the test, Ctrl-C once or twice, an abortOnFail threshold, ll.abort(), a failing setup().
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "integration/outputs_fixture.hpp"

namespace luaload::test {
namespace {

constexpr const char* kSlowScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
function default()
  http.get(ll.env.URL)
  ll.check(true, { ["always"] = function() return true end })
  ll.sleep(ll.env.PAUSE and tonumber(ll.env.PAUSE) or 0.05)
end
)";

class EndingsTest : public OutputsTest {
 protected:
  // Starts a long run in the background with every output flag, then waits until it has made requests.
  void start_long_run(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-u", "2", "-d", "60s", "-e", "URL=" + nginx().url("/")};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const auto& flag : output_flags()) args.push_back(flag);
    std::string error;
    ASSERT_TRUE(run_.start(argv(kSlowScript, args), dir_.path() / "run.log", &error)) << error;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }

  // Waits (bounded) for the run to exit; its exit code, -1 when it had to be killed.
  int wait_exit() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (run_.running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (run_.running()) {
      run_.stop(SIGKILL, std::chrono::milliseconds(1000));
      return -1;
    }
    return WIFEXITED(run_.wait_status()) ? WEXITSTATUS(run_.wait_status()) : -1;
  }

  BackgroundProcess run_;
};

TEST_F(EndingsTest, ANormalEndWritesEveryFile) {
  auto r = luaload(kSlowScript, [&] {
    std::vector<std::string> args = {"-u", "1", "-i", "3", "-e", "URL=" + nginx().url("/")};
    for (const auto& flag : output_flags()) args.push_back(flag);
    return args;
  }());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_file_complete();
}

TEST_F(EndingsTest, OneCtrlCWritesEveryFileAndExits105) {
  start_long_run();
  ::kill(run_.pid(), SIGINT);
  EXPECT_EQ(wait_exit(), 105) << read_text(dir_.path() / "run.log");
  expect_every_file_complete();
}

TEST_F(EndingsTest, ASecondCtrlCStillWritesEveryFileAndExits105) {
  start_long_run({"-e", "PAUSE=30"});
  ::kill(run_.pid(), SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(run_.pid(), SIGINT);
  EXPECT_EQ(wait_exit(), 105) << read_text(dir_.path() / "run.log");
  expect_every_file_complete();
  // Both VUs were in their 30 s sleep: the second Ctrl-C cut two iterations (issue 10, defect 5: it said 0).
  auto summary = read_json_file(path("summary.json"));
  EXPECT_EQ(summary["state"]["interruptedIterations"], 2) << summary["state"].dump();
  EXPECT_NE(read_text(dir_.path() / "run.log").find("2 iterations interrupted"), std::string::npos);
}

TEST_F(EndingsTest, AnAbortOnFailThresholdWritesEveryFileAndExits99) {
  const std::string script = std::string(kSlowScript) +
                             "options = { thresholds = { http_reqs = { { threshold = 'count<3', abortOnFail = true } "
                             "} } }\n";
  std::vector<std::string> args = {"-u", "2", "-d", "30s", "-e", "URL=" + nginx().url("/")};
  for (const auto& flag : output_flags()) args.push_back(flag);
  auto r = luaload(script, args);
  EXPECT_EQ(r.exit_code, 99) << r.err;
  expect_every_file_complete();
}

TEST_F(EndingsTest, AScriptAbortWritesEveryFileAndExits108) {
  std::vector<std::string> args = {"-u", "1", "-d", "30s"};
  for (const auto& flag : output_flags()) args.push_back(flag);
  auto r = luaload("local ll = require('luaload')\nfunction default() ll.abort('enough') end", args);
  EXPECT_EQ(r.exit_code, 108) << r.err;
  expect_every_file_complete();
}

TEST_F(EndingsTest, AFailingSetupWritesEveryFileAndExits107) {
  std::vector<std::string> args = {"-u", "1", "-d", "30s"};
  for (const auto& flag : output_flags()) args.push_back(flag);
  auto r = luaload("function setup() error('no test data') end\nfunction default() end", args);
  EXPECT_EQ(r.exit_code, 107) << r.err;
  expect_every_file_complete();
}

}  // namespace
}  // namespace luaload::test
