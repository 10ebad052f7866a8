// SPDX-License-Identifier: MIT
#include "engine/schedule/options.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace luaload::engine::schedule {
namespace {

using nlohmann::json;

TEST(OptionsTest, ReadsVusDurationAndThresholdsInBothForms) {
  TestOptions options;
  std::string error;
  ASSERT_TRUE(parse_script_options(json::parse(R"({
    "vus": 10, "duration": "1m30s",
    "thresholds": {
      "http_req_duration": ["p(95)<300", "p(99)<1000"],
      "checks": [{"threshold": "rate>0.99", "abortOnFail": true, "delayAbortEval": "10s"}]
    }})"), &options, &error)) << error;
  EXPECT_EQ(options.vus, 10);
  EXPECT_EQ(options.duration_ns, 90 * kSecondNs);
  ASSERT_EQ(options.thresholds.size(), 3u);
  EXPECT_EQ(options.thresholds[0].selector, "checks");
  EXPECT_EQ(options.thresholds[0].expression, "rate>0.99");
  EXPECT_TRUE(options.thresholds[0].abort_on_fail);
  EXPECT_EQ(options.thresholds[0].delay_abort_eval_ns, 10 * kSecondNs);
  EXPECT_EQ(options.thresholds[1].expression, "p(95)<300");
  EXPECT_EQ(options.thresholds[2].expression, "p(99)<1000");
}

TEST(OptionsTest, ABadValueIsAnErrorNamingTheKey) {
  TestOptions options;
  std::string error;
  EXPECT_FALSE(parse_script_options(json::parse(R"({"duration": "soon"})"), &options, &error));
  EXPECT_NE(error.find("options.duration"), std::string::npos) << error;
  EXPECT_FALSE(parse_script_options(json::parse(R"({"vus": -3})"), &options, &error));
  EXPECT_NE(error.find("options.vus"), std::string::npos) << error;
  EXPECT_FALSE(parse_script_options(json::parse(R"({"vus": 2.5})"), &options, &error));
}

TEST(OptionsTest, UnknownKeysAreIgnoredLikeK6) {
  TestOptions options;
  std::string error;
  EXPECT_TRUE(parse_script_options(json::parse(R"({"noConnectionReuse": true, "vus": 2})"), &options, &error));
  EXPECT_EQ(options.vus, 2);
}

ScenarioConfig only(const TestOptions& options) {
  std::vector<ScenarioConfig> scenarios;
  std::string error;
  EXPECT_TRUE(resolve_scenarios(options, &scenarios, &error)) << error;
  EXPECT_EQ(scenarios.size(), 1u);
  return scenarios.empty() ? ScenarioConfig{} : scenarios[0];
}

std::string resolve_error(const char* script_options, bool cli_shortcut = false) {
  TestOptions options;
  std::string error;
  if (!parse_script_options(json::parse(script_options), &options, &error)) return error;
  options.cli_shortcuts = cli_shortcut;
  std::vector<ScenarioConfig> scenarios;
  if (resolve_scenarios(options, &scenarios, &error)) return "";
  return error;
}

TEST(OptionsTest, DurationAloneMeansConstantVus) {
  TestOptions options;
  options.vus = 5;
  options.duration_ns = 30 * kSecondNs;
  auto s = only(options);
  EXPECT_EQ(s.executor, Executor::ConstantVus);
  EXPECT_EQ(s.vus, 5);
  EXPECT_EQ(s.duration_ns, 30 * kSecondNs);
}

TEST(OptionsTest, IterationsMeanSharedIterationsWithATenMinuteCap) {
  TestOptions options;
  options.vus = 4;
  options.iterations = 100;
  auto s = only(options);
  EXPECT_EQ(s.executor, Executor::SharedIterations);
  EXPECT_EQ(s.iterations, 100);
  EXPECT_EQ(s.duration_ns, 600 * kSecondNs);
}

TEST(OptionsTest, NeitherDurationNorIterationsRunsOneIteration) {
  auto s = only(TestOptions{});
  EXPECT_EQ(s.executor, Executor::SharedIterations);
  EXPECT_EQ(s.iterations, 1);
  EXPECT_EQ(s.vus, 1);
}

TEST(OptionsTest, StagesMeanRampingVusStartingFromVus) {
  TestOptions options;
  std::string error;
  ASSERT_TRUE(parse_script_options(json::parse(R"({"vus": 3, "stages": [{"duration": "5m", "target": 100},
    {"duration": "1h", "target": 100}, {"duration": "5m", "target": 0}]})"), &options, &error)) << error;
  auto s = only(options);
  EXPECT_EQ(s.executor, Executor::RampingVus);
  EXPECT_EQ(s.start_vus, 3);
  ASSERT_EQ(s.stages.size(), 3u);
  EXPECT_EQ(s.stages[1].duration_ns, 3600 * kSecondNs);
  EXPECT_EQ(s.stages[1].target, 100);
  EXPECT_EQ(scenario_max_vus(s), 100);
  EXPECT_EQ(total_planned_ns(std::vector<ScenarioConfig>{s}), (70 * 60 + 30) * kSecondNs);
}

TEST(OptionsTest, TheStageFlagReadsDurationTargetPairs) {
  std::vector<Stage> stages;
  std::string error;
  ASSERT_TRUE(parse_stage_flag("5m:100,1h:100,5m:0", &stages, &error)) << error;
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].duration_ns, 300 * kSecondNs);
  EXPECT_EQ(stages[2].target, 0);
  EXPECT_FALSE(parse_stage_flag("5m", &stages, &error));
  EXPECT_NE(error.find("--stage"), std::string::npos);
  EXPECT_FALSE(parse_stage_flag("5m:-1", &stages, &error));
  EXPECT_FALSE(parse_stage_flag("soon:10", &stages, &error));
}

