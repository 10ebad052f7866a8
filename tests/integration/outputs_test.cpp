// SPDX-License-Identifier: MIT
// `luaload run` with --out json/csv, --junit and --metrics-addr, end to end against nginx on 127.0.0.1.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "integration/outputs_fixture.hpp"

namespace luaload::test {
namespace {

using nlohmann::json;

constexpr const char* kScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
options = { thresholds = { http_req_duration = { "p(95)<5000" }, checks = { "rate>0.99" } } }
function default()
  local res = http.get(ll.env.URL)
  ll.group("page", function()
    ll.check(res, { ["status is 200"] = function(r) return r.status == 200 end,
                    ["body is <big> & \"odd\""] = function(r) return false end })
  end)
end
)";

size_t count_points(const std::vector<json>& lines, const std::string& metric) {
  size_t n = 0;
  for (const auto& line : lines) n += line["type"] == "Point" && line["metric"] == metric;
  return n;
}

TEST_F(OutputsTest, JsonAndCsvCarryOnePointPerRequest) {
  auto r = luaload(kScript, {"-u", "2", "-i", "20", "-e", "URL=" + nginx().url("/"), "--out",
                             "json=" + path("out.json"), "--out", "csv=" + path("out.csv")});
  ASSERT_EQ(r.exit_code, 99) << r.err;  // the always-failing check fails the checks threshold
  auto lines = ndjson("out.json");
  EXPECT_EQ(count_points(lines, "http_reqs"), 20u);
  EXPECT_EQ(count_points(lines, "http_req_duration"), 20u);
  auto declared = std::find_if(lines.begin(), lines.end(), [](const json& l) {
    return l["type"] == "Metric" && l["metric"] == "http_req_duration";
  });
  ASSERT_NE(declared, lines.end());
  EXPECT_EQ((*declared)["data"]["thresholds"], json::array({"p(95)<5000"}));
  auto csv = split_lines(read_text(path("out.csv")));
  EXPECT_EQ(std::count_if(csv.begin(), csv.end(), [](const std::string& l) { return l.rfind("http_reqs,", 0) == 0; }),
            20);
}

TEST_F(OutputsTest, AggregatedJsonCountsAddUpToTheRequestCount) {
  auto r = luaload(kScript, {"-u", "2", "-d", "2s", "-e", "URL=" + nginx().url("/"), "--out",
                             "json=" + path("agg.json") + ":aggregate=1s", "--summary-export", path("summary.json")});
  ASSERT_EQ(r.exit_code, 99) << r.err;
  double total = 0;
  for (const auto& line : ndjson("agg.json")) {
    if (line["type"] == "Point" && line["metric"] == "http_reqs") total += line["data"]["aggregate"]["sum"].get<double>();
  }
  auto summary = read_json_file(path("summary.json"));
  EXPECT_GT(total, 0);
  EXPECT_EQ(total, summary["metrics"]["http_reqs"]["values"]["count"].get<double>());
}

TEST_F(OutputsTest, JunitHasACaseForEachThresholdAndCheckWithObservedValues) {
  auto r = luaload(kScript, {"-u", "1", "-i", "4", "-e", "URL=" + nginx().url("/"), "--junit", path("junit.xml")});
  ASSERT_EQ(r.exit_code, 99) << r.err;
  std::string error;
  auto root = parse_xml(read_text(path("junit.xml")), &error);
  ASSERT_TRUE(root) << error;
  auto suites = root->all("testsuite");
  ASSERT_EQ(suites.size(), 2u);
  auto thresholds = suites[0]->all("testcase");
  ASSERT_EQ(thresholds.size(), 2u);
  EXPECT_EQ(thresholds[0]->attribute("name"), "checks: rate>0.99");
  EXPECT_EQ(thresholds[0]->all("failure")[0]->attribute("message"), "rate=50.00%");
  EXPECT_EQ(thresholds[1]->attribute("name"), "http_req_duration: p(95)<5000");
  EXPECT_TRUE(thresholds[1]->all("failure").empty());
  auto checks = suites[1]->all("testcase");
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0]->attribute("name"), "::page::body is <big> & \"odd\"");
  EXPECT_EQ(checks[0]->all("failure")[0]->attribute("message"), "4 of 4 failed (0 passes, 4 fails)");
  EXPECT_EQ(checks[1]->attribute("name"), "::page::status is 200");
  EXPECT_TRUE(checks[1]->all("failure").empty());
}

TEST_F(OutputsTest, PrometheusMetricsCanBeScrapedDuringARun) {
  BackgroundProcess run;
  std::string error;
  const auto log = dir_.path() / "run.log";
  ASSERT_TRUE(run.start(argv(kScript, {"-u", "2", "-d", "20s", "-e", "URL=" + nginx().url("/"), "--metrics-addr",
                                       "127.0.0.1:0"}),
                        log, &error))
      << error;
  const std::regex port_line("metrics on port ([0-9]+)");
  std::string scraped;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline && scraped.find("luaload_http_reqs_total{") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::smatch match;
    const std::string text = read_text(log);
    if (std::regex_search(text, match, port_line)) scraped = blocking_get(std::stoi(match[1]), "/metrics");
  }
  run.stop(SIGINT, std::chrono::milliseconds(10'000));
  EXPECT_EQ(scraped.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4", 0), 0u) << scraped;
  EXPECT_NE(scraped.find("# TYPE luaload_http_req_duration_seconds summary"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("luaload_http_req_duration_seconds{expected_response=\"true\""), std::string::npos);
  EXPECT_NE(scraped.find("luaload_vus 2"), std::string::npos) << scraped;
}

TEST_F(OutputsTest, AnUnknownOutputExits104) {
  auto r = luaload(kScript, {"--out", "influxdb=http://x"});
  EXPECT_EQ(r.exit_code, 104);
  EXPECT_NE(r.err.find("--out: unknown output \"influxdb\""), std::string::npos) << r.err;
}

TEST_F(OutputsTest, AnOutFileInAMissingDirectoryExits104) {
  auto r = luaload(kScript, {"--out", "json=" + path("missing/out.json")});
  EXPECT_EQ(r.exit_code, 104);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST_F(OutputsTest, ABadMetricsAddressExits104) {
  auto r = luaload(kScript, {"--metrics-addr", "nowhere"});
  EXPECT_EQ(r.exit_code, 104);
  EXPECT_NE(r.err.find("--metrics-addr must be IP:PORT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace luaload::test
