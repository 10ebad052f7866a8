// SPDX-License-Identifier: MIT
// constant-vus, ramping-vus, per-vu-iterations, shared-iterations under a ManualClock.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/schedule/schedule_math.hpp"
#include "scheduler_harness.hpp"

namespace luaload::engine::schedule {
namespace {

using namespace testing;
using ClosedExecutorsTest = SchedulerHarness;

ScenarioConfig constant_vus(int64_t vus, int64_t duration_ns) {
  ScenarioConfig s;
  s.executor = Executor::ConstantVus;
  s.vus = vus;
  s.duration_ns = duration_ns;
  return s;
}

TEST_F(ClosedExecutorsTest, ConstantVusKeepEveryVuBusyUntilTheDurationThenStop) {
  start({constant_vus(5, 2 * kS)}, 2, 100 * kMs);
  run_for(1 * kS, 10 * kMs, [&] { ASSERT_EQ(busy_vus(), 5u); });
  run_for(1100 * kMs, 10 * kMs);
  ASSERT_TRUE(all_finished());
  // 5 VUs x 2 s / 100 ms per iteration.
  EXPECT_EQ(total().iterations, 100u);
  EXPECT_EQ(total().interrupted, 0u);
  EXPECT_EQ(counter("iterations", {"scenario", "default"}), 100);
}

TEST_F(ClosedExecutorsTest, RampingVusFollowTheStagesWithinOneVu) {
  ScenarioConfig s;
  s.executor = Executor::RampingVus;
  s.start_vus = 0;
  s.stages = {{10 * kS, 20}, {5 * kS, 20}, {10 * kS, 0}};
  s.graceful_ramp_down_ns = 0;
  start({s}, 3, 50 * kMs);
  int64_t elapsed = 0;
  int64_t worst = 0;
  run_for(25 * kS, 10 * kMs, [&] {
    elapsed += 10 * kMs;
    if (elapsed % kS != 0) return;
    int64_t want = ramping_vus_at(0, s.stages, elapsed);
    worst = std::max<int64_t>(worst, std::llabs(static_cast<int64_t>(busy_vus()) - want));
  });
  EXPECT_LE(worst, 1);
  run_for(100 * kMs, 10 * kMs);
  EXPECT_TRUE(all_finished());
}

TEST_F(ClosedExecutorsTest, GracefulRampDownInterruptsIterationsThatOutliveIt) {
  ScenarioConfig s;
  s.executor = Executor::RampingVus;
  s.start_vus = 2;
  s.stages = {{100 * kMs, 2}, {0, 0}, {10 * kS, 0}};
  s.graceful_ramp_down_ns = 1 * kS;
  start({s}, 1, 5 * kS);  // iterations of 5 s; the ramp-down at 100 ms gives them until 1.1 s
  run_for(900 * kMs, 100 * kMs);
  EXPECT_EQ(busy_vus(), 2u);
  run_for(300 * kMs, 100 * kMs);  // interrupted at 1.1 s, their ends seen on the next step
  EXPECT_EQ(busy_vus(), 0u);
  run_for(10 * kS, 100 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(total().interrupted, 2u);
  EXPECT_EQ(total().iterations, 0u);
}

TEST_F(ClosedExecutorsTest, PerVuIterationsRunExactlyThatManyPerVuAndFinishEarly) {
  ScenarioConfig s;
  s.executor = Executor::PerVuIterations;
  s.vus = 4;
  s.iterations = 7;
  s.duration_ns = 600 * kS;
  start({s}, 2, 10 * kMs);
  run_for(1 * kS, 10 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(total().iterations, 28u);
  std::map<uint64_t, int> per_vu;
  for (const auto& it : log_) per_vu[it.vu_id]++;
  ASSERT_EQ(per_vu.size(), 4u);
  for (const auto& [id, count] : per_vu) EXPECT_EQ(count, 7) << "VU " << id;
}

TEST_F(ClosedExecutorsTest, SharedIterationsSplitAcrossWorkersRunExactlyTheBudget) {
  ScenarioConfig s;
  s.executor = Executor::SharedIterations;
  s.vus = 5;
  s.iterations = 1000;
  s.duration_ns = 600 * kS;
  start({s}, 2, 3 * kMs);
  run_for(2 * kS, 1 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(total().iterations, 1000u);
  EXPECT_EQ(log_.size(), 1000u);
}

TEST_F(ClosedExecutorsTest, GracefulStopLetsIterationsFinishThenInterruptsTheRest) {
  ScenarioConfig s = constant_vus(2, 1 * kS);
  s.graceful_stop_ns = 500 * kMs;
  start({s}, 1, 1200 * kMs);  // first iterations end at 1.2 s (within grace), second ones would end at 2.4 s
  run_for(1100 * kMs, 100 * kMs);
  EXPECT_EQ(busy_vus(), 2u);
  run_for(200 * kMs, 100 * kMs);
  EXPECT_EQ(busy_vus(), 0u);  // iterations due at 1.2 s finished; none start after the 1 s end
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(total().iterations, 2u);
  EXPECT_EQ(total().interrupted, 0u);
}

TEST_F(ClosedExecutorsTest, IterationsLongerThanTheGracefulStopAreInterruptedAtTheDeadline) {
  ScenarioConfig s = constant_vus(3, 1 * kS);
  s.graceful_stop_ns = 500 * kMs;
  start({s}, 1, 10 * kS);
  run_for(1400 * kMs, 100 * kMs);
  EXPECT_FALSE(all_finished());
  run_for(200 * kMs, 100 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(total().interrupted, 3u);
}

TEST_F(ClosedExecutorsTest, ScenariosRunConcurrentlyEachWithItsTagsExecAndStartTime) {
  ScenarioConfig browse = constant_vus(2, 2 * kS);
  browse.name = "browse";
  browse.tags = {{"team", "web"}};
  ScenarioConfig buy = constant_vus(1, 1 * kS);
  buy.name = "buy";
  buy.exec = "checkout";
  buy.start_time_ns = 1 * kS;
  start({browse, buy}, 2, 100 * kMs);
  run_for(2100 * kMs, 10 * kMs);
  ASSERT_TRUE(all_finished());
  EXPECT_EQ(counter("iterations", {"scenario", "browse"}), 40);
  EXPECT_EQ(counter("iterations", {"team", "web"}), 40);
  EXPECT_EQ(counter("iterations", {"scenario", "buy"}), 10);
  for (const auto& it : log_) {
    if (it.context.scenario == "buy") {
      EXPECT_EQ(it.context.exec, "checkout");
      EXPECT_GE(it.at_ns, 1'001 * kS);
    } else {
      EXPECT_EQ(it.context.exec, "default");
    }
  }
}

}  // namespace
}  // namespace luaload::engine::schedule