TEST(OptionsTest, ScenariosReadEveryExecutorWithK6Names) {
  TestOptions options;
  std::string error;
  ASSERT_TRUE(parse_script_options(json::parse(R"({"scenarios": {
    "a": {"executor": "constant-vus", "vus": 3, "duration": "10s", "exec": "browse", "tags": {"t": "1"}, "env": {"E": "x"}},
    "b": {"executor": "ramping-vus", "startVUs": 0, "stages": [{"duration": "10s", "target": 5}], "gracefulRampDown": "1s"},
    "c": {"executor": "per-vu-iterations", "vus": 2, "iterations": 5, "maxDuration": "1m"},
    "d": {"executor": "shared-iterations", "vus": 2, "iterations": 50, "startTime": "10s", "gracefulStop": "2s"},
    "e": {"executor": "constant-arrival-rate", "rate": 30, "timeUnit": "1m", "duration": "1m", "preAllocatedVUs": 2},
    "f": {"executor": "ramping-arrival-rate", "startRate": 5, "stages": [{"duration": "30s", "target": 50}],
          "preAllocatedVUs": 5, "maxVUs": 20, "maxQueued": 7}}})"), &options, &error)) << error;
  ASSERT_EQ(options.scenarios.size(), 6u);
  const auto& s = options.scenarios;
  EXPECT_EQ(s[0].exec, "browse");
  EXPECT_EQ(s[0].tags[0], (std::pair<std::string, std::string>{"t", "1"}));
  EXPECT_EQ(s[0].env.at("E"), "x");
  EXPECT_EQ(s[1].graceful_ramp_down_ns, kSecondNs);
  EXPECT_EQ(s[2].duration_ns, 60 * kSecondNs);
  EXPECT_EQ(s[3].start_time_ns, 10 * kSecondNs);
  EXPECT_EQ(scenario_end_with_grace_ns(s[3]), (10 + 600 + 2) * kSecondNs);
  EXPECT_EQ(s[4].max_vus, 2);                  // defaults to preAllocatedVUs
  EXPECT_EQ(s[4].max_queued, 5);               // rate x 10 s: 0.5/s x 10 s
  EXPECT_EQ(s[5].max_queued, 7);
  EXPECT_EQ(scenario_max_vus(s[5]), 20);
}

