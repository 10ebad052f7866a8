// SPDX-License-Identifier: MIT
#include "app/series_watch.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace luaload::app {
namespace {

TEST(SeriesWatch, SaysNothingUpToTheLimit) {
  SeriesWatch watch(10);
  EXPECT_EQ(watch.check(0), std::nullopt);
  EXPECT_EQ(watch.check(10), std::nullopt);
}

TEST(SeriesWatch, WarnsOnceWhenTheCountPassesTheLimit) {
  SeriesWatch watch(10);
  auto warning = watch.check(11);
  ASSERT_TRUE(warning.has_value());
  EXPECT_EQ(warning->rfind("warning: the test has passed 10 metric series (11 now; ", 0), 0u) << *warning;
  EXPECT_NE(warning->find("`tags = { name = \"/items/{id}\" }`"), std::string::npos) << *warning;
  EXPECT_EQ(warning->find('\n'), std::string::npos);
  EXPECT_EQ(watch.check(12), std::nullopt);
  EXPECT_EQ(watch.check(100'000), std::nullopt);
}

TEST(SeriesWatch, LimitFromEnvReadsAPositiveInteger) {
  ::setenv("LUALOAD_SERIES_WARN_LIMIT", "250", 1);
  EXPECT_EQ(SeriesWatch::limit_from_env(), 250u);
  ::unsetenv("LUALOAD_SERIES_WARN_LIMIT");
}

TEST(SeriesWatch, LimitFromEnvFallsBackToTheDefaultOnBadValues) {
  for (const char* bad : {"", "0", "-5", "12x", "ten"}) {
    ::setenv("LUALOAD_SERIES_WARN_LIMIT", bad, 1);
    EXPECT_EQ(SeriesWatch::limit_from_env(), kSeriesWarnLimit) << bad;
  }
  ::unsetenv("LUALOAD_SERIES_WARN_LIMIT");
  EXPECT_EQ(SeriesWatch::limit_from_env(), kSeriesWarnLimit);
}

}  // namespace
}  // namespace luaload::app
