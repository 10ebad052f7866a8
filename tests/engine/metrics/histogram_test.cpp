// SPDX-License-Identifier: MIT
#include "engine/metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace luaload::engine::metrics {
namespace {

// k6's percentile over the exact samples: linear interpolation between the closest ranks.
double exact_percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double position = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto low = static_cast<size_t>(std::floor(position));
  const auto high = static_cast<size_t>(std::ceil(position));
  return values[low] + (values[high] - values[low]) * (position - static_cast<double>(low));
}

Histogram histogram_of(const std::vector<double>& values) {
  Histogram h;
  for (double v : values) h.add(v);
  return h;
}

void expect_percentiles_within_one_percent(const std::vector<double>& values) {
  const Histogram h = histogram_of(values);
  for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0}) {
    const double exact = exact_percentile(values, p);
    EXPECT_LE(std::fabs(h.percentile(p) - exact), 0.01 * std::fabs(exact)) << "p(" << p << ") exact " << exact;
  }
}

TEST(Histogram, EveryBucketMidpointIsWithinOnePercentOfItsValuesFromOneMicrosecondToOneHour) {
  // Time values are milliseconds: 1 µs = 0.001, 1 h = 3.6e6. Walk the range in 0.1% steps.
  for (double v = 0.001; v <= 3.6e6; v *= 1.001) {
    const double mid = Histogram::midpoint(Histogram::key_of(v));
    ASSERT_LE(std::fabs(mid - v), v / 128) << v;
    ASSERT_GE(v, Histogram::lower_bound(Histogram::key_of(v)));
    ASSERT_LT(v, Histogram::upper_bound(Histogram::key_of(v)));
  }
}

TEST(Histogram, KeysFollowTheDocumentedScheme) {
  EXPECT_EQ(Histogram::key_of(1.0), 0);
  EXPECT_EQ(Histogram::key_of(1.5), 32);
  EXPECT_EQ(Histogram::key_of(2.0), 64);
  EXPECT_EQ(Histogram::key_of(0.75), -32);
  EXPECT_EQ(Histogram::lower_bound(64 * 10 + 3), std::ldexp(1 + 3.0 / 64, 10));
  EXPECT_EQ(Histogram::key_of(1e30), Histogram::kMaxKey);
}

TEST(Histogram, KeepsExactCountSumMinAndMax) {
  const Histogram h = histogram_of({3, 1, 4, 1, 5, 9, 2, 6});
  EXPECT_EQ(h.count(), 8u);
  EXPECT_EQ(h.sum(), 31);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 9);
  EXPECT_EQ(h.mean(), 31.0 / 8);
}

TEST(Histogram, PercentilesOfOneToOneHundredMatchKsRankInterpolation) {
  std::vector<double> values;
  for (int i = 1; i <= 100; ++i) values.push_back(i);
  const Histogram h = histogram_of(values);
  EXPECT_EQ(h.percentile(0), 1);
  EXPECT_EQ(h.percentile(100), 100);
  EXPECT_NEAR(h.median(), 50.5, 50.5 / 128);
  EXPECT_NEAR(h.percentile(90), 90.1, 90.1 / 128);
  EXPECT_NEAR(h.percentile(99), 99.01, 99.01 / 128);
}

TEST(Histogram, SingleValueIsReturnedExactlyByEveryPercentile) {
  const Histogram h = histogram_of({42.125});
  EXPECT_EQ(h.percentile(0), 42.125);
  EXPECT_EQ(h.percentile(50), 42.125);
  EXPECT_EQ(h.percentile(99.9), 42.125);
}

TEST(Histogram, PercentilesStayWithinOnePercentForUniformLogNormalAndBimodalData) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> uniform(0.001, 3.6e6);
  std::lognormal_distribution<double> lognormal(3.0, 1.5);
  std::normal_distribution<double> fast(5, 0.5), slow(900, 50);
  std::vector<double> u, l, b;
  for (int i = 0; i < 20000; ++i) {
    u.push_back(uniform(rng));
    l.push_back(lognormal(rng));
    b.push_back(i % 10 == 0 ? slow(rng) : std::max(0.001, fast(rng)));
  }
  expect_percentiles_within_one_percent(u);
  expect_percentiles_within_one_percent(l);
  expect_percentiles_within_one_percent(b);
}

