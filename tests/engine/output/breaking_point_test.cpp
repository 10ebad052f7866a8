// SPDX-License-Identifier: MIT
#include "engine/output/breaking_point.hpp"

#include <gtest/gtest.h>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"

namespace luaload::engine::output {
namespace {

namespace builtin = metrics::builtin;
constexpr int64_t kS = 1'000'000'000;

class BreakingPointTest : public ::testing::Test {
 protected:
  // One step's worth of samples: `iterations` requests of `ms` each, `failed` of them failed.
  metrics::Delta step(int iterations, double ms, int failed = 0) {
    auto tags = registry_.intern({{"scenario", "breaking_point"}});
    for (int i = 0; i < iterations; ++i) {
      registry_.add(builtin::kIterations, tags, 1);
      registry_.add(builtin::kHttpReqs, tags, 1);
      registry_.add(builtin::kHttpReqDuration, tags, ms);
      registry_.add(builtin::kHttpReqDurationCorrected, tags, ms);
      registry_.add(builtin::kHttpReqFailed, tags, i < failed ? 1 : 0);
    }
    return registry_.take_delta();
  }
  BreakingPointPlan plan() {
    BreakingPointPlan p;
    p.start_rate = 10;
    p.step_rate = 10;
    p.step_duration_ns = 5 * kS;
    p.max_error_rate = 0.1;
    return p;
  }
  metrics::Registry registry_;
};

TEST_F(BreakingPointTest, TheFirstStepOverAThresholdEndsTheSearchAndTheOneBeforeIsTheAnswer) {
  BreakingPointSearch search(plan(), {{"http_req_duration", "p(95)<100"}});
  search.merge(step(50, 20));
  EXPECT_FALSE(search.on_tick(5 * kS));
  search.merge(step(100, 40));
  EXPECT_FALSE(search.on_tick(10 * kS));
  search.merge(step(150, 300));
  EXPECT_TRUE(search.on_tick(15 * kS));
  const auto& r = search.result();
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.steps[0].rate, 10);
  EXPECT_EQ(r.steps[1].iterations, 100u);
  EXPECT_EQ(r.steps[2].rate, 30);
  EXPECT_FALSE(r.steps[2].passed);
  EXPECT_EQ(r.highest_ok_rate, 20);
  EXPECT_TRUE(r.broke);
  EXPECT_NE(r.steps[2].reason.find("http_req_duration 'p(95)<100'"), std::string::npos) << r.steps[2].reason;
}

TEST_F(BreakingPointTest, AnErrorRateOverTheLimitBreaksEvenWithoutThresholds) {
  BreakingPointSearch search(plan(), {});
  search.merge(step(100, 10, 20));
  EXPECT_TRUE(search.on_tick(5 * kS));
  EXPECT_EQ(search.result().highest_ok_rate, std::nullopt);
  EXPECT_NE(search.result().steps[0].reason.find("error rate 20.00%"), std::string::npos);
}

TEST_F(BreakingPointTest, FinishClosesAPartialStepWithItsMeasuredDuration) {
  BreakingPointSearch search(plan(), {});
  search.merge(step(30, 10));
  EXPECT_FALSE(search.on_tick(3 * kS));
  search.finish(3 * kS);
  ASSERT_EQ(search.result().steps.size(), 1u);
  EXPECT_DOUBLE_EQ(search.result().steps[0].duration_s, 3.0);
  EXPECT_FALSE(search.result().broke);
  auto json = breaking_point_json(search.result(), plan());
  EXPECT_EQ(json["highest_ok_rate"], 10);
  EXPECT_TRUE(json["broke_at_rate"].is_null());
  EXPECT_EQ(json["steps"][0]["iterations"], 30);
}

}  // namespace
}  // namespace luaload::engine::output
