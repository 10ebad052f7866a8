// SPDX-License-Identifier: MIT
#include "engine/output/compare.hpp"

#include <gtest/gtest.h>

#include "report_fixtures.hpp"

namespace luaload::engine::output {
namespace {

using testing::fake_summary;
using testing::FakeRequest;
using testing::ramp;
using Unit = Tolerance::Unit;

std::vector<Tolerance> tolerances(const std::string& text) {
  std::string error;
  auto t = parse_tolerances(text, &error);
  EXPECT_TRUE(t.has_value()) << error;
  return t.value_or(std::vector<Tolerance>{});
}

const CompareRow* row(const Comparison& c, const std::string& scope, const std::string& metric) {
  for (const CompareRow& r : c.rows) {
    if (r.scope == scope && r.metric == metric) return &r;
  }
  return nullptr;
}

bool regressed(const Comparison& c, const std::string& scope, const std::string& metric) {
  const CompareRow* r = row(c, scope, metric);
  EXPECT_NE(r, nullptr) << scope << " " << metric;
  return r != nullptr && r->regression;
}

Comparison compare(const nlohmann::json& base, const nlohmann::json& cur, const std::string& tol) {
  return compare_runs(run_figures(base), run_figures(cur), tolerances(tol));
}

std::vector<FakeRequest> with_failures(std::vector<FakeRequest> requests, int failures) {
  for (int i = 0; i < failures; ++i) requests[i].status = 503;
  return requests;
}

TEST(ParseTolerances, ReadsPercentPercentagePointsMillisecondsAndANegativeRps) {
  const auto t = tolerances("p95=10%,p99.9=15%,error_rate=0.5pp,rps=-5%,avg=20ms,checks=1pp");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].stat, "p(95)");
  EXPECT_EQ(t[0].value, 10);
  EXPECT_EQ(t[0].unit, Unit::Percent);
  EXPECT_EQ(t[1].stat, "p(99.9)");
  EXPECT_EQ(t[2].stat, "error_rate");
  EXPECT_EQ(t[2].value, 0.5);
  EXPECT_EQ(t[2].unit, Unit::PercentagePoints);
  EXPECT_EQ(t[3].stat, "rps");
  EXPECT_EQ(t[3].value, -5);
  EXPECT_EQ(t[4].unit, Unit::Milliseconds);
  EXPECT_EQ(t[5].stat, "checks");
}

TEST(ParseTolerances, TheDefaultsParse) { EXPECT_EQ(tolerances(kDefaultTolerances).size(), 4u); }

TEST(ParseTolerances, RejectsBadItemsNamingThem) {
  for (const char* bad : {"p95", "p95=", "p95=10", "p95=abc%", "latency=10%", "p95=1pp", "rps=1pp", "rps=5ms",
                          "error_rate=1ms", "p95=-10%", "p101=1%", "p95=10%,,x=1%"}) {
    std::string error;
    EXPECT_FALSE(parse_tolerances(bad, &error).has_value()) << bad;
    EXPECT_NE(error.find("--max-regression"), std::string::npos) << bad;
  }
}

TEST(Compare, ALatencyIncreaseBeyondThePercentIsARegression) {
  const auto base = fake_summary(ramp("home", 100, 1, 1), 10);
  const auto cur = fake_summary(ramp("home", 100, 1.2, 1.2), 10);  // every latency 20% higher
  const Comparison tight = compare(base, cur, "p95=10%");
  EXPECT_TRUE(row(tight, "", "p95")->regression);
  EXPECT_EQ(row(tight, "", "p95")->limit, "<= +10.00%");
  EXPECT_FALSE(regressed(compare(base, cur, "p95=25%"), "", "p95"));
}

TEST(Compare, PercentilesComeExactlyFromTheExportedHistograms) {
  const auto requests = ramp("home", 1000, 0.5, 0.37);
  metrics::Histogram h;
  for (const auto& r : requests) h.add(r.ms);
  const Comparison c = compare(fake_summary(requests, 10), fake_summary(requests, 10), "p99.9=0%");
  EXPECT_EQ(row(c, "", "p95")->baseline, h.percentile(95));
  EXPECT_EQ(row(c, "", "p99.9")->current, h.percentile(99.9));
  EXPECT_EQ(row(c, "home", "p50")->baseline, h.percentile(50));
  EXPECT_EQ(c.regressions(), 0u);
}

