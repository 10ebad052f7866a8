// SPDX-License-Identifier: MIT
#include "engine/core/duration.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace luaload::core {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

TEST(ParseDuration, ReadsEachUnit) {
  EXPECT_EQ(parse_duration("10ns"), 10);
  EXPECT_EQ(parse_duration("100us"), 100'000);
  EXPECT_EQ(parse_duration("100\xC2\xB5s"), 100'000);  // micro sign
  EXPECT_EQ(parse_duration("100\xCE\xBCs"), 100'000);  // Greek mu
  EXPECT_EQ(parse_duration("500ms"), 500 * kMs);
  EXPECT_EQ(parse_duration("30s"), 30 * kS);
  EXPECT_EQ(parse_duration("5m"), 300 * kS);
  EXPECT_EQ(parse_duration("1h"), 3600 * kS);
  EXPECT_EQ(parse_duration("2d"), 2 * 86400 * kS);
}

TEST(ParseDuration, AddsConsecutiveComponents) {
  EXPECT_EQ(parse_duration("1h30m"), 5400 * kS);
  EXPECT_EQ(parse_duration("1m30s500ms"), 90 * kS + 500 * kMs);
}

TEST(ParseDuration, ComputesFractionsExactly) {
  EXPECT_EQ(parse_duration("1.5s"), 1500 * kMs);
  EXPECT_EQ(parse_duration("0.1s"), 100 * kMs);
  EXPECT_EQ(parse_duration(".5m"), 30 * kS);
  EXPECT_EQ(parse_duration("1.5h"), 5400 * kS);
  EXPECT_EQ(parse_duration("1.0000000001s"), kS);  // below a nanosecond: truncated
}

TEST(ParseDuration, TreatsABareNumberAsSeconds) {
  EXPECT_EQ(parse_duration("2"), 2 * kS);
  EXPECT_EQ(parse_duration("0.5"), 500 * kMs);
  EXPECT_EQ(parse_duration("0"), 0);
}

TEST(ParseDuration, IgnoresSurroundingSpaces) { EXPECT_EQ(parse_duration("  30s "), 30 * kS); }

TEST(ParseDuration, RejectsGarbage) {
  for (const char* bad : {"", " ", "s", "abc", "1x", "1h30", "1 h", "1..5s", ".s", "1s2", "ms", "1e3s", "1h-1m"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(ParseDuration, RejectsSigns) {
  EXPECT_EQ(parse_duration("-1s"), std::nullopt);
  EXPECT_EQ(parse_duration("+1s"), std::nullopt);
  EXPECT_EQ(parse_duration("-2"), std::nullopt);
}

TEST(ParseDuration, RejectsValuesThatOverflowSixtyFourBits) {
  EXPECT_EQ(parse_duration("9223372036854775807ns"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_duration("9223372036854775808ns"), std::nullopt);
  EXPECT_EQ(parse_duration("3000000h"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999999s"), std::nullopt);
}

TEST(FormatDuration, WritesSubMinuteValuesInTheLargestUnit) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(10), "10ns");
  EXPECT_EQ(format_duration(1500), "1.5\xC2\xB5s");
  EXPECT_EQ(format_duration(250 * kMs), "250ms");
  EXPECT_EQ(format_duration(1200 * kMs), "1.2s");
  EXPECT_EQ(format_duration(1234 * kMs), "1.23s");
  EXPECT_EQ(format_duration(30 * kS), "30s");
}

TEST(FormatDuration, MovesToTheNextUnitWhenRoundingReachesIt) {
  EXPECT_EQ(format_duration(kS - 1), "1s");
  EXPECT_EQ(format_duration(994), "994ns");
  EXPECT_EQ(format_duration(999), "1\xC2\xB5s");
  EXPECT_EQ(format_duration(60 * kS - 1), "1m");
}

TEST(FormatDuration, WritesComponentsFromAMinuteOn) {
  EXPECT_EQ(format_duration(90 * kS), "1m30s");
  EXPECT_EQ(format_duration(120 * kS), "2m");
  EXPECT_EQ(format_duration(3600 * kS), "1h");
  EXPECT_EQ(format_duration(5400 * kS), "1h30m");
  EXPECT_EQ(format_duration(3605 * kS), "1h0m5s");
  EXPECT_EQ(format_duration(90 * kS + 600 * kMs), "1m31s");
}

TEST(FormatDuration, PrefixesNegativeValues) { EXPECT_EQ(format_duration(-250 * kMs), "-250ms"); }

TEST(FormatDuration, RoundTripsThroughParse) {
  for (int64_t ns : {int64_t{10}, 250 * kMs, 1500 * kMs, 90 * kS, 5400 * kS, 3605 * kS}) {
    EXPECT_EQ(parse_duration(format_duration(ns)), ns) << ns;
  }
}

}  // namespace
}  // namespace luaload::core
