// SPDX-License-Identifier: MIT
// The HTML report, baselines, history and trend end to end: the built binary against nginx on 127.0.0.1.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/nginx_fixture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// No thresholds: the exit code is the comparison's alone.
constexpr const char* kScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
function default()
  local res = http.get(ll.env.URL, { tags = { name = "page" } })
  ll.check(res, { ["status is 200"] = function(r) return r.status == 200 end })
end
)";

class ReportTest : public NginxTest {
 protected:
  ProcessResult luaload(std::vector<std::string> args) {
    std::vector<std::string> argv = {LUALOAD_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, std::chrono::milliseconds(30'000));
  }
  ProcessResult run(const std::string& path, std::vector<std::string> extra) {
    const auto script = dir_.write_file("script.lua", kScript);
    std::vector<std::string> args = {"run", script.string(), "--quiet", "-u", "2", "-i", "40", "-e",
                                     "URL=" + nginx().url(path)};
    args.insert(args.end(), extra.begin(), extra.end());
    return luaload(args);
  }
  std::string file(const char* name) const { return (dir_.path() / name).string(); }

  TempDir dir_;
};

TEST_F(ReportTest, ARunWritesTheReportTheBaselineAndAHistoryEntry) {
  auto r = run("/", {"--report", file("report.html"), "--save-baseline", file("base.json"), "--history",
                     file("history")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string html = read_text(file("report.html"));
  EXPECT_NE(html.find("<path class=\"series\" data-series=\"p95\""), std::string::npos);
  EXPECT_NE(html.find("<td>page</td><td>40</td>"), std::string::npos);
  const json baseline = read_json_file(file("base.json"));
  EXPECT_EQ(baseline["metrics"]["http_reqs"]["values"]["count"], 40.0);
  EXPECT_TRUE(baseline["time_series"].is_array());
  EXPECT_NE(baseline["run"]["script"].get<std::string>().find("script.lua"), std::string::npos);
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(file("history"))) entries += entry.path().extension() == ".json";
  EXPECT_EQ(entries, 1u);
}

TEST_F(ReportTest, ARegressionAgainstTheBaselineExits120AfterTheSummary) {
  ASSERT_EQ(run("/", {"--save-baseline", file("base.json")}).exit_code, 0);
  // Every request now fails: far beyond a 0.5pp error-rate tolerance.
  auto r = run("/status/503", {"--baseline", file("base.json"), "--max-regression", "error_rate=0.5pp"});
  EXPECT_EQ(r.exit_code, 120) << r.out << r.err;
  EXPECT_NE(r.out.find("http_reqs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REGRESSION"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+100.00pp"), std::string::npos) << r.out;
}

TEST_F(ReportTest, AWithinToleranceRunAgainstTheBaselineExitsZero) {
  ASSERT_EQ(run("/", {"--save-baseline", file("base.json")}).exit_code, 0);
  auto r = run("/", {"--baseline", file("base.json"), "--max-regression", "error_rate=0.5pp,checks=1pp"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no regression beyond the tolerances"), std::string::npos) << r.out;
}

TEST_F(ReportTest, AnUnreadableBaselineOrBadToleranceIsAConfigErrorBeforeTheRun) {
  EXPECT_EQ(run("/", {"--baseline", file("missing.json")}).exit_code, 104);
  auto r = run("/", {"--max-regression", "p95=ten%"});
  EXPECT_EQ(r.exit_code, 104);
  EXPECT_NE(r.err.find("p95=ten%"), std::string::npos) << r.err;
}

TEST_F(ReportTest, AnOutputInAMissingDirectoryIsAConfigErrorBeforeTheRun) {
  auto r = run("/", {"--report", file("missing/report.html")});
  EXPECT_EQ(r.exit_code, 104);
  EXPECT_NE(r.err.find("--report: cannot write in"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("http_reqs"), std::string::npos);  // the test did not run
  EXPECT_EQ(run("/", {"--save-baseline", file("missing/base.json")}).exit_code, 104);
  dir_.write_file("plain-file", "x");
  EXPECT_EQ(run("/", {"--history", file("plain-file")}).exit_code, 104);
}

// Issue 10, defect 3: these two exited 0 and lost their file.
TEST_F(ReportTest, ASummaryExportOrJunitFileInAMissingDirectoryOrOnADirectoryIsAConfigErrorBeforeTheRun) {
  for (const char* flag : {"--summary-export", "--junit"}) {
    auto r = run("/", {flag, file("missing/out")});
    EXPECT_EQ(r.exit_code, 104) << flag << r.err;
    EXPECT_NE(r.err.find(std::string(flag) + ": cannot write in"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("http_reqs"), std::string::npos) << "the test ran";
    r = run("/", {flag, dir_.path().string()});
    EXPECT_EQ(r.exit_code, 104) << flag << r.err;
    EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  }
}

TEST_F(ReportTest, CompareReportAndTrendWorkOnSavedExports) {
  ASSERT_EQ(run("/", {"--summary-export", file("a.json"), "--history", file("history")}).exit_code, 0);
  ASSERT_EQ(run("/status/503", {"--summary-export", file("b.json"), "--history", file("history")}).exit_code, 0);
  EXPECT_EQ(luaload({"compare", file("a.json"), file("a.json")}).exit_code, 0);
  auto worse = luaload({"compare", file("a.json"), file("b.json")});
  EXPECT_EQ(worse.exit_code, 120) << worse.out << worse.err;
  EXPECT_NE(worse.out.find("name=page"), std::string::npos) << worse.out;
  EXPECT_EQ(luaload({"report", file("b.json"), "-o", file("b.html")}).exit_code, 0);
  EXPECT_NE(read_text(file("b.html")).find("<td>status 503</td><td>40</td>"), std::string::npos);
  auto trend = luaload({"trend", file("history"), "--report", file("trend.html"), "--metric", "http_req_failed:rate"});
  EXPECT_EQ(trend.exit_code, 0) << trend.err;
  EXPECT_NE(trend.out.find("100.00% (+100.00pp)"), std::string::npos) << trend.out;
  EXPECT_NE(read_text(file("trend.html")).find("data-series=\"http_req_failed:rate\""), std::string::npos);
}

TEST_F(ReportTest, TheResultCommandsRejectMissingOrForeignFilesWith104) {
  dir_.write_file("foreign.json", "{\"hello\": 1}");
  EXPECT_EQ(luaload({"report", file("nope.json"), "-o", file("x.html")}).exit_code, 104);
  EXPECT_EQ(luaload({"compare", file("foreign.json"), file("foreign.json")}).exit_code, 104);
  EXPECT_EQ(luaload({"trend", file("no-such-dir")}).exit_code, 104);
  EXPECT_EQ(luaload({"trend", file("."), "--metric", "nostat"}).exit_code, 104);
}

}  // namespace
}  // namespace luaload::test
