// SPDX-License-Identifier: MIT
#include "engine/output/summary_json.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/output/histogram_json.hpp"
#include "support/files.hpp"

namespace luaload::engine::output {
namespace {

namespace builtin = metrics::builtin;
using nlohmann::json;

metrics::Store sample_store() {
  metrics::Registry w;
  const auto login = w.intern({{"name", "login"}});
  w.add(builtin::kHttpReqDuration, login, 100);
  w.add(builtin::kHttpReqDuration, login, 200);
  w.add(builtin::kHttpReqDuration, 0, 1);
  for (int i = 0; i < 4; ++i) w.add(builtin::kHttpReqs, 0, 1);
  w.add(builtin::kChecks, w.intern({{"check", "ok"}}), 1);
  w.add(builtin::kChecks, w.intern({{"check", "ok"}, {"group", "::login"}}), 0);
  metrics::Store store;
  store.merge(w.take_delta());
  store.set_gauge("vus", 3);
  return store;
}

json sample_json(SummaryJsonOptions options = {}) {
  const metrics::Store store = sample_store();
  auto set = metrics::ThresholdSet::parse(
      {{"http_req_duration", "max<150"}, {"http_req_duration{name:login}", "min>=100"}}, nullptr);
  return summary_json(store, set->evaluate(store, 2), 2, options);
}

TEST(SummaryJson, DescribesEachMetricWithKsTypeContainsAndValues) {
  const json doc = sample_json();
  const json& reqs = doc["metrics"]["http_reqs"];
  EXPECT_EQ(reqs["type"], "counter");
  EXPECT_EQ(reqs["contains"], "default");
  EXPECT_EQ(reqs["values"], (json{{"count", 4.0}, {"rate", 2.0}}));
  EXPECT_EQ(doc["metrics"]["vus"]["values"], (json{{"value", 3.0}, {"min", 3.0}, {"max", 3.0}}));
  EXPECT_EQ(doc["metrics"]["checks"]["values"], (json{{"rate", 0.5}, {"passes", 1}, {"fails", 1}}));
  const json& duration = doc["metrics"]["http_req_duration"];
  EXPECT_EQ(duration["contains"], "time");
  EXPECT_EQ(duration["values"]["max"], 200.0);
  EXPECT_EQ(duration["values"]["min"], 1.0);
  EXPECT_TRUE(duration["values"].contains("p(99)"));
  EXPECT_FALSE(doc["metrics"].contains("http_req_blocked"));  // no samples
}

TEST(SummaryJson, RecordsThresholdOutcomesUnderTheirMetricOrSubMetric) {
  const json doc = sample_json();
  EXPECT_EQ(doc["metrics"]["http_req_duration"]["thresholds"]["max<150"], (json{{"ok", false}, {"no_data", false}}));
  const json& sub = doc["metrics"]["http_req_duration{name:login}"];
  EXPECT_EQ(sub["thresholds"]["min>=100"]["ok"], true);
  EXPECT_EQ(sub["values"]["min"], 100.0);
  EXPECT_EQ(sub["submetric"], (json{{"metric", "http_req_duration"}, {"tags", {{"name", "login"}}}}));
}

TEST(SummaryJson, ListsChecksInTheRootGroupWithTheirPaths) {
  const json checks = sample_json()["root_group"]["checks"];
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0], (json{{"name", "ok"}, {"path", "::login::ok"}, {"passes", 0}, {"fails", 1}}));
  EXPECT_EQ(checks[1], (json{{"name", "ok"}, {"path", "::ok"}, {"passes", 1}, {"fails", 0}}));
}

TEST(SummaryJson, RecordsTheTestDurationAndTrendStats) {
  const json doc = sample_json();
  EXPECT_EQ(doc["state"]["testRunDurationMs"], 2000.0);
  EXPECT_EQ(doc["options"]["summaryTrendStats"][0], "avg");
}

TEST(SummaryJson, BreaksMetricsDownPerSeries) {
  const json series = sample_json()["metrics"]["http_req_duration"]["series"];
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0]["tags"], json::object());
  EXPECT_EQ(series[0]["values"]["max"], 1.0);
  EXPECT_EQ(series[1]["tags"], (json{{"name", "login"}}));
  EXPECT_EQ(series[1]["histogram"]["count"], 2);
}

