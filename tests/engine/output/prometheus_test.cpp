// SPDX-License-Identifier: MIT
#include "engine/output/prometheus.hpp"

#include <gtest/gtest.h>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"

namespace luaload::engine::output {
namespace {

namespace builtin = metrics::builtin;

bool contains(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

metrics::Store store_with(const std::function<void(metrics::Registry&)>& fill) {
  metrics::Registry w;
  fill(w);
  metrics::Store store;
  store.merge(w.take_delta());
  return store;
}

TEST(Prometheus, CountersAreTotalsWithTagsAsLabels) {
  auto store = store_with([](metrics::Registry& w) {
    auto tags = w.intern({{"method", "GET"}, {"status", "200"}});
    for (int i = 0; i < 3; ++i) w.add(builtin::kHttpReqs, tags, 1);
  });
  const std::string text = prometheus_text(store);
  EXPECT_TRUE(contains(text, "# TYPE luaload_http_reqs_total counter")) << text;
  EXPECT_TRUE(contains(text, "luaload_http_reqs_total{method=\"GET\",status=\"200\"} 3")) << text;
}

TEST(Prometheus, DataCountersAreInBytes) {
  auto store = store_with([](metrics::Registry& w) { w.add(builtin::kDataSent, 0, 120); });
  EXPECT_TRUE(contains(prometheus_text(store), "luaload_data_sent_bytes_total 120"));
}

TEST(Prometheus, TimeTrendsAreSummariesInSeconds) {
  auto store = store_with([](metrics::Registry& w) {
    for (int i = 1; i <= 100; ++i) w.add(builtin::kHttpReqDuration, 0, 250);
  });
  const std::string text = prometheus_text(store);
  EXPECT_TRUE(contains(text, "# TYPE luaload_http_req_duration_seconds summary")) << text;
  EXPECT_TRUE(contains(text, "luaload_http_req_duration_seconds{quantile=\"0.95\"} 0.25")) << text;
  EXPECT_TRUE(contains(text, "luaload_http_req_duration_seconds_sum 25")) << text;
  EXPECT_TRUE(contains(text, "luaload_http_req_duration_seconds_count 100")) << text;
}

TEST(Prometheus, RatesExposeTheRatioAndBothCounts) {
  auto store = store_with([](metrics::Registry& w) {
    w.add(builtin::kHttpReqFailed, 0, 1);
    for (int i = 0; i < 3; ++i) w.add(builtin::kHttpReqFailed, 0, 0);
  });
  const std::string text = prometheus_text(store);
  EXPECT_TRUE(contains(text, "luaload_http_req_failed_rate 0.25")) << text;
  EXPECT_TRUE(contains(text, "luaload_http_req_failed_passes_total 1")) << text;
  EXPECT_TRUE(contains(text, "luaload_http_req_failed_samples_total 4")) << text;
}

TEST(Prometheus, GaugesKeepTheirLastValue) {
  metrics::Store store;
  store.set_gauge("vus", 7);
  store.set_gauge("vus", 5);
  EXPECT_TRUE(contains(prometheus_text(store), "luaload_vus 5"));
}

TEST(Prometheus, LabelNamesAreSanitisedAndValuesEscaped) {
  auto store = store_with([](metrics::Registry& w) {
    w.add(builtin::kHttpReqs, w.intern({{"my-tag", "a\"b\\c\nd"}, {"quantile", "x"}, {"9lives", "y"}}), 1);
  });
  EXPECT_TRUE(contains(prometheus_text(store),
                       R"(luaload_http_reqs_total{_9lives="y",my_tag="a\"b\\c\nd",tag_quantile="x"} 1)"))
      << prometheus_text(store);
}

TEST(Prometheus, InvalidUtf8InALabelValueBecomesTheReplacementCharacter) {
  auto store = store_with([](metrics::Registry& w) {
    w.add(builtin::kHttpReqs, w.intern({{"name", "caf\xC3\xA9 \xFF\xC0\xAF"}}), 1);
  });
  EXPECT_TRUE(contains(prometheus_text(store), "luaload_http_reqs_total{name=\"caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"} 1"))
      << prometheus_text(store);
}

TEST(Prometheus, SanitisesMetricNames) {
  EXPECT_EQ(prometheus_name("a.b-c"), "a_b_c");
  EXPECT_EQ(prometheus_name("1x"), "_1x");
}

}  // namespace
}  // namespace luaload::engine::output
