// SPDX-License-Identifier: MIT
// Streams end to end: `luaload run` against a `luaload target` process, both the built binary.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

using namespace std::chrono_literals;

class StreamRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(target_.start({LUALOAD_BINARY, "target", "--listen", "127.0.0.1:0"}, dir_.path() / "target.log",
                              &error))
        << error;
    const std::string prefix = "luaload target listening on ";
    for (int i = 0; i < 100 && url_.empty(); ++i) {
      std::this_thread::sleep_for(50ms);
      std::string log = read_text(dir_.path() / "target.log");
      auto at = log.find(prefix);
      auto end = log.find('\n', at);
      if (at != std::string::npos && end != std::string::npos) url_ = log.substr(at + prefix.size(), end - at - prefix.size());
    }
    ASSERT_FALSE(url_.empty()) << read_text(dir_.path() / "target.log");
  }

  std::vector<std::string> run_argv(const std::string& script, std::vector<std::string> extra) {
    auto path = dir_.write_file("script.lua", script);
    std::vector<std::string> argv = {LUALOAD_BINARY, "run", path.string(), "--quiet", "-e", "TARGET=" + url_,
                                     "--summary-export", (dir_.path() / "summary.json").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  TempDir dir_;
  BackgroundProcess target_;
  std::string url_;
};

constexpr const char* kSpawnScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
options = { thresholds = { http_req_failed = { "rate<0.01" }, stream_events = { "count>=12" } } }
function default()
  local reader = http.sse(ll.env.TARGET .. "/sse?events=1000&interval=10ms")
  local listener = ll.spawn(function()
    local n = 0
    for ev in reader:events() do
      n = n + 1
      if n == 3 then break end
    end
    return n
  end)
  for i = 1, 2 do
    ll.check(http.get(ll.env.TARGET .. "/health"), { ["health 200"] = function(r) return r.status == 200 end })
  end
  ll.check(listener:wait(), { ["three events"] = function(n) return n == 3 end })
  reader:close()
end
)";

TEST_F(StreamRunTest, VusReadSseStreamsInTasksWhileMakingRequestsAndTheSummaryHasStreamMetrics) {
  auto r = run_process(run_argv(kSpawnScript, {"-u", "2", "-i", "4"}), 20'000ms);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto summary = read_json_file(dir_.path() / "summary.json");
  ASSERT_FALSE(summary.is_discarded());
  const auto& metrics = summary["metrics"];
  EXPECT_EQ(metrics["http_reqs"]["values"]["count"], 12);  // 4 streams + 8 health checks
  EXPECT_EQ(metrics["checks"]["values"]["fails"], 0);
  EXPECT_GE(metrics["stream_events"]["values"]["count"].get<double>(), 12.0);
  EXPECT_EQ(metrics["stream_duration"]["type"], "trend");
  EXPECT_EQ(metrics["stream_time_to_first_event"]["contains"], "time");
  EXPECT_GT(metrics["stream_bytes"]["values"]["count"].get<double>(), 0.0);
  EXPECT_TRUE(target_.running()) << "the target must survive clients closing streams early";
}

constexpr const char* kDyingServerScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
function default()
  local reader = http.sse(ll.env.TARGET .. "/sse?events=100000&interval=20ms")
  print("open " .. reader.status)
  io.stdout:flush()
  for ev in reader:events() do end
  print("ended error_code=" .. tostring(reader.error_code))
end
)";

TEST_F(StreamRunTest, ATargetDyingMidStreamEndsTheReaderWithAnErrorInsteadOfHanging) {
  BackgroundProcess run;
  std::string error;
  ASSERT_TRUE(run.start(run_argv(kDyingServerScript, {"-i", "1"}), dir_.path() / "run.log", &error)) << error;
  for (int i = 0; i < 100 && read_text(dir_.path() / "run.log").find("open 200") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(read_text(dir_.path() / "run.log").find("open 200"), std::string::npos) << read_text(dir_.path() / "run.log");
  target_.stop(SIGKILL, 2000ms);
  for (int i = 0; i < 200 && run.running(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_FALSE(run.running()) << "luaload run hangs on a dead stream";
  const std::string log = read_text(dir_.path() / "run.log");
  EXPECT_TRUE(log.find("ended error_code=1403") != std::string::npos ||
              log.find("ended error_code=1220") != std::string::npos)
      << log;
}

}  // namespace
}  // namespace luaload::test