TEST(SummaryJson, ExtensionsCanBeLeftOut) {
  SummaryJsonOptions options;
  options.include_series = false;
  options.include_histograms = false;
  const json doc = sample_json(options);
  EXPECT_FALSE(doc["metrics"]["http_req_duration"].contains("series"));
  EXPECT_FALSE(doc["metrics"]["http_req_duration"].contains("histogram"));
}

TEST(SummaryJson, ExportedHistogramsMergeIntoTheWholeMetric) {
  const json doc = sample_json();
  metrics::Histogram merged;
  for (const json& s : doc["metrics"]["http_req_duration"]["series"]) {
    merged.merge(*histogram_from_json(json::parse(s["histogram"].dump()), nullptr));
  }
  EXPECT_EQ(histogram_to_json(merged), doc["metrics"]["http_req_duration"]["histogram"]);
}

TEST(SummaryJson, ReplacesInvalidUtf8InTagsSoTheDocumentCanBeWritten) {
  metrics::Registry w;
  w.add(builtin::kHttpReqs, w.intern({{"url", "http://x/\xff\xc3"}, {"ok", "\xC3\xA9\xED\xA0\x80"}}), 1);
  metrics::Store store;
  store.merge(w.take_delta());
  const json doc = summary_json(store, {}, 1, {});
  const json tags = doc["metrics"]["http_reqs"]["series"][0]["tags"];
  EXPECT_EQ(tags["url"], "http://x/\uFFFD\uFFFD");
  EXPECT_EQ(tags["ok"], "\u00E9\uFFFD\uFFFD\uFFFD");
  EXPECT_NO_THROW(doc.dump());
}

TEST(HistogramJson, RoundTripsThroughText) {
  metrics::Histogram h;
  for (double v : {-2.0, 0.0, 0.25, 3.0, 3.0, 1e6}) h.add(v);
  std::string error;
  const auto back = histogram_from_json(json::parse(histogram_to_json(h).dump()), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->buckets(), h.buckets());
  EXPECT_EQ(back->sum(), h.sum());
  EXPECT_EQ(back->percentile(90), h.percentile(90));
}

TEST(HistogramJson, UsesTheDocumentedLayout) {
  metrics::Histogram h;
  h.add(1.5);
  h.add(-1);
  h.add(0);
  EXPECT_EQ(histogram_to_json(h), json::parse(R"({"scheme":"log2-linear-64","count":3,"sum":0.5,"min":-1.0,
      "max":1.5,"zero":1,"positive":[[32,1]],"negative":[[0,1]]})"));
}

TEST(HistogramJson, RejectsAnotherSchemeOrInconsistentCounts) {
  std::string error;
  EXPECT_FALSE(histogram_from_json(json{{"scheme", "hdr"}}, &error));
  EXPECT_EQ(error, "invalid histogram: scheme is not log2-linear-64");
  json bad = histogram_to_json(metrics::Histogram{});
  bad["count"] = 2;
  EXPECT_FALSE(histogram_from_json(bad, &error));
  EXPECT_EQ(error, "invalid histogram: bucket counts, order or bounds are inconsistent");
}

class AtomicWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/luaload-output-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(AtomicWrite, ReplacesTheFileAndLeavesNoTemporary) {
  const std::string path = dir_ + "/summary.json";
  ASSERT_TRUE(write_file_atomically(path, "old", nullptr));
  std::string error;
  ASSERT_TRUE(write_file_atomically(path, "{\"new\":true}", &error)) << error;
  EXPECT_EQ(luaload::test::read_text(path), "{\"new\":true}");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator{}), 1);
}

TEST_F(AtomicWrite, ReportsAMissingDirectory) {
  std::string error;
  EXPECT_FALSE(write_file_atomically(dir_ + "/nope/summary.json", "x", &error));
  EXPECT_EQ(error, "cannot write " + dir_ + "/nope/summary.json: creating a temporary file: No such file or directory");
}

}  // namespace
}  // namespace luaload::engine::output
