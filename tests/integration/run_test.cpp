// SPDX-License-Identifier: MIT
// `luaload run` end to end: the built binary against a real nginx on 127.0.0.1 (HTTP and TLS listeners), checking
// exit codes, the summary and the --summary-export JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/nginx_fixture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_fixtures.hpp"

namespace luaload::test {
namespace {

using nlohmann::json;

class RunTest : public NginxTest {
 protected:
  NginxOptions options() override {
    NginxOptions o;
    o.tls_cert_file = tls_files().server_cert;
    o.tls_key_file = tls_files().server_key;
    return o;
  }

  ProcessResult luaload(const std::string& script, std::vector<std::string> args) {
    auto path = dir_.write_file("script.lua", script);
    std::vector<std::string> argv = {LUALOAD_BINARY, "run", path.string(), "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, std::chrono::milliseconds(60'000));
  }

  json summary() { return read_json_file(dir_.path() / "summary.json"); }

  std::string summary_path() const { return (dir_.path() / "summary.json").string(); }

  TempDir dir_;
};

constexpr const char* kGetScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
options = { thresholds = { http_req_failed = { "rate<0.01" }, http_req_duration = { "p(95)<5000" } } }
function default()
  local res = http.get(ll.env.URL)
  ll.check(res, { ["status is 200"] = function(r) return r.status == 200 end })
end
)";

TEST_F(RunTest, PassingThresholdsExitZeroAndTheSummaryJsonCountsEveryRequest) {
  auto r = luaload(kGetScript, {"-u", "2", "-i", "50", "-e", "URL=" + nginx().url("/"), "--summary-export",
                                summary_path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("http_reqs"), std::string::npos);
  json s = summary();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["metrics"]["http_reqs"]["values"]["count"].get<double>(), 50);
  EXPECT_EQ(s["metrics"]["iterations"]["values"]["count"].get<double>(), 50);
  EXPECT_EQ(s["metrics"]["checks"]["values"]["passes"].get<double>(), 50);
  EXPECT_EQ(s["metrics"]["http_req_failed"]["values"]["passes"].get<double>(), 0);
}

TEST_F(RunTest, AFailingThresholdExits99) {
  auto r = luaload(kGetScript, {"-u", "1", "-i", "10", "-e", "URL=" + nginx().url("/status/503")});
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  EXPECT_NE(r.out.find("rate<0.01"), std::string::npos) << r.out;
}

TEST_F(RunTest, ADurationRunStopsOnTime) {
  auto start = std::chrono::steady_clock::now();
  auto r = luaload(kGetScript, {"-u", "2", "-d", "1s", "-e", "URL=" + nginx().url("/")});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(RunTest, TheVusGaugeCountsEveryWorkersVusAndKeepsItsLastRunningValue) {
  auto r = luaload(R"(
local ll = require("luaload")
function default() ll.sleep(0.05) end
)", {"-u", "4", "-d", "2500ms", "--threads", "2", "--summary-export", summary_path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Every tick's sample is the sum over both workers (never one worker's half), and the run's end is not a sample.
  EXPECT_EQ(summary()["metrics"]["vus"]["values"], (json{{"value", 4.0}, {"min", 4.0}, {"max", 4.0}}));
}

TEST_F(RunTest, TlsWithTheTestCaVerifies) {
  auto r = luaload(kGetScript, {"-i", "5", "-e", "URL=" + nginx().https_url("/"), "--ca", tls_files().ca_cert});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(RunTest, TlsWithoutTheCaFailsVerificationAndTheThreshold) {
  auto r = luaload(kGetScript, {"-i", "3", "-e", "URL=" + nginx().https_url("/"), "--summary-export",
                                summary_path()});
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  json s = summary();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["metrics"]["http_req_failed"]["values"]["passes"].get<double>(), 3);
}

TEST_F(RunTest, InsecureSkipsVerification) {
  auto r = luaload(kGetScript, {"-i", "3", "-e", "URL=" + nginx().https_url("/"), "--insecure"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(RunTest, ASyntaxErrorExits107WithFileAndLine) {
  auto r = luaload("local x = \nfunction default(", {});
  EXPECT_EQ(r.exit_code, 107) << r.out << r.err;
  EXPECT_NE(r.err.find("script.lua:"), std::string::npos) << r.err;
}

TEST_F(RunTest, ANetworkCallInInitCodeExits107) {
  auto r = luaload("local http = require('luaload.http')\nhttp.get('http://127.0.0.1:1/')\nfunction default() end",
                   {});
  EXPECT_EQ(r.exit_code, 107) << r.out << r.err;
  EXPECT_NE(r.err.find("init"), std::string::npos) << r.err;
}

TEST_F(RunTest, ABadFlagExits104) {
  auto r = luaload(kGetScript, {"--no-such-flag"});
  EXPECT_EQ(r.exit_code, 104) << r.err;
  auto d = luaload(kGetScript, {"-d", "soon"});
  EXPECT_EQ(d.exit_code, 104) << d.err;
  EXPECT_NE(d.err.find("soon"), std::string::npos) << d.err;
}

// A typo in a threshold's metric is a 104 before the first iteration (k6 does the same), not a 99 after the whole
// test: the 1 h duration shows the run never started.
TEST_F(RunTest, AThresholdOnAnUnknownMetricExits104BeforeTheRun) {
  auto r = luaload("local ll = require('luaload')\n"
                   "options = { thresholds = { http_req_duratoin = { 'p(95)<100' } } }\n"
                   "function default() ll.sleep(0.1) end",
                   {"-d", "1h"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("invalid threshold defined on http_req_duratoin; reason: no metric name \"http_req_duratoin\" "
                       "found"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("iterations"), std::string::npos) << r.out;
}

TEST_F(RunTest, ThresholdsOnMetricsDefinedByInitCodeAndRequiredModulesAreAccepted) {
  auto r = luaload("local ll = require('luaload')\n"
                   "require('luaload.oauth')\n"
                   "local waits = ll.metrics.Trend('my_waits', true)\n"
                   "options = { thresholds = { my_waits = { 'p(95)<1000' }, oauth_logins = { 'count>=0' } } }\n"
                   "function default() waits:add(5) end",
                   {"-i", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("my_waits"), std::string::npos) << r.out;
}

TEST_F(RunTest, AThresholdOnACustomMetricTheInitCodeNeverDefinesExits104) {
  auto r = luaload("local ll = require('luaload')\n"
                   "options = { thresholds = { my_waits = { 'p(95)<1000' } } }\n"
                   "function default() ll.metrics.Trend('my_waits', true) end",
                   {"-i", "1"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("no metric name \"my_waits\" found"), std::string::npos) << r.err;
}

TEST_F(RunTest, AbortExits108) {
  auto r = luaload("local ll = require('luaload')\nfunction default() ll.abort('enough') end", {"-d", "5s"});
  EXPECT_EQ(r.exit_code, 108) << r.out << r.err;
  EXPECT_NE(r.err.find("enough"), std::string::npos) << r.err;
}

TEST_F(RunTest, AbortInInitCodeExits108) {
  auto r = luaload("local ll = require('luaload')\nll.abort('no config')\nfunction default() end", {});
  EXPECT_EQ(r.exit_code, 108) << r.out << r.err;
  EXPECT_NE(r.err.find("test aborted by the script: no config"), std::string::npos) << r.err;
}

TEST_F(RunTest, AnErrorInInitCodeExits107) {
  auto r = luaload("error('broken config')\nfunction default() end", {});
  EXPECT_EQ(r.exit_code, 107) << r.out << r.err;
  EXPECT_NE(r.err.find("broken config"), std::string::npos) << r.err;
}

TEST_F(RunTest, IterationErrorsAreCountedAndTheRunGoesOn) {
  auto r = luaload("function default() error('boom') end", {"-i", "20", "--summary-export", summary_path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  json s = summary();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["metrics"]["iterations"]["values"]["count"].get<double>(), 20);
  EXPECT_NE(r.out.find("20 times"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace luaload::test
