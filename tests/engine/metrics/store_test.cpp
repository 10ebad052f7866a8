// SPDX-License-Identifier: MIT
#include "engine/metrics/store.hpp"

#include <gtest/gtest.h>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"

namespace luaload::engine::metrics {
namespace {

TEST(Store, KnowsTheBuiltinMetricsBeforeAnyDelta) {
  Store store;
  ASSERT_NE(store.find("http_req_duration"), nullptr);
  EXPECT_EQ(store.find("http_req_duration")->type, MetricType::Trend);
  EXPECT_EQ(store.metrics().size(), builtin::kBuiltinCount);
  EXPECT_TRUE(store.aggregate("http_req_duration")->empty());
}

TEST(Store, ListsMetricsSortedByName) {
  Store store;
  const auto metrics = store.metrics();
  EXPECT_EQ(metrics.front().name, "checks");
  EXPECT_EQ(metrics.back().name, "vus_max");
}

TEST(Store, MergesDeltasOfWorkersThatNumberedCustomMetricsDifferently) {
  Registry w1, w2;
  const MetricId a1 = *w1.define("a_metric", MetricType::Counter, ValueType::Default, nullptr);
  const MetricId b1 = *w1.define("b_metric", MetricType::Counter, ValueType::Default, nullptr);
  const MetricId b2 = *w2.define("b_metric", MetricType::Counter, ValueType::Default, nullptr);
  ASSERT_NE(b1, b2);
  w1.add(a1, 0, 1);
  w1.add(b1, 0, 10);
  w2.add(b2, 0, 5);
  Store store;
  EXPECT_TRUE(store.merge(w1.take_delta()).empty());
  EXPECT_TRUE(store.merge(w2.take_delta()).empty());
  EXPECT_EQ(store.aggregate("b_metric")->counter().sum, 15);
  EXPECT_EQ(store.aggregate("a_metric")->counter().sum, 1);
}

TEST(Store, KeepsTheFirstOfConflictingDefinitionsAndReportsItOnce) {
  Registry w1, w2;
  w1.add(*w1.define("thing", MetricType::Counter, ValueType::Default, nullptr), 0, 1);
  const MetricId t2 = *w2.define("thing", MetricType::Trend, ValueType::Time, nullptr);
  w2.add(t2, 0, 100);
  Store store;
  store.merge(w1.take_delta());
  const auto conflicts = store.merge(w2.take_delta());
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0],
            "metric 'thing' is defined as a trend of time values by a worker but was a counter of default values "
            "first; keeping the first definition and dropping its samples");
  EXPECT_EQ(store.find("thing")->type, MetricType::Counter);
  EXPECT_EQ(store.aggregate("thing")->counter().sum, 1);
  w2.add(t2, 0, 100);
  EXPECT_TRUE(store.merge(w2.take_delta()).empty());
  EXPECT_EQ(store.conflicts().size(), 1u);
}

TEST(Store, AggregatesSeriesWhoseTagsContainTheFilter) {
  Registry w;
  const TagSetId login_get = w.intern({{"name", "login"}, {"method", "GET"}});
  const TagSetId login_post = w.intern({{"name", "login"}, {"method", "POST"}});
  const TagSetId home = w.intern({{"name", "home"}, {"method", "GET"}});
  w.add(builtin::kHttpReqDuration, login_get, 10);
  w.add(builtin::kHttpReqDuration, login_post, 20);
  w.add(builtin::kHttpReqDuration, home, 40);
  Store store;
  store.merge(w.take_delta());
  EXPECT_EQ(store.aggregate("http_req_duration")->trend().count(), 3u);
  EXPECT_EQ(store.aggregate("http_req_duration", {{"name", "login"}})->trend().sum(), 30);
  EXPECT_EQ(store.aggregate("http_req_duration", {{"method", "GET"}, {"name", "login"}})->trend().sum(), 10);
  EXPECT_TRUE(store.aggregate("http_req_duration", {{"name", "nope"}})->empty());
}

TEST(Store, AggregateOfAnUnknownMetricIsNullopt) {
  Store store;
  EXPECT_EQ(store.aggregate("nope"), std::nullopt);
}

TEST(Store, AccumulatesSuccessiveDeltasOfOneSeries) {
  Registry w;
  Store store;
  w.add(builtin::kChecks, 0, 1);
  store.merge(w.take_delta());
  w.add(builtin::kChecks, 0, 0);
  store.merge(w.take_delta());
  EXPECT_EQ(store.aggregate("checks")->rate().passes, 1u);
  EXPECT_EQ(store.aggregate("checks")->rate().total, 2u);
}

TEST(Store, SetGaugeRecordsMainThreadGauges) {
  Store store;
  EXPECT_TRUE(store.set_gauge("vus", 10));
  EXPECT_TRUE(store.set_gauge("vus", 50));
  EXPECT_TRUE(store.set_gauge("vus", 20));
  const Sink vus = *store.aggregate("vus");
  EXPECT_EQ(vus.gauge().value, 20);
  EXPECT_EQ(vus.gauge().min, 10);
  EXPECT_EQ(vus.gauge().max, 50);
}

TEST(Store, SetGaugeRefusesANameOfAnotherKind) {
  Store store;
  EXPECT_FALSE(store.set_gauge("http_reqs", 1));
  EXPECT_TRUE(store.aggregate("http_reqs")->empty());
}

TEST(Store, ListsSeriesInTagOrder) {
  Registry w;
  w.add(builtin::kHttpReqs, w.intern({{"status", "500"}}), 1);
  w.add(builtin::kHttpReqs, w.intern({{"status", "200"}}), 1);
  Store store;
  store.merge(w.take_delta());
  const auto series = store.series("http_reqs");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(*series[0].tags, (Tags{{"status", "200"}}));
  EXPECT_EQ(*series[1].tags, (Tags{{"status", "500"}}));
}

TEST(Store, CountsEachDistinctSeriesOnceAcrossDeltasAndWorkers) {
  Registry a;
  Registry b;
  a.add(builtin::kHttpReqs, a.intern({{"name", "/a"}}), 1);
  a.add(builtin::kHttpReqs, a.intern({{"name", "/b"}}), 1);
  b.add(builtin::kHttpReqs, b.intern({{"name", "/b"}}), 1);
  b.add(builtin::kHttpReqDuration, b.intern({{"name", "/b"}}), 5);
  Store store;
  EXPECT_EQ(store.series_count(), 0u);
  store.merge(a.take_delta());
  store.merge(b.take_delta());
  a.add(builtin::kHttpReqs, a.intern({{"name", "/a"}}), 1);
  store.merge(a.take_delta());
  store.set_gauge("vus", 1);
  store.set_gauge("vus", 2);
  EXPECT_EQ(store.series_count(), 4u);  // http_reqs /a and /b, http_req_duration /b, vus
}

}  // namespace
}  // namespace luaload::engine::metrics
