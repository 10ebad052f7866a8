// SPDX-License-Identifier: MIT
// constant-arrival-rate and ramping-arrival-rate under a ManualClock: rates, queueing, drops and start lag.
#include <gtest/gtest.h>

#include "scheduler_harness.hpp"

namespace luaload::engine::schedule {
namespace {

using namespace testing;
using ArrivalExecutorsTest = SchedulerHarness;

ScenarioConfig constant_rate(int64_t rate, int64_t duration_ns, int64_t pre, int64_t max) {
  ScenarioConfig s;
  s.name = "open";
  s.executor = Executor::ConstantArrivalRate;
  s.rate = rate;
  s.duration_ns = duration_ns;
  s.pre_allocated_vus = pre;
  s.max_vus = max;
  s.max_queued = rate * 10;
  return s;
}

TEST_F(ArrivalExecutorsTest, AThousandPerSecondOnTwoWorkersIsAThousandPerSecondInTotal) {
  start({constant_rate(1000, 10 * kS, 20, 20)}, 2, 5 * kMs);
  run_for(10 * kS + 100 * kMs, 1 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_NEAR(static_cast<double>(total().iterations), 10'000, 200);  // within 2 %
  EXPECT_EQ(total().iterations, 10'000u);
  EXPECT_EQ(total().dropped, 0u);
}

TEST_F(ArrivalExecutorsTest, AScenarioWithFewerVusThanWorkersKeepsItsWholeRate) {
  ScenarioConfig browse;
  browse.name = "browse";
  browse.executor = Executor::ConstantVus;
  browse.vus = 3;
  browse.duration_ns = 1 * kS;
  start({constant_rate(100, 1 * kS, 1, 1), browse}, 3, 5 * kMs);
  run_for(1100 * kMs, 1 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(counter("iterations", {"scenario", "open"}), 100);
  EXPECT_EQ(total().dropped, 0u);
}

TEST_F(ArrivalExecutorsTest, RampingArrivalRateFollowsItsStages) {
  ScenarioConfig s = constant_rate(0, 0, 10, 10);
  s.executor = Executor::RampingArrivalRate;
  s.start_rate = 0;
  s.stages = {{10 * kS, 100}, {5 * kS, 100}};
  start({s}, 2, 5 * kMs);
  run_for(5 * kS, 1 * kMs);
  EXPECT_EQ(log_.size(), 126u);  // iterations 0..125: 5 t^2 = 125 at t = 5 s
  run_for(10 * kS + 100 * kMs, 1 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(total().iterations, 1000u);  // 500 on the ramp + 500 at 100/s
}

TEST_F(ArrivalExecutorsTest, IterationsStartOnScheduleWhateverTheirDuration) {
  start({constant_rate(10, 2 * kS, 50, 50)}, 1, 1 * kS);
  run_for(2 * kS, 1 * kMs);
  ASSERT_EQ(log_.size(), 20u);
  for (size_t i = 0; i < log_.size(); ++i) {
    EXPECT_EQ(log_[i].context.scheduled_start_ns, 1'000 * kS + static_cast<int64_t>(i) * 100 * kMs);
    EXPECT_EQ(log_[i].context.start_lag_ns, 0);
  }
}

TEST_F(ArrivalExecutorsTest, VusGrowFromPreAllocatedUpToMaxVus) {
  start({constant_rate(10, 1 * kS, 1, 5)}, 1, 450 * kMs);
  EXPECT_EQ(schedulers_[0]->status().allocated_vus, 1u);
  run_for(1 * kS, 1 * kMs);
  EXPECT_EQ(schedulers_[0]->status().allocated_vus, 5u);
}

TEST_F(ArrivalExecutorsTest, WithoutAFreeVuIterationsQueueAndStartLate) {
  start({constant_rate(10, 1 * kS, 1, 1)}, 1, 200 * kMs);
  run_for(3 * kS, 1 * kMs);
  ASSERT_TRUE(all_finished());
  // One VU, 200 ms per iteration, one due every 100 ms: iteration k starts at 200k ms, 100k ms late. At the end
  // of the duration (1 s), the 4 still waiting are dropped: iterations never start after the scenario ends.
  ASSERT_EQ(log_.size(), 6u);
  EXPECT_EQ(total().dropped, 4u);
  for (size_t k = 0; k < log_.size(); ++k) EXPECT_EQ(log_[k].context.start_lag_ns, static_cast<int64_t>(k) * 100 * kMs);
  auto lag = series("iteration_start_lag");
  ASSERT_EQ(lag.size(), 1u);
  EXPECT_EQ(lag[0].sink.trend().count(), 6u);
}

TEST_F(ArrivalExecutorsTest, BeyondMaxQueuedIterationsAreDroppedAndCounted) {
  ScenarioConfig s = constant_rate(100, 1 * kS, 1, 1);
  s.max_queued = 10;
  start({s}, 1, 2 * kS);
  run_for(4 * kS, 1 * kMs);
  ASSERT_TRUE(all_finished());
  // The VU is busy for the whole second: 1 starts, 10 wait, 89 are dropped; at the end the 10 queued are dropped.
  EXPECT_EQ(total().iterations, 1u);
  EXPECT_EQ(total().dropped, 99u);
  EXPECT_EQ(counter("dropped_iterations", {"scenario", "open"}), 99);
}

TEST_F(ArrivalExecutorsTest, AZeroQueueDropsLikeK6) {
  ScenarioConfig s = constant_rate(100, 1 * kS, 1, 1);
  s.max_queued = 0;
  start({s}, 1, 15 * kMs);  // one VU busy 15 ms, one iteration due every 10 ms: every other one finds it busy
  run_for(1100 * kMs, 1 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(total().dropped, 50u);
  EXPECT_EQ(total().iterations, 50u);
  for (const auto& it : log_) EXPECT_EQ(it.context.start_lag_ns, 0);
}

}  // namespace
}  // namespace luaload::engine::schedule
