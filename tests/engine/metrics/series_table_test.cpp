// SPDX-License-Identifier: MIT
#include "engine/metrics/series_table.hpp"

#include <gtest/gtest.h>

namespace luaload::engine::metrics {
namespace {

uint64_t key(uint32_t metric, uint32_t tags) { return static_cast<uint64_t>(metric) << 32 | tags; }

TEST(SeriesTableTest, FindsWhatWasInsertedAndNothingElse) {
  SeriesTable table;
  EXPECT_EQ(table.find(key(0, 0)), nullptr);
  table.insert(key(1, 7), MetricType::Counter).add(3);
  table.insert(key(7, 1), MetricType::Trend).add(2.5);
  ASSERT_NE(table.find(key(1, 7)), nullptr);
  EXPECT_EQ(table.find(key(1, 7))->counter().sum, 3);
  ASSERT_NE(table.find(key(7, 1)), nullptr);
  EXPECT_EQ(table.find(key(7, 1))->type(), MetricType::Trend);
  EXPECT_EQ(table.find(key(1, 1)), nullptr);
  EXPECT_EQ(table.find(key(7, 7)), nullptr);
}

TEST(SeriesTableTest, EverySeriesSurvivesGrowthWithItsOwnSamples) {
  SeriesTable table;
  // Metric-major keys, as a registry makes them: many tag sets per metric, a dozen metrics.
  for (uint32_t metric = 0; metric < 12; ++metric) {
    for (uint32_t tags = 0; tags < 2000; ++tags) {
      table.insert(key(metric, tags), MetricType::Counter).add(metric * 10000.0 + tags);
    }
  }
  ASSERT_EQ(table.size(), 24000u);
  for (uint32_t metric = 0; metric < 12; ++metric) {
    for (uint32_t tags = 0; tags < 2000; ++tags) {
      Sink* sink = table.find(key(metric, tags));
      ASSERT_NE(sink, nullptr) << metric << "/" << tags;
      EXPECT_EQ(sink->counter().sum, metric * 10000.0 + tags);
    }
  }
  EXPECT_EQ(table.find(key(12, 0)), nullptr);
  EXPECT_EQ(table.find(key(0, 2000)), nullptr);
}

TEST(SeriesTableTest, IterationVisitsSeriesInInsertionOrder) {
  SeriesTable table;
  table.insert(key(3, 3), MetricType::Gauge);
  table.insert(key(1, 1), MetricType::Rate);
  table.insert(key(2, 2), MetricType::Counter);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table.key_at(0), key(3, 3));
  EXPECT_EQ(table.key_at(1), key(1, 1));
  EXPECT_EQ(table.key_at(2), key(2, 2));
  EXPECT_EQ(table.sink_at(1).type(), MetricType::Rate);
}

}  // namespace
}  // namespace luaload::engine::metrics
