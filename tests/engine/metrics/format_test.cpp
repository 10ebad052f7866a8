// SPDX-License-Identifier: MIT
#include "engine/metrics/format.hpp"

#include <gtest/gtest.h>

namespace luaload::engine::metrics {
namespace {

TEST(FormatTime, WritesMillisecondsInKsUnits) {
  EXPECT_EQ(format_time_ms(0), "0s");
  EXPECT_EQ(format_time_ms(0.00085), "850ns");
  EXPECT_EQ(format_time_ms(0.5125), "512.5\xC2\xB5s");
  EXPECT_EQ(format_time_ms(1.234), "1.23ms");
  EXPECT_EQ(format_time_ms(101.2249), "101.22ms");
  EXPECT_EQ(format_time_ms(1200), "1.2s");
  EXPECT_EQ(format_time_ms(59990), "59.99s");
}

TEST(FormatTime, WritesMinutesAndHoursAsComponents) {
  EXPECT_EQ(format_time_ms(90000), "1m30s");
  EXPECT_EQ(format_time_ms(3723000), "1h2m3s");
}

TEST(FormatTime, ChangesUnitWhenRoundingReachesAThousand) {
  EXPECT_EQ(format_time_ms(0.9999999), "1ms");
  EXPECT_EQ(format_time_ms(999.999), "1s");
}

TEST(FormatBytes, UsesSiUnitsLikeK6) {
  EXPECT_EQ(format_bytes(9), "9 B");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(50000), "50 kB");
  EXPECT_EQ(format_bytes(1234567), "1.2 MB");
  EXPECT_EQ(format_bytes(12345678), "12 MB");
  EXPECT_EQ(format_bytes(999999), "1.0 MB");
}

TEST(FormatNumber, TrimsTrailingZeros) {
  EXPECT_EQ(format_number(50), "50");
  EXPECT_EQ(format_number(4.9791144), "4.979114");
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_number(-0.0000001), "0");
}

TEST(FormatPercent, KeepsTwoDecimals) {
  EXPECT_EQ(format_percent(0.1234), "12.34%");
  EXPECT_EQ(format_percent(1), "100.00%");
  EXPECT_EQ(format_percent(0), "0.00%");
}

TEST(FormatValue, DispatchesOnTheValueType) {
  EXPECT_EQ(format_value(1.5, ValueType::Time), "1.5ms");
  EXPECT_EQ(format_value(2000, ValueType::Data), "2.0 kB");
  EXPECT_EQ(format_value(3, ValueType::Default), "3");
}

}  // namespace
}  // namespace luaload::engine::metrics
