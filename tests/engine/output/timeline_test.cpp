// SPDX-License-Identifier: MIT
#include "engine/output/timeline.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "report_fixtures.hpp"

namespace luaload::engine::output {
namespace {

using testing::FakeRequest;

metrics::Delta delta_of(const std::vector<FakeRequest>& requests) {
  metrics::Registry registry;
  for (const FakeRequest& r : requests) testing::record(registry, r);
  return registry.take_delta();
}

TEST(Timeline, AnIntervalCountsItsRequestsAndTheirRate) {
  Timeline t;
  t.add(delta_of(testing::ramp("a", 10, 1, 0)));
  t.close_interval(2.0, 7);
  ASSERT_EQ(t.points().size(), 1u);
  EXPECT_EQ(t.points()[0].requests, 10u);
  EXPECT_EQ(t.points()[0].rps, 5);
  EXPECT_EQ(t.points()[0].interval_s, 2);
  EXPECT_EQ(t.points()[0].vus, 7);
}

TEST(Timeline, PercentilesAndErrorRateArePerInterval) {
  Timeline t;
  const auto first = testing::ramp("a", 100, 1, 1);
  t.add(delta_of(first));
  t.close_interval(1.0, 1);
  auto second = testing::ramp("a", 4, 500, 0);
  second[0].status = 500;
  t.add(delta_of(second));
  t.close_interval(2.0, 1);
  metrics::Histogram h;
  for (const auto& r : first) h.add(r.ms);
  ASSERT_EQ(t.points().size(), 2u);
  EXPECT_EQ(t.points()[0].p95, h.percentile(95));
  EXPECT_EQ(t.points()[0].error_rate, 0);
  EXPECT_NEAR(t.points()[1].p50, 500, 500 / 128.0);
  EXPECT_EQ(t.points()[1].error_rate, 0.25);
}

TEST(Timeline, AnIntervalWithoutRequestsHasNoLatencyAndExportsNull) {
  Timeline t;
  t.close_interval(1.0, 3);
  ASSERT_EQ(t.points().size(), 1u);
  EXPECT_TRUE(std::isnan(t.points()[0].p99));
  const auto json = time_series_json(t.points());
  EXPECT_TRUE(json[0]["p99"].is_null());
  EXPECT_EQ(json[0]["rps"], 0.0);
}

TEST(Timeline, AnIntervalShorterThanTheResolutionStaysOpen) {
  Timeline t;
  t.add(delta_of(testing::ramp("a", 3, 1, 0)));
  t.close_interval(0.5, 1);
  EXPECT_TRUE(t.points().empty());
  t.add(delta_of(testing::ramp("a", 2, 1, 0)));
  t.close_interval(1.0, 1);
  ASSERT_EQ(t.points().size(), 1u);
  EXPECT_EQ(t.points()[0].requests, 5u);
}

TEST(Timeline, TheFinalCloseKeepsAQuarterIntervalButNotLess) {
  Timeline t;
  t.close_interval(1.0, 1);
  t.close_interval(1.1, 1, /*final=*/true);
  EXPECT_EQ(t.points().size(), 1u);
  t.close_interval(1.3, 1, /*final=*/true);
  EXPECT_EQ(t.points().size(), 2u);
}

TEST(Timeline, TheFinalCloseOfARunShorterThanOneIntervalGivesOnePoint) {
  Timeline t;
  t.add(delta_of(testing::ramp("a", 5, 1, 0)));
  t.close_interval(0.1, 2, /*final=*/true);
  ASSERT_EQ(t.points().size(), 1u);
  EXPECT_EQ(t.points()[0].rps, 50);
}

TEST(Timeline, PastTheLimitPointsArePairedAndTheResolutionDoubles) {
  Timeline t;
  for (size_t i = 1; i <= Timeline::kMaxPoints; ++i) {
    t.add(delta_of({{"a", static_cast<double>(i)}}));
    t.close_interval(static_cast<double>(i), 1);
  }
  ASSERT_EQ(t.points().size(), Timeline::kMaxPoints / 2);
  EXPECT_EQ(t.resolution_s(), 2);
  EXPECT_EQ(t.points()[0].requests, 2u);
  EXPECT_EQ(t.points()[0].interval_s, 2);
  EXPECT_EQ(t.points()[0].rps, 1);
  EXPECT_NEAR(t.points()[0].p95, 2, 2 / 128.0);  // the larger of the pair
  t.close_interval(static_cast<double>(Timeline::kMaxPoints) + 1, 1);  // shorter than 0.9 * 2 s: stays open
  EXPECT_EQ(t.points().size(), Timeline::kMaxPoints / 2);
}

TEST(Timeline, TheJsonFormReadsBackTheSamePoints) {
  Timeline t;
  t.add(delta_of(testing::ramp("a", 10, 1, 1)));
  t.close_interval(1.0, 4);
  t.close_interval(2.0, 4);
  const auto back = time_series_from_json(nlohmann::json::parse(time_series_json(t.points()).dump()));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].p95, t.points()[0].p95);
  EXPECT_EQ(back[0].requests, 10u);
  EXPECT_TRUE(std::isnan(back[1].p50));
  EXPECT_TRUE(time_series_from_json(nlohmann::json::parse("[1, {\"t\": \"x\"}, {}]")).empty());
}

}  // namespace
}  // namespace luaload::engine::output