TEST(OptionsTest, BadScenariosAreErrorsNamingTheScenarioAndKey) {
  EXPECT_NE(resolve_error(R"({"scenarios": {"x": {"executor": "constant-vuz", "duration": "1s"}}})").find("options.scenarios.x.executor"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"scenarios": {"x": {"executor": "constant-vus"}}})").find("options.scenarios.x.duration is required"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"scenarios": {"x": {"executor": "constant-vus", "duration": "1s", "rate": 5}}})").find("options.scenarios.x.rate is not an option of constant-vus"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"scenarios": {"x": {"executor": "constant-arrival-rate", "rate": 5, "duration": "1s"}}})").find("preAllocatedVUs is required"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"scenarios": {"x": {"executor": "shared-iterations", "vus": 5, "iterations": 2}}})").find("iterations >= vus"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"scenarios": {"a b": {"executor": "constant-vus", "duration": "1s"}}})").find("scenario names"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"scenarios": {"x": {"executor": "constant-arrival-rate", "rate": 5, "duration": "1s", "preAllocatedVUs": 5, "maxVUs": 2}}})").find("maxVUs"), std::string::npos);
}

TEST(OptionsTest, ARateTheEngineCannotScheduleIsAnErrorNotAHang) {
  EXPECT_NE(resolve_error(R"({"scenarios": {"x": {"executor": "constant-arrival-rate", "rate": 1000, "timeUnit": "1ns",
    "duration": "1s", "preAllocatedVUs": 1}}})").find("at most 10000000 are supported"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"breakingPoint": {"startRate": 0}})").find("options.breakingPoint"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"breakingPoint": {"stepRate": 1, "maxRate": 1000000}})").find("steps"), std::string::npos);
}

TEST(OptionsTest, ScriptShortcutsNextToScenariosAreRefused) {
  EXPECT_NE(resolve_error(R"({"duration": "10s", "scenarios": {"x": {"executor": "constant-vus", "duration": "1s"}}})").find("cannot be combined"), std::string::npos);
  EXPECT_NE(resolve_error(R"({"duration": "10s", "stages": [{"duration": "1s", "target": 1}]})").find("stages cannot be combined"), std::string::npos);
}

TEST(OptionsTest, CommandLineShortcutsReplaceTheScriptScenarios) {
  TestOptions options;
  std::string error;
  ASSERT_TRUE(parse_script_options(json::parse(R"({"scenarios": {"x": {"executor": "constant-vus", "vus": 9, "duration": "1h"}}})"), &options, &error));
  options.duration_ns = 3 * kSecondNs;
  options.cli_shortcuts = true;
  auto s = only(options);
  EXPECT_EQ(s.name, "default");
  EXPECT_EQ(s.executor, Executor::ConstantVus);
  EXPECT_EQ(s.duration_ns, 3 * kSecondNs);
}

TEST(OptionsTest, TheBreakingPointSearchIsASteppedArrivalRateCappedByDuration) {
  TestOptions options;
  std::string error;
  ASSERT_TRUE(parse_script_options(json::parse(R"({"breakingPoint": {"startRate": 10, "stepRate": 20, "stepDuration": "5s", "maxRate": 50}})"), &options, &error)) << error;
  auto s = only(options);
  EXPECT_EQ(s.executor, Executor::RampingArrivalRate);
  ASSERT_EQ(s.stages.size(), 6u);  // 10, 30, 50: a jump and a hold each
  EXPECT_EQ(s.stages[3].target, 30);
  EXPECT_EQ(scenario_duration_ns(s), 15 * kSecondNs);
  options.duration_ns = 7 * kSecondNs;
  s = only(options);
  EXPECT_EQ(scenario_duration_ns(s), 7 * kSecondNs);
}

}  // namespace
}  // namespace luaload::engine::schedule
