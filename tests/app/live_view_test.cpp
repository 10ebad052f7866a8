// SPDX-License-Identifier: MIT
#include "app/live_view.hpp"

#include <gtest/gtest.h>

namespace luaload::app {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

ScenarioStatus timed(std::string name, int64_t elapsed_s, int64_t planned_s) {
  ScenarioStatus s;
  s.name = std::move(name);
  s.elapsed_ns = elapsed_s * kSecond;
  s.planned_ns = planned_s * kSecond;
  s.vus = 10;
  s.max_vus = 10;
  s.iterations = 1234;
  return s;
}

TEST(LiveView, ProgressIsByTimeForATimedScenario) { EXPECT_EQ(scenario_progress(timed("a", 15, 30)), 0.5); }

TEST(LiveView, ProgressIsByIterationsWhenTheyArePlanned) {
  ScenarioStatus s = timed("a", 1, 600);
  s.iterations = 75;
  s.planned_iterations = 100;
  EXPECT_EQ(scenario_progress(s), 0.75);
}

TEST(LiveView, ProgressNeverPassesOne) { EXPECT_EQ(scenario_progress(timed("a", 40, 30)), 1.0); }

TEST(LiveView, DrawsOneBarLinePerScenarioAndATotalsLine) {
  LiveTotals totals;
  totals.requests_per_s = 1520.7;
  totals.p95_ms = 12.3;
  auto lines = live_lines({timed("browse", 15, 30), timed("api", 3, 30)}, totals, false);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "browse [===============>              ]  50%  15s/30s  vus 10/10  iters 1234");
  EXPECT_EQ(lines[1], "api    [===>                          ]  10%  3s/30s  vus 10/10  iters 1234");
  EXPECT_EQ(lines[2], "req/s 1520  p95 12.3ms  errors 0.00%");
}

TEST(LiveView, ColoursTheBarAndANonZeroErrorRate) {
  LiveTotals totals;
  totals.error_rate = 0.5;
  auto lines = live_lines({timed("a", 30, 30)}, totals, true);
  EXPECT_NE(lines[0].find("\033[32m=============================="), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\033[31m50.00%\033[0m"), std::string::npos) << lines[1];
}

TEST(LiveView, ThePlainStatusLineNamesEveryScenario) {
  EXPECT_EQ(status_line({timed("browse", 15, 30), timed("api", 3, 30)}, LiveTotals{}),
            "running browse 15s/30s vus=10 iterations=1234; api 3s/30s vus=10 iterations=1234 | req/s=0 p95=- "
            "errors=0.00%");
}

TEST(LiveView, RedrawMovesBackToTheFirstLineOfThePreviousFrame) {
  LiveRedraw redraw;
  EXPECT_EQ(redraw.frame({"a", "b"}), "\r\033[Ka\n\033[Kb");
  EXPECT_EQ(redraw.frame({"c", "d"}), "\033[1A\r\033[Kc\n\033[Kd");
  EXPECT_EQ(redraw.frame({"e"}), "\033[1A\r\033[Ke\033[J");
  EXPECT_EQ(redraw.finish(), "\n");
  EXPECT_EQ(redraw.finish(), "");
}

TEST(LiveView, EraseWipesTheFrameSoTheNextOneIsDrawnBelowAMessage) {
  LiveRedraw redraw;
  EXPECT_EQ(redraw.erase(), "");
  redraw.frame({"a", "b", "c"});
  EXPECT_EQ(redraw.erase(), "\033[2A\r\033[J");
  EXPECT_EQ(redraw.frame({"d"}), "\r\033[Kd");
}

}  // namespace
}  // namespace luaload::app
