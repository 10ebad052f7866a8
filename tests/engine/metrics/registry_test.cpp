// SPDX-License-Identifier: MIT
#include "engine/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "engine/metrics/builtin.hpp"

namespace luaload::engine::metrics {
namespace {

const SeriesDelta* find_series(const Delta& delta, const std::string& metric, const Tags& tags) {
  for (const SeriesDelta& s : delta.series) {
    if (s.metric == metric && s.tags == tags) return &s;
  }
  return nullptr;
}

TEST(Registry, DefinesTheBuiltinMetricsWithTheirFixedIds) {
  Registry r;
  EXPECT_EQ(r.definition(builtin::kVus).name, "vus");
  EXPECT_EQ(r.definition(builtin::kHttpReqDuration).name, "http_req_duration");
  EXPECT_EQ(r.definition(builtin::kHttpReqDuration).type, MetricType::Trend);
  EXPECT_EQ(r.definition(builtin::kHttpReqDuration).contains, ValueType::Time);
  EXPECT_EQ(r.definition(builtin::kDataSent).contains, ValueType::Data);
  EXPECT_EQ(r.definition(builtin::kChecks).type, MetricType::Rate);
  EXPECT_EQ(r.find("http_req_receiving"), builtin::kHttpReqReceiving);
}

TEST(Registry, DefineReturnsTheSameIdForTheSameNameAndType) {
  Registry r;
  const auto first = r.define("login_time", MetricType::Trend, ValueType::Time, nullptr);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, builtin::kBuiltinCount);
  EXPECT_EQ(r.define("login_time", MetricType::Trend, ValueType::Time, nullptr), first);
}

TEST(Registry, DefineRejectsANameUsedWithAnotherType) {
  Registry r;
  std::string error;
  EXPECT_EQ(r.define("http_reqs", MetricType::Trend, ValueType::Default, &error), std::nullopt);
  EXPECT_EQ(error, "metric 'http_reqs' already exists as a counter of default values, not a trend of default values");
}

TEST(Registry, DefineRejectsNamesOutsideKsPattern) {
  Registry r;
  std::string error;
  for (const char* bad : {"", "1abc", "with-dash", "sp ace", "é"}) {
    EXPECT_EQ(r.define(bad, MetricType::Counter, ValueType::Default, &error), std::nullopt) << bad;
  }
  EXPECT_EQ(error, "invalid metric name '\xC3\xA9': must match ^[a-zA-Z_][a-zA-Z0-9_]{0,127}$");
  EXPECT_FALSE(r.define(std::string(129, 'a'), MetricType::Counter, ValueType::Default, nullptr).has_value());
  EXPECT_TRUE(r.define(std::string(128, 'a'), MetricType::Counter, ValueType::Default, nullptr).has_value());
}

TEST(Registry, InternSortsTagsAndGivesEqualSetsOneId) {
  Registry r;
  const TagSetId a = r.intern({{"name", "login"}, {"method", "GET"}});
  const TagSetId b = r.intern({{"method", "GET"}, {"name", "login"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(r.tags(a), (Tags{{"method", "GET"}, {"name", "login"}}));
  EXPECT_NE(r.intern({{"name", "login"}}), a);
  EXPECT_EQ(r.intern({}), 0u);
}

TEST(Registry, InternKeepsTheLastValueOfARepeatedKey) {
  Registry r;
  const TagSetId id = r.intern({{"name", "default"}, {"name", "override"}});
  EXPECT_EQ(r.tags(id), (Tags{{"name", "override"}}));
}

TEST(Registry, InternDoesNotConfuseSeparatorsInsideValues) {
  Registry r;
  EXPECT_NE(r.intern({{"a", "1:b"}}), r.intern({{"a", "1"}, {"b", ""}}));
}

TEST(Registry, TakeDeltaReturnsOneSeriesPerMetricAndTagSet) {
  Registry r;
  const TagSetId login = r.intern({{"name", "login"}});
  r.add(builtin::kHttpReqs, login, 1);
  r.add(builtin::kHttpReqs, login, 1);
  r.add(builtin::kHttpReqs, 0, 1);
  const Delta delta = r.take_delta();
  ASSERT_EQ(delta.series.size(), 2u);
  EXPECT_EQ(find_series(delta, "http_reqs", {{"name", "login"}})->sink.counter().sum, 2);
  EXPECT_EQ(find_series(delta, "http_reqs", {})->sink.counter().sum, 1);
  EXPECT_EQ(delta.definitions.size(), builtin::kBuiltinCount);
}

TEST(Registry, TakeDeltaLeavesOnlyLaterSamplesForTheNextDelta) {
  Registry r;
  r.add(builtin::kIterations, 0, 1);
  r.take_delta();
  EXPECT_TRUE(r.take_delta().series.empty());
  r.add(builtin::kIterations, 0, 1);
  const Delta delta = r.take_delta();
  ASSERT_EQ(delta.series.size(), 1u);
  EXPECT_EQ(delta.series[0].sink.counter().count, 1u);
}

TEST(Registry, DeltaCarriesCustomDefinitions) {
  Registry r;
  r.define("cart_size", MetricType::Gauge, ValueType::Default, nullptr);
  const Delta delta = r.take_delta();
  EXPECT_EQ(delta.definitions.back(), (MetricDef{"cart_size", MetricType::Gauge, ValueType::Default}));
}

TEST(Registry, DropsNanSamples) {
  Registry r;
  r.add(builtin::kIterations, 0, std::nan(""));
  EXPECT_TRUE(r.take_delta().series.empty());
}

// A loose guard, not a benchmark: the brief budget is ~30 ns per add; fail only when an order of magnitude off
// (debug and sanitizer builds are several times slower than release).
TEST(Registry, AddIsCheapOnTheHotPath) {
  Registry r;
  const TagSetId tags = r.intern({{"name", "login"}});
  constexpr int kSamples = 1'000'000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kSamples; ++i) r.add(builtin::kHttpReqDuration, tags, 1 + (i & 1023) * 0.25);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(static_cast<double>(ns.count()) / kSamples, 1000.0);
  EXPECT_EQ(r.take_delta().series[0].sink.trend().count(), static_cast<uint64_t>(kSamples));
}

TEST(Registry, ASeriesHandleAddsToTheSameSinkAsAddWithMetricAndTags) {
  Registry r;
  const TagSetId tags = r.intern({{"name", "a"}});
  r.add(builtin::kHttpReqs, tags, 1);
  const SeriesId series = r.series(builtin::kHttpReqs, tags);
  EXPECT_EQ(r.series(builtin::kHttpReqs, tags), series);
  EXPECT_NE(r.series(builtin::kHttpReqs, r.intern({{"name", "b"}})), series);
  r.add_to(series, 2);
  r.add_to(series, std::nan(""));  // dropped, as add() drops it
  const Delta delta = r.take_delta();
  ASSERT_EQ(delta.series.size(), 1u);
  EXPECT_EQ(delta.series[0].metric, "http_reqs");
  EXPECT_EQ(delta.series[0].sink.counter().sum, 3);
  EXPECT_EQ(delta.series[0].sink.counter().count, 2u);
}

TEST(Registry, ASeriesCreatedThroughAHandleButNeverAddedToIsNotInTheDelta) {
  Registry r;
  r.series(builtin::kHttpReqDurationCorrected, r.intern({}));
  EXPECT_TRUE(r.take_delta().series.empty());
}

}  // namespace
}  // namespace luaload::engine::metrics