TEST(Compare, ErrorRateToleranceIsInPercentagePoints) {
  const auto base = fake_summary(ramp("home", 1000, 1, 0), 10);
  const auto within = fake_summary(with_failures(ramp("home", 1000, 1, 0), 4), 10);   // 0.4%
  const auto beyond = fake_summary(with_failures(ramp("home", 1000, 1, 0), 6), 10);   // 0.6%
  EXPECT_FALSE(regressed(compare(base, within, "error_rate=0.5pp"), "", "error_rate"));
  EXPECT_TRUE(regressed(compare(base, beyond, "error_rate=0.5pp"), "", "error_rate"));
  EXPECT_DOUBLE_EQ(row(compare(base, beyond, ""), "", "error_rate")->current, 0.006);
}

TEST(Compare, ARpsDropBeyondTheToleranceIsARegressionWhateverItsSign) {
  const auto base = fake_summary(ramp("home", 1000, 1, 0), 10);     // 100 req/s
  const auto slower = fake_summary(ramp("home", 1000, 1, 0), 10.6);  // 94.3 req/s: -5.66%
  const auto faster = fake_summary(ramp("home", 1000, 1, 0), 5);
  EXPECT_TRUE(regressed(compare(base, slower, "rps=-5%"), "", "rps"));
  EXPECT_TRUE(regressed(compare(base, slower, "rps=5%"), "", "rps"));
  EXPECT_FALSE(regressed(compare(base, slower, "rps=-6%"), "", "rps"));
  EXPECT_FALSE(regressed(compare(base, faster, "rps=-5%"), "", "rps"));
}

TEST(Compare, EachRequestNameIsComparedOnItsOwn) {
  auto base_requests = ramp("home", 100, 1, 0.1);
  auto login = ramp("login", 100, 10, 1);
  base_requests.insert(base_requests.end(), login.begin(), login.end());
  auto cur_requests = ramp("home", 100, 1, 0.1);
  auto slow_login = ramp("login", 100, 20, 2);
  cur_requests.insert(cur_requests.end(), slow_login.begin(), slow_login.end());
  const Comparison c = compare(fake_summary(base_requests, 10), fake_summary(cur_requests, 10), "p95=10%");
  EXPECT_TRUE(row(c, "login", "p95")->regression);
  EXPECT_FALSE(row(c, "home", "p95")->regression);
  EXPECT_EQ(row(c, "login", "requests")->current, 100);
}

TEST(Compare, NamesInOnlyOneRunAreNotedNotCompared) {
  const Comparison c = compare(fake_summary(ramp("old", 10, 1, 0), 1), fake_summary(ramp("new", 10, 1, 0), 1), "");
  EXPECT_EQ(row(c, "old", "p95"), nullptr);
  ASSERT_EQ(c.notes.size(), 2u);
  EXPECT_EQ(c.notes[0], "request name \"old\" is only in the baseline");
  EXPECT_EQ(c.notes[1], "request name \"new\" is only in the current run");
}

TEST(Compare, ChecksToleranceLimitsTheDropOfThePassRate) {
  const auto base = fake_summary(ramp("home", 100, 1, 0), 10);
  const auto cur = fake_summary(with_failures(ramp("home", 100, 1, 0), 2), 10);  // checks 98%
  EXPECT_TRUE(regressed(compare(base, cur, "checks=1pp"), "", "checks"));
  EXPECT_FALSE(regressed(compare(base, cur, "checks=3pp"), "", "checks"));
}

TEST(Compare, TheTableShowsBothValuesTheDeltaAndTheVerdict) {
  const auto base = fake_summary(ramp("home", 100, 1, 1), 10);
  const auto cur = fake_summary(ramp("home", 100, 2, 2), 10);
  const std::string table = format_comparison(compare(base, cur, "p95=10%"));
  EXPECT_NE(table.find("+100.00%"), std::string::npos) << table;
  EXPECT_NE(table.find("REGRESSION"), std::string::npos) << table;
  EXPECT_NE(table.find("name=home"), std::string::npos) << table;
  EXPECT_NE(table.find("2 regressions beyond the tolerances"), std::string::npos) << table;
}

TEST(Compare, MalformedSummariesGiveEmptyFiguresNotExceptions) {
  for (const char* text : {"{}", "[]", "{\"metrics\":[]}", "{\"metrics\":{\"http_reqs\":5}}",
                           "{\"metrics\":{\"http_reqs\":{\"values\":{\"count\":1e300}}}}",
                           "{\"metrics\":{\"http_req_duration\":{\"type\":\"trend\",\"histogram\":7,\"series\":[1]}}}",
                           "{\"metrics\":{\"http_req_duration\":{\"type\":\"trend\",\"histogram\":{\"scheme\":5}}}}"}) {
    const RunFigures f = run_figures(nlohmann::json::parse(text));
    EXPECT_EQ(f.total.requests, 0u) << text;
    EXPECT_EQ(compare_runs(f, f, tolerances(kDefaultTolerances)).regressions(), 0u) << text;
  }
}

}  // namespace
}  // namespace luaload::engine::output
