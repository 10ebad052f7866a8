// SPDX-License-Identifier: MIT
#include "engine/metrics/threshold.hpp"

#include <gtest/gtest.h>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"

namespace luaload::engine::metrics {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

ThresholdSet parse_ok(const std::vector<ThresholdSpec>& specs) {
  std::string error;
  auto set = ThresholdSet::parse(specs, &error);
  EXPECT_TRUE(set.has_value()) << error;
  return set ? std::move(*set) : ThresholdSet{};
}

// A store with http_req_duration 1..100 ms (name:login for the even ones), 10 requests, 3 of 4 checks passing.
Store sample_store() {
  Registry w;
  const TagSetId login = w.intern({{"name", "login"}});
  for (int i = 1; i <= 100; ++i) w.add(builtin::kHttpReqDuration, i % 2 == 0 ? login : 0, i);
  for (int i = 0; i < 10; ++i) w.add(builtin::kHttpReqs, 0, 1);
  for (double v : {1.0, 1.0, 1.0, 0.0}) w.add(builtin::kChecks, 0, v);
  Store store;
  store.merge(w.take_delta());
  store.set_gauge("vus", 7);
  return store;
}

TEST(ThresholdSet, PassesAndFailsTrendAggregations) {
  ThresholdSet set = parse_ok({{"http_req_duration", "max<=100"}, {"http_req_duration", "avg<50"},
                               {"http_req_duration", "min==1"}, {"http_req_duration", "p(0)===1"}});
  const auto& results = set.evaluate(sample_store(), 10);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].passed);
  EXPECT_FALSE(results[1].passed);  // avg is 50.5
  EXPECT_EQ(results[1].observed, 50.5);
  EXPECT_EQ(results[1].text, "avg=50.5ms");
  EXPECT_TRUE(results[2].passed);
  EXPECT_TRUE(results[3].passed);
  EXPECT_FALSE(set.all_passed());
}

TEST(ThresholdSet, EvaluatesSubMetricsOnlyOverMatchingSeries) {
  ThresholdSet set = parse_ok({{"http_req_duration{name:login}", "min>=2"}});
  const auto& results = set.evaluate(sample_store(), 10);
  EXPECT_TRUE(results[0].passed);
  EXPECT_EQ(results[0].observed, 2);
  EXPECT_EQ(results[0].selector, "http_req_duration{name:login}");
}

TEST(ThresholdSet, ComputesRatesCountsAndGaugeValues) {
  ThresholdSet set = parse_ok({{"checks", "rate>0.9"}, {"http_reqs", "count==10"}, {"http_reqs", "rate<2"},
                               {"vus", "value==7"}});
  const auto& results = set.evaluate(sample_store(), 10);
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].text, "rate=75.00%");
  EXPECT_TRUE(results[1].passed);
  EXPECT_EQ(results[1].text, "count=10");
  EXPECT_TRUE(results[2].passed);
  EXPECT_EQ(results[2].observed, 1);  // 10 requests in 10 s
  EXPECT_EQ(results[2].text, "rate=1/s");
  EXPECT_TRUE(results[3].passed);
}

TEST(ThresholdSet, PassesWithNoDataWhenTheSubMetricHasNoSamples) {
  ThresholdSet set = parse_ok({{"http_req_duration{name:checkout}", "p(95)<1"}});
  const auto& results = set.evaluate(sample_store(), 10);
  EXPECT_TRUE(results[0].passed);
  EXPECT_TRUE(results[0].no_data);
  EXPECT_EQ(results[0].observed, 0);
  EXPECT_EQ(results[0].text, "p(95)=no data");
}

TEST(ThresholdSet, AtTheEndJudgesAnEmptyTrendByZeroValues) {
  ThresholdSet set = parse_ok({{"http_req_duration{name:checkout}", "p(95)<1"},
                               {"http_req_duration{name:checkout}", "avg>0"}});
  const auto& results = set.evaluate(sample_store(), 10, EvaluationTime::End);
  EXPECT_TRUE(results[0].passed);
  EXPECT_TRUE(results[0].no_data);
  EXPECT_EQ(results[0].text, "p(95)=0s (no data)");
  EXPECT_FALSE(results[1].passed);
  EXPECT_EQ(results[1].text, "avg=0s (no data)");
}

TEST(ThresholdSet, AtTheEndJudgesAnEmptyCounterByACountAndRateOfZero) {
  ThresholdSet set = parse_ok({{"http_reqs{name:checkout}", "count>0"}, {"http_reqs{name:checkout}", "rate<1"}});
  const auto& results = set.evaluate(sample_store(), 10, EvaluationTime::End);
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].text, "count=0 (no data)");
  EXPECT_TRUE(results[1].passed);
  EXPECT_EQ(results[1].text, "rate=0/s (no data)");
}

