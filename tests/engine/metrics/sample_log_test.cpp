// SPDX-License-Identifier: MIT
// The registry's optional sample log, which feeds outputs that write every point (--out json/csv).
#include <gtest/gtest.h>

#include "engine/core/clock.hpp"
#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"

namespace luaload::engine::metrics {
namespace {

TEST(SampleLog, IsOffByDefaultSoADeltaCarriesNoSamples) {
  Registry r;
  r.add(builtin::kIterations, 0, 1);
  const Delta delta = r.take_delta();
  EXPECT_TRUE(delta.samples.empty());
  EXPECT_TRUE(delta.sample_tags.empty());
  EXPECT_EQ(delta.samples_dropped, 0u);
}

TEST(SampleLog, KeepsEverySampleInOrderWithItsTagsAndAWallClockTime) {
  Registry r;
  r.enable_sample_log(100);
  const TagSetId login = r.intern({{"name", "login"}});
  const TagSetId home = r.intern({{"name", "home"}});
  const int64_t before = core::wall_now_ms();
  r.add(builtin::kHttpReqDuration, login, 12.5);
  r.add(builtin::kHttpReqDuration, home, 3);
  r.add(builtin::kHttpReqDuration, login, 7);
  const int64_t after = core::wall_now_ms();
  const Delta delta = r.take_delta();
  ASSERT_EQ(delta.samples.size(), 3u);
  ASSERT_EQ(delta.sample_tags.size(), 2u);
  EXPECT_EQ(delta.samples[0].value, 12.5);
  EXPECT_EQ(delta.samples[1].value, 3);
  EXPECT_EQ(delta.samples[2].value, 7);
  EXPECT_EQ(delta.sample_tags[delta.samples[0].tags], (Tags{{"name", "login"}}));
  EXPECT_EQ(delta.sample_tags[delta.samples[1].tags], (Tags{{"name", "home"}}));
  EXPECT_EQ(delta.samples[2].tags, delta.samples[0].tags);
  EXPECT_EQ(delta.definitions[delta.samples[0].metric].name, "http_req_duration");
  EXPECT_GE(delta.samples[0].time_ms, before);
  EXPECT_LE(delta.samples[2].time_ms, after);
}

TEST(SampleLog, LogsSamplesAddedThroughASeriesHandleWithTheirMetricAndTags) {
  Registry r;
  r.enable_sample_log(100);
  const TagSetId login = r.intern({{"name", "login"}});
  const SeriesId series = r.series(builtin::kHttpReqWaiting, login);
  r.add_to(series, 4.5);
  const Delta delta = r.take_delta();
  ASSERT_EQ(delta.samples.size(), 1u);
  EXPECT_EQ(delta.samples[0].value, 4.5);
  EXPECT_EQ(delta.definitions[delta.samples[0].metric].name, "http_req_waiting");
  EXPECT_EQ(delta.sample_tags[delta.samples[0].tags], (Tags{{"name", "login"}}));
}

TEST(SampleLog, CountsSamplesPastItsCapacityAsDroppedWithoutLosingThemFromTheSinks) {
  Registry r;
  r.enable_sample_log(2);
  for (int i = 0; i < 5; ++i) r.add(builtin::kIterations, 0, 1);
  const Delta delta = r.take_delta();
  EXPECT_EQ(delta.samples.size(), 2u);
  EXPECT_EQ(delta.samples_dropped, 3u);
  ASSERT_EQ(delta.series.size(), 1u);
  EXPECT_EQ(delta.series[0].sink.counter().count, 5u);
}

TEST(SampleLog, StartsEmptyAgainAfterEachDelta) {
  Registry r;
  r.enable_sample_log(2);
  for (int i = 0; i < 3; ++i) r.add(builtin::kIterations, 0, 1);
  r.take_delta();
  r.add(builtin::kIterations, 0, 1);
  const Delta delta = r.take_delta();
  EXPECT_EQ(delta.samples.size(), 1u);
  EXPECT_EQ(delta.samples_dropped, 0u);
}

}  // namespace
}  // namespace luaload::engine::metrics
