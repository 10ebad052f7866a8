// SPDX-License-Identifier: MIT
#include "engine/output/summary.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"

namespace luaload::engine::output {
namespace {

namespace builtin = metrics::builtin;
using metrics::Registry;
using metrics::Store;
using metrics::TagSetId;

// 10 s of test: 4 requests (two named login), 12 MB received, 3 of 4 checks passing, 5 VUs.
Store sample_store() {
  Registry w;
  const TagSetId login = w.intern({{"name", "login"}});
  const TagSetId home = w.intern({{"name", "home"}});
  for (double ms : {100.0, 200.0}) w.add(builtin::kHttpReqDuration, login, ms);
  for (double ms : {1.5, 0.5}) w.add(builtin::kHttpReqDuration, home, ms);
  for (int i = 0; i < 4; ++i) w.add(builtin::kHttpReqs, 0, 1);
  w.add(builtin::kDataReceived, 0, 12e6);
  w.add(builtin::kChecks, w.intern({{"check", "status is 200"}}), 1);
  w.add(builtin::kChecks, w.intern({{"check", "status is 200"}}), 1);
  w.add(builtin::kChecks, w.intern({{"check", "body ok"}}), 1);
  w.add(builtin::kChecks, w.intern({{"check", "body ok"}}), 0);
  Store store;
  store.merge(w.take_delta());
  store.set_gauge("vus", 5);
  return store;
}

std::vector<metrics::ThresholdResult> sample_thresholds(const Store& store) {
  auto set = metrics::ThresholdSet::parse(
      {{"http_req_duration", "p(95)<500"}, {"http_req_duration{name:login}", "max<150"}}, nullptr);
  return set->evaluate(store, 10);
}

TEST(Summary, RendersThresholdsChecksAndMetricsLikeK6) {
  const Store store = sample_store();
  SummaryOptions options;
  options.trend_stats = {"avg", "min", "med", "max", "p(95)"};
  // Percentiles come from histogram buckets (within 1%): med is 51ms for an exact 50.75ms, p(95) 185.07ms for 185ms.
  const std::string expected =
      "\n  THRESHOLDS\n"
      "\n    http_req_duration\n"
      "    \u2713 'p(95)<500' p(95)=185.07ms\n"
      "\n    http_req_duration{name:login}\n"
      "    \u2717 'max<150' max=200ms\n"
      "\n  CHECKS\n\n"
      "    \u2717 body ok\n"
      "     \u21b3  50% \u2014 \u2713 1 / \u2717 1\n"
      "    \u2713 status is 200\n"
      "\n  METRICS\n\n"
      "    checks..............: 75.00% \u2713 3      \u2717 1\n"
      "    data_received.......: 12 MB  1.2 MB/s\n"
      "    http_req_duration...: avg=75.5ms min=500\u00b5s med=51ms  max=200ms p(95)=185.07ms\n"
      "      { name:login }....: avg=150ms  min=100ms med=150ms max=200ms p(95)=195ms\n"
      "    http_reqs...........: 4      0.4/s\n"
      "    vus.................: 5      min=5    max=5\n"
      "\n";
  EXPECT_EQ(render_summary(store, sample_thresholds(store), 10, options), expected);
}

TEST(Summary, LeavesOutEmptySections) {
  const Store store;
  EXPECT_EQ(render_summary(store, {}, 1, {}), "\n");
}

TEST(Summary, MarksThresholdsWithoutDataAsPassing) {
  const Store store = sample_store();
  auto set = metrics::ThresholdSet::parse({{"http_req_duration{name:nope}", "p(95)<1"}}, nullptr);
  const std::string out = render_summary(store, set->evaluate(store, 10), 10, {});
  EXPECT_NE(out.find("    \u2713 'p(95)<1' p(95)=no data\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("{ name:nope }"), std::string::npos) << out;
}

TEST(Summary, ColoursMarksAndValuesWhenAsked) {
  const Store store = sample_store();
  SummaryOptions options;
  options.color = true;
  const std::string out = render_summary(store, sample_thresholds(store), 10, options);
  EXPECT_NE(out.find("\x1b[32m\u2713\x1b[0m 'p(95)<500'"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[31m\u2717\x1b[0m 'max<150'"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[36m0.4/s\x1b[0m\n"), std::string::npos) << out;
}

TEST(Summary, ColorAllowedHonoursNoColor) {
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(color_allowed(true));
  ::setenv("NO_COLOR", "", 1);
  EXPECT_TRUE(color_allowed(true));
  ::unsetenv("NO_COLOR");
  EXPECT_TRUE(color_allowed(true));
  EXPECT_FALSE(color_allowed(false));
}

TEST(Summary, LabelsSubMetricsLikeK6) {
  EXPECT_EQ(submetric_label({{"method", "GET"}, {"name", "login"}}), "{ method:GET, name:login }");
}

}  // namespace
}  // namespace luaload::engine::output
