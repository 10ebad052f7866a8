// SPDX-License-Identifier: MIT
#include "engine/metrics/sink.hpp"

#include <gtest/gtest.h>

namespace luaload::engine::metrics {
namespace {

TEST(Sink, CounterKeepsTheSumAndTheNumberOfSamples) {
  Sink s(MetricType::Counter);
  s.add(2);
  s.add(3.5);
  EXPECT_EQ(s.counter().sum, 5.5);
  EXPECT_EQ(s.counter().count, 2u);
}

TEST(Sink, GaugeKeepsTheLastValueAndItsExtremes) {
  Sink s(MetricType::Gauge);
  s.add(5);
  s.add(1);
  s.add(3);
  EXPECT_EQ(s.gauge().value, 3);
  EXPECT_EQ(s.gauge().min, 1);
  EXPECT_EQ(s.gauge().max, 5);
}

TEST(Sink, RateCountsNonZeroValuesAsPasses) {
  Sink s(MetricType::Rate);
  for (double v : {1.0, 0.0, 0.5, 0.0}) s.add(v);
  EXPECT_EQ(s.rate().passes, 2u);
  EXPECT_EQ(s.rate().total, 4u);
  EXPECT_EQ(s.rate().fails(), 2u);
  EXPECT_EQ(s.rate().rate(), 0.5);
}

TEST(Sink, TrendFeedsItsHistogram) {
  Sink s(MetricType::Trend);
  s.add(10);
  s.add(30);
  EXPECT_EQ(s.trend().count(), 2u);
  EXPECT_EQ(s.trend().mean(), 20);
}

TEST(Sink, MergeAddsCountersAndRates) {
  Sink a(MetricType::Rate), b(MetricType::Rate);
  a.add(1);
  b.add(0);
  b.add(1);
  a.merge(b);
  EXPECT_EQ(a.rate().passes, 2u);
  EXPECT_EQ(a.rate().total, 3u);
}

TEST(Sink, MergeOfGaugesTakesTheOthersValueAndCombinedExtremes) {
  Sink a(MetricType::Gauge), b(MetricType::Gauge);
  a.add(10);
  a.add(2);
  b.add(7);
  a.merge(b);
  EXPECT_EQ(a.gauge().value, 7);
  EXPECT_EQ(a.gauge().min, 2);
  EXPECT_EQ(a.gauge().max, 10);
}

TEST(Sink, MergeOfAnEmptyGaugeKeepsTheValue) {
  Sink a(MetricType::Gauge), empty(MetricType::Gauge);
  a.add(4);
  a.merge(empty);
  EXPECT_EQ(a.gauge().value, 4);
  EXPECT_EQ(a.gauge().count, 1u);
}

TEST(Sink, ClearMakesItEmptyAgain) {
  for (MetricType t : {MetricType::Counter, MetricType::Gauge, MetricType::Rate, MetricType::Trend}) {
    Sink s(t);
    EXPECT_TRUE(s.empty());
    s.add(1);
    EXPECT_FALSE(s.empty());
    s.clear();
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.type(), t);
  }
}

}  // namespace
}  // namespace luaload::engine::metrics
