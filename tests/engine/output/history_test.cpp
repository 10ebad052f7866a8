// SPDX-License-Identifier: MIT
#include "engine/output/history.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "report_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace luaload::engine::output {
namespace {

namespace fs = std::filesystem;
using testing::fake_summary;
using testing::ramp;

TEST(History, AFileIsNamedByItsUtcStartTime) {
  EXPECT_EQ(history_file_name(0), "1970-01-01T00-00-00Z.json");
  EXPECT_EQ(history_file_name(1795553073328), "2026-11-24T20-44-33Z.json");
}

TEST(History, WritingCreatesTheDirectoryAndNeverOverwritesARun) {
  test::TempDir dir;
  const std::string history = (dir.path() / "a" / "b").string();
  std::string error;
  auto first = write_history_entry(history, 0, "{\"metrics\":{}}", &error);
  auto second = write_history_entry(history, 0, "{\"metrics\":{}}", &error);
  ASSERT_TRUE(first && second) << error;
  EXPECT_EQ(fs::path(*first).filename(), "1970-01-01T00-00-00Z.json");
  EXPECT_EQ(fs::path(*second).filename(), "1970-01-01T00-00-00Z-2.json");
}

TEST(History, LoadingSortsRunsByNameAndSkipsOtherFiles) {
  test::TempDir dir;
  dir.write_file("2026-01-02T00-00-00Z.json", fake_summary(ramp("a", 2, 1, 0), 1).dump());
  dir.write_file("2026-01-01T00-00-00Z.json", fake_summary(ramp("a", 1, 1, 0), 1).dump());
  dir.write_file("2026-01-01T00-00-00Z-2.json", fake_summary(ramp("a", 1, 1, 0), 1).dump());
  dir.write_file("broken.json", "{");
  dir.write_file("notes.txt", "hello");
  std::vector<std::string> skipped;
  std::string error;
  auto runs = load_history(dir.path().string(), &skipped, &error);
  ASSERT_TRUE(runs) << error;
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].id, "2026-01-01T00-00-00Z");
  EXPECT_EQ((*runs)[1].id, "2026-01-01T00-00-00Z-2");
  EXPECT_EQ((*runs)[2].id, "2026-01-02T00-00-00Z");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("broken.json"), std::string::npos);
}

TEST(History, AMissingDirectoryIsAnError) {
  std::vector<std::string> skipped;
  std::string error;
  EXPECT_FALSE(load_history("/nonexistent/luaload-history", &skipped, &error));
  EXPECT_NE(error.find("/nonexistent/luaload-history"), std::string::npos);
}

TEST(TrendMetric, ParsesMetricAndStatAndNormalizesPercentiles) {
  std::string error;
  auto m = parse_trend_metric("http_req_duration{name:login}:p99", &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->metric, "http_req_duration{name:login}");
  EXPECT_EQ(m->stat, "p(99)");
  for (const char* bad : {"http_req_duration", ":p95", "http_req_duration:"}) {
    EXPECT_FALSE(parse_trend_metric(bad, &error)) << bad;
  }
}

TEST(TrendMetric, ValuesComeFromHistogramsCountersAndRates) {
  const auto summary = fake_summary(ramp("a", 100, 1, 1), 10);
  metrics::Histogram h;
  for (const auto& r : ramp("a", 100, 1, 1)) h.add(r.ms);
  EXPECT_EQ(trend_value(summary, {"http_req_duration", "p(97.5)"}), h.percentile(97.5));
  EXPECT_EQ(trend_value(summary, {"http_reqs", "rate"}), 10);
  EXPECT_EQ(trend_value(summary, {"http_req_failed", "rate"}), 0);
  EXPECT_FALSE(trend_value(summary, {"nope", "rate"}));
}

std::vector<HistoryRun> two_runs() {
  return {{"run1", fake_summary(ramp("a", 100, 1, 0), 10)}, {"run2", fake_summary(ramp("a", 200, 1, 0), 10)}};
}

TEST(Trend, TheTableHasARowPerRunWithTheChangeFromThePreviousOne) {
  const std::string table = format_trend_table(two_runs(), {{"http_reqs", "rate"}});
  EXPECT_NE(table.find("run1"), std::string::npos) << table;
  EXPECT_NE(table.find("20 (+100.00%)"), std::string::npos) << table;
}

TEST(Trend, TheHtmlHasOneChartPerMetricWithAPlottedPath) {
  const std::string html = render_trend_html(two_runs(), default_trend_metrics());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  size_t paths = 0;
  for (size_t at = html.find("<path class=\"series\""); at != std::string::npos; at = html.find("<path class=\"series\"", at + 1)) ++paths;
  EXPECT_EQ(paths, 3u);
  EXPECT_NE(html.find("data-series=\"http_req_duration:p(95)\""), std::string::npos);
}

}  // namespace
}  // namespace luaload::engine::output
