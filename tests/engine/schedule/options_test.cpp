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

TEST(OptionsTest, DurationAloneMeansConstantVus) {
  TestOptions options;
  options.vus = 5;
  options.duration_ns = 30 * kSecondNs;
  ScenarioPlan plan;
  std::string error;
  ASSERT_TRUE(resolve_plan(options, &plan, &error)) << error;
  EXPECT_EQ(plan.executor, ScenarioPlan::Executor::ConstantVus);
  EXPECT_EQ(plan.vus, 5);
  EXPECT_EQ(plan.duration_ns, 30 * kSecondNs);
}

TEST(OptionsTest, IterationsMeanSharedIterationsWithATenMinuteCap) {
  TestOptions options;
  options.vus = 4;
  options.iterations = 100;
  ScenarioPlan plan;
  std::string error;
  ASSERT_TRUE(resolve_plan(options, &plan, &error)) << error;
  EXPECT_EQ(plan.executor, ScenarioPlan::Executor::SharedIterations);
  EXPECT_EQ(plan.iterations, 100);
  EXPECT_EQ(plan.duration_ns, 600 * kSecondNs);
}

TEST(OptionsTest, NeitherDurationNorIterationsRunsOneIteration) {
  TestOptions options;
  ScenarioPlan plan;
  std::string error;
  ASSERT_TRUE(resolve_plan(options, &plan, &error)) << error;
  EXPECT_EQ(plan.executor, ScenarioPlan::Executor::SharedIterations);
  EXPECT_EQ(plan.iterations, 1);
  EXPECT_EQ(plan.vus, 1);
}

}  // namespace
}  // namespace luaload::engine::schedule