TEST(ThresholdSet, AtTheEndPassesAnEmptyRateWhateverTheBound) {
  ThresholdSet set = parse_ok({{"checks{check:none}", "rate>0.99"}});
  const auto& results = set.evaluate(sample_store(), 10, EvaluationTime::End);
  EXPECT_TRUE(results[0].passed);
  EXPECT_TRUE(results[0].no_data);
  EXPECT_EQ(results[0].text, "rate=no data");
}

TEST(ThresholdSet, AtTheEndJudgesAnEmptyGaugeByAValueOfZero) {
  Store store;
  Delta known;
  known.definitions.push_back({"queue_depth", MetricType::Gauge, ValueType::Default});
  store.merge(known);
  ThresholdSet set = parse_ok({{"queue_depth", "value>=1"}});
  const auto& results = set.evaluate(store, 10, EvaluationTime::End);
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].text, "value=0 (no data)");
}

TEST(ThresholdSet, ParseReportsTheBadExpressionAndItsSelector) {
  std::string error;
  EXPECT_FALSE(ThresholdSet::parse({{"http_req_duration", "p95<500"}}, &error));
  EXPECT_EQ(error, "invalid threshold expression 'p95<500': unknown aggregation method 'p95' (on http_req_duration)");
}

TEST(ThresholdSet, ValidateRejectsAnUnknownMetric) {
  ThresholdSet set = parse_ok({{"http_req_durations", "p(95)<500"}});
  std::string error;
  EXPECT_FALSE(set.validate(Store{}, &error));
  EXPECT_EQ(error, "invalid threshold defined on http_req_durations; reason: no metric name \"http_req_durations\" "
                   "found");
}

TEST(ThresholdSet, ValidateRejectsAnAggregationOfAnotherKind) {
  ThresholdSet set = parse_ok({{"http_reqs", "p(95)<500"}});
  std::string error;
  EXPECT_FALSE(set.validate(Store{}, &error));
  EXPECT_EQ(error, "invalid threshold defined on http_reqs; reason: the aggregation method \"p(95)\" cannot be "
                   "applied to metric \"http_reqs\" of type counter");
}

TEST(ThresholdSet, ValidateAcceptsEveryAggregationOnItsKind) {
  ThresholdSet set = parse_ok({{"http_req_duration", "med<1"}, {"checks", "rate>0"}, {"http_reqs", "rate>0"},
                               {"iterations", "count>0"}, {"vus", "value>0"}});
  std::string error;
  EXPECT_TRUE(set.validate(Store{}, &error)) << error;
}

TEST(ThresholdSet, EvaluatingAnInvalidThresholdFailsIt) {
  ThresholdSet set = parse_ok({{"nope", "avg<1"}});
  const auto& results = set.evaluate(Store{}, 1);
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].text, "avg=invalid");
}

TEST(ThresholdSet, ShouldAbortOnlyForAbortOnFailThresholdsThatFailed) {
  ThresholdSet set = parse_ok({{"http_req_duration", "avg<1", false}, {"checks", "rate>0.5", true}});
  set.evaluate(sample_store(), 10);
  EXPECT_FALSE(set.should_abort(100 * kSecondNs));
  ThresholdSet aborting = parse_ok({{"checks", "rate>0.9", true}});
  aborting.evaluate(sample_store(), 10);
  std::string reason;
  EXPECT_TRUE(aborting.should_abort(0, &reason));
  EXPECT_EQ(reason, "threshold 'rate>0.9' on checks failed");
}

TEST(ThresholdSet, ShouldAbortWaitsForDelayAbortEval) {
  ThresholdSet set = parse_ok({{"checks", "rate>0.9", true, 30 * kSecondNs}});
  set.evaluate(sample_store(), 10);
  EXPECT_FALSE(set.should_abort(29 * kSecondNs));
  EXPECT_TRUE(set.should_abort(30 * kSecondNs));
}

TEST(ThresholdSet, ShouldAbortIgnoresThresholdsWithoutData) {
  ThresholdSet set = parse_ok({{"checks{check:none}", "rate>0.9", true}});
  set.evaluate(sample_store(), 10);
  EXPECT_FALSE(set.should_abort(kSecondNs));
}

TEST(ThresholdSet, ShouldAbortIsFalseBeforeAnyEvaluation) {
  ThresholdSet set = parse_ok({{"checks", "rate>0.9", true}});
  EXPECT_FALSE(set.should_abort(kSecondNs));
}

}  // namespace
}  // namespace luaload::engine::metrics
