// SPDX-License-Identifier: MIT
#include "app/output_sink.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "app/points_output.hpp"
#include "engine/metrics/builtin.hpp"
#include "support/temp_dir.hpp"

namespace luaload::app {
namespace {

namespace builtin = engine::metrics::builtin;

TEST(OutSpec, ParsesJsonWithAFile) {
  std::string error;
  auto spec = parse_out_spec("json=results.json", &error);
  ASSERT_TRUE(spec) << error;
  EXPECT_EQ(spec->format, OutSpec::Format::Json);
  EXPECT_EQ(spec->path, "results.json");
  EXPECT_EQ(spec->aggregate_s, 0);
}

TEST(OutSpec, ParsesAggregateAndTimeFormatOptions) {
  auto spec = parse_out_spec("csv=a:b.csv:aggregate=10s:time_format=unix_milli", nullptr);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->path, "a:b.csv");
  EXPECT_EQ(spec->aggregate_s, 10);
  EXPECT_TRUE(spec->unix_milli);
}

TEST(OutSpec, RejectsAnAggregateBelowOneSecond) {
  std::string error;
  EXPECT_FALSE(parse_out_spec("json=x.json:aggregate=500ms", &error));
  EXPECT_EQ(error, "--out: aggregate needs whole seconds (like 1s or 10s), got \"500ms\"");
}

TEST(OutSpec, RejectsAMissingFile) {
  std::string error;
  EXPECT_FALSE(parse_out_spec("csv", &error));
  EXPECT_EQ(error, "--out: csv needs a file, as in csv=results.csv");
}

TEST(OutSpec, RejectsTimeFormatForJson) {
  std::string error;
  EXPECT_FALSE(parse_out_spec("json=x:time_format=unix", &error));
  EXPECT_EQ(error, "--out: unknown option \"time_format=unix\" (expected aggregate=1s)");
}

TEST(PointsOutput, WantsSamplesOnlyWithoutAggregation) {
  EXPECT_TRUE(PointsOutput(OutSpec{OutSpec::Format::Json, "x", 0, false}, {}).wants_samples());
  EXPECT_FALSE(PointsOutput(OutSpec{OutSpec::Format::Json, "x", 1, false}, {}).wants_samples());
}

TEST(PointsOutput, WritesEachLoggedSampleAfterItsMetricsDeclaration) {
  test::TempDir dir;
  const std::string path = (dir.path() / "out.json").string();
  PointsOutput out(OutSpec{OutSpec::Format::Json, path, 0, false}, {{"http_reqs", {"count>0"}}});
  ASSERT_TRUE(out.open(nullptr));
  engine::metrics::Registry w;
  w.enable_sample_log(10);
  w.add(builtin::kHttpReqs, w.intern({{"status", "200"}}), 1);
  w.add(builtin::kHttpReqs, 0, 1);
  out.on_delta(w.take_delta());
  engine::metrics::Store store;
  std::string error, warning;
  ASSERT_TRUE(out.finish({store, {}, 1, 0}, &error, &warning)) << error;
  EXPECT_EQ(warning, "");
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["type"], "Metric");
  EXPECT_EQ(lines[0]["data"]["thresholds"], nlohmann::json::array({"count>0"}));
  EXPECT_EQ(lines[1]["data"]["tags"]["status"], "200");
  EXPECT_TRUE(lines[2]["data"]["tags"].is_null());
}

TEST(PointsOutput, WarnsAboutDroppedSamplesAtTheEnd) {
  test::TempDir dir;
  PointsOutput out(OutSpec{OutSpec::Format::Csv, (dir.path() / "o.csv").string(), 0, false}, {});
  ASSERT_TRUE(out.open(nullptr));
  engine::metrics::Registry w;
  w.enable_sample_log(1);
  for (int i = 0; i < 4; ++i) w.add(builtin::kIterations, 0, 1);
  out.on_delta(w.take_delta());
  engine::metrics::Store store;
  std::string warning;
  ASSERT_TRUE(out.finish({store, {}, 1, 0}, nullptr, &warning));
  EXPECT_NE(warning.find("3 samples were not written"), std::string::npos) << warning;
}

}  // namespace
}  // namespace luaload::app