TEST(Histogram, HandlesZeroAndNegativeValues) {
  const std::vector<double> values = {-500, -20, -1.5, 0, 0, 0.25, 7, 300};
  const Histogram h = histogram_of(values);
  EXPECT_EQ(h.min(), -500);
  EXPECT_EQ(h.max(), 300);
  EXPECT_EQ(h.buckets().zero, 2u);
  EXPECT_EQ(h.median(), 0);  // ranks 3 and 4 are the zeros
  expect_percentiles_within_one_percent(values);
}

TEST(Histogram, AcceptsHugeTinyAndInfiniteValuesAndIgnoresNan) {
  Histogram h;
  h.add(1e300);
  h.add(1e-300);
  h.add(std::numeric_limits<double>::infinity());
  h.add(std::nan(""));
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.max(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.percentile(0), 1e-300);
  // Magnitudes from 2^64 on share the last bucket (documented): the median is reported as that bucket's midpoint.
  EXPECT_EQ(h.median(), Histogram::midpoint(Histogram::kMaxKey));
}

TEST(Histogram, MemoryDoesNotGrowWithTheNumberOfSamples) {
  Histogram h;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(0.01, 60000);
  h.add(0.01);  // the range ends first: growth happens only when values leave the range seen so far
  h.add(60000);
  const size_t after_range = h.allocated_buckets();
  for (int i = 0; i < 1000000; ++i) h.add(dist(rng));
  EXPECT_EQ(h.allocated_buckets(), after_range);
  EXPECT_LE(h.allocated_buckets(), 2u * 6656);
}

TEST(Histogram, MergeEqualsTheHistogramOfAllSamples) {
  std::mt19937_64 rng(99);
  std::uniform_int_distribution<int> dist(-1000, 100000);
  std::vector<double> a, b, all;
  for (int i = 0; i < 5000; ++i) a.push_back(dist(rng) / 8.0);
  for (int i = 0; i < 3000; ++i) b.push_back(dist(rng) / 4.0 + 1e6);
  all = a;
  all.insert(all.end(), b.begin(), b.end());
  Histogram merged = histogram_of(a);
  merged.merge(histogram_of(b));
  const Histogram direct = histogram_of(all);
  EXPECT_EQ(merged.buckets(), direct.buckets());
  EXPECT_EQ(merged.count(), direct.count());
  EXPECT_EQ(merged.sum(), direct.sum());  // multiples of 1/8 add exactly
  EXPECT_EQ(merged.min(), direct.min());
  EXPECT_EQ(merged.max(), direct.max());
  for (double p : {1.0, 50.0, 90.0, 99.0}) EXPECT_EQ(merged.percentile(p), direct.percentile(p));
}

TEST(Histogram, MergeIntoAnEmptyHistogramCopiesIt) {
  Histogram empty;
  const Histogram h = histogram_of({2, 4, 8});
  empty.merge(h);
  EXPECT_EQ(empty.buckets(), h.buckets());
  EXPECT_EQ(empty.min(), 2);
}

TEST(Histogram, ClearForgetsSamplesButKeepsMemory) {
  Histogram h = histogram_of({1, 10, 100});
  const size_t allocated = h.allocated_buckets();
  h.clear();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_EQ(h.buckets(), Histogram::Buckets{});
  EXPECT_EQ(h.allocated_buckets(), allocated);
}

TEST(Histogram, RoundTripsThroughItsSparseBuckets) {
  const Histogram h = histogram_of({-3, 0, 0.5, 12, 12, 4000});
  const auto copy = Histogram::from_buckets(h.buckets(), h.count(), h.sum(), h.min(), h.max());
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->buckets(), h.buckets());
  EXPECT_EQ(copy->percentile(60), h.percentile(60));
}

TEST(Histogram, FromBucketsRejectsInconsistentParts) {
  Histogram::Buckets buckets;
  buckets.positive = {{10, 2}, {5, 1}};
  EXPECT_FALSE(Histogram::from_buckets(buckets, 3, 0, 1, 2).has_value());  // unsorted
  buckets.positive = {{5, 1}, {10, 2}};
  EXPECT_FALSE(Histogram::from_buckets(buckets, 4, 0, 1, 2).has_value());  // counts do not add up
  buckets.positive = {{Histogram::kMaxKey + 1, 3}};
  EXPECT_FALSE(Histogram::from_buckets(buckets, 3, 0, 1, 2).has_value());  // key out of range
}

}  // namespace
}  // namespace luaload::engine::metrics
