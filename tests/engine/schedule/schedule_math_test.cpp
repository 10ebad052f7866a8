// SPDX-License-Identifier: MIT
#include "engine/schedule/schedule_math.hpp"

#include <gtest/gtest.h>

namespace luaload::engine::schedule {
namespace {

constexpr int64_t kS = kSecondNs;

TEST(ScheduleMathTest, WorkerSharesDifferByAtMostOneAndSumToTheTotal) {
  for (int64_t total : {0, 1, 2, 7, 100, 1001}) {
    int64_t sum = 0;
    for (size_t i = 0; i < 3; ++i) {
      int64_t share = worker_share(total, i, 3);
      EXPECT_GE(share, total / 3);
      EXPECT_LE(share, total / 3 + 1);
      sum += share;
    }
    EXPECT_EQ(sum, total);
  }
}

TEST(ScheduleMathTest, RampingVusInterpolatesLinearlyBetweenStages) {
  std::vector<Stage> stages{{10 * kS, 100}, {10 * kS, 100}, {5 * kS, 0}};
  EXPECT_EQ(ramping_vus_at(0, stages, 0), 0);
  EXPECT_EQ(ramping_vus_at(0, stages, 5 * kS), 50);
  EXPECT_EQ(ramping_vus_at(0, stages, 15 * kS), 100);
  EXPECT_EQ(ramping_vus_at(0, stages, 22 * kS + kS / 2), 50);
  EXPECT_EQ(ramping_vus_at(0, stages, 30 * kS), 0);
}

TEST(ScheduleMathTest, ConstantRateIterationsAreEvenlySpaced) {
  ArrivalSchedule schedule(100, {Stage{10 * kS, 100}}, kS);
  EXPECT_EQ(schedule.time_of(0), 0);
  EXPECT_EQ(schedule.time_of(1), 10'000'000);
  EXPECT_EQ(schedule.time_of(999), 9'990'000'000);
  EXPECT_EQ(schedule.time_of(1000), std::nullopt);
}

TEST(ScheduleMathTest, TimeUnitScalesTheRate) {
  ArrivalSchedule schedule(30, {Stage{60 * kS, 30}}, 60 * kS);  // 30 per minute
  EXPECT_EQ(schedule.time_of(1), 2 * kS);
}

TEST(ScheduleMathTest, ALinearRampFrom0To100In10sSchedules500Iterations) {
  ArrivalSchedule schedule(0, {Stage{10 * kS, 100}}, kS);
  uint64_t k = 0;
  while (schedule.time_of(k)) ++k;
  EXPECT_EQ(k, 500u);
  // count(t) = 5 t^2: iteration 125 is due at t = 5 s.
  ArrivalSchedule again(0, {Stage{10 * kS, 100}}, kS);
  EXPECT_EQ(again.time_of(125), 5 * kS);
}

TEST(ScheduleMathTest, AZeroDurationStageIsAJump) {
  ArrivalSchedule schedule(10, {Stage{0, 100}, Stage{kS, 100}}, kS);
  EXPECT_EQ(schedule.time_of(50), kS / 2);
}

}  // namespace
}  // namespace luaload::engine::schedule
