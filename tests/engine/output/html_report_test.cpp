// SPDX-License-Identifier: MIT
#include "engine/output/html_report.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "engine/metrics/format.hpp"
#include "report_fixtures.hpp"

namespace luaload::engine::output {
namespace {

using nlohmann::json;
using testing::fake_summary;
using testing::FakeRequest;
using testing::ramp;

json full_summary(std::vector<FakeRequest> requests) {
  static const std::vector<TimePoint> kPoints = {{1, 1, 100, 100, 1, 2, 3, 10, 0},
                                                 {2, 1, 120, 120, 1.5, 2.5, 4, 10, 0.01}};
  SummaryJsonOptions options;
  options.time_series = &kPoints;
  options.run = {{"script", "journey.lua"}, {"start_time", "2026-11-24T20:00:00Z"},
                 {"luaload_version", "9.9.9"}, {"options", {{"vus", 10}, {"duration", "30s"}}}};
  return fake_summary(requests, 2, options);
}

TEST(HtmlReport, HasEverySectionAndTheTestSettings) {
  const std::string html = render_html_report(full_summary(ramp("home", 10, 1, 1)));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"settings", "thresholds", "checks", "timeseries", "requests", "distribution", "errors"}) {
    EXPECT_NE(html.find("<section id=\"" + std::string(id) + "\">"), std::string::npos) << id;
  }
  EXPECT_NE(html.find("<td>journey.lua</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>9.9.9</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>duration</td><td>30s</td>"), std::string::npos);
}

TEST(HtmlReport, PlotsReqPerSecondLatencyPercentilesVusAndErrorRate) {
  const std::string html = render_html_report(full_summary(ramp("home", 10, 1, 1)));
  for (const char* series : {"req/s", "p50", "p95", "p99", "vus", "error rate"}) {
    const std::regex re("<path class=\"series\" data-series=\"" + std::string(series) + "\"[^>]* d=\"M[^\"]+\"");
    EXPECT_TRUE(std::regex_search(html, re)) << series;
  }
}

TEST(HtmlReport, ARequestNameWithAScriptTagIsEscaped) {
  const std::string html = render_html_report(full_summary(ramp("<script>alert(1)</script>", 5, 1, 1)));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"), std::string::npos);
}

TEST(HtmlReport, ReferencesNoExternalResource) {
  const std::string html = render_html_report(full_summary(ramp("home", 10, 1, 1)));
  // The only URL is the SVG namespace, an identifier that browsers never fetch.
  std::string rest = std::regex_replace(html, std::regex("xmlns=\"http://www.w3.org/2000/svg\""), "");
  EXPECT_EQ(rest.find("http:"), std::string::npos);
  EXPECT_EQ(rest.find("https:"), std::string::npos);
  EXPECT_EQ(rest.find("src="), std::string::npos);
  EXPECT_EQ(rest.find("<link"), std::string::npos);
  EXPECT_EQ(rest.find("url("), std::string::npos);
}

TEST(HtmlReport, TheRequestsTableHasExactPercentilesPerName) {
  const auto requests = ramp("home", 200, 1, 0.5);
  metrics::Histogram h;
  for (const auto& r : requests) h.add(r.ms);
  const std::string html = render_html_report(full_summary(requests));
  const std::string expected = "<td>home</td><td>200</td><td>100/s</td><td>0</td><td>" +
                               metrics::format_time_ms(h.mean()) + "</td><td>" +
                               metrics::format_time_ms(h.percentile(50)) + "</td><td>" +
                               metrics::format_time_ms(h.percentile(90)) + "</td><td>" +
                               metrics::format_time_ms(h.percentile(95)) + "</td><td>" +
                               metrics::format_time_ms(h.percentile(99)) + "</td><td>" +
                               metrics::format_time_ms(h.max()) + "</td>";
  EXPECT_NE(html.find(expected), std::string::npos) << expected;
}

TEST(HtmlReport, CountsFailedRequestsByErrorCodeAndStatus) {
  std::vector<FakeRequest> requests = {{"a", 1, 200, 0}, {"a", 1, 503, 0}, {"a", 1, 503, 0}, {"b", 1, 0, 1211}};
  const std::string html = render_html_report(full_summary(requests));
  EXPECT_NE(html.find("<td>error_code 1211</td><td>1</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>status 503</td><td>2</td>"), std::string::npos);
}

TEST(HtmlReport, AFailedThresholdIsShownWithItsObservedValue) {
  json summary = full_summary(ramp("home", 10, 1, 0));
  summary["metrics"]["http_req_failed"]["thresholds"]["rate<0.01"] = {{"ok", false}, {"no_data", false}};
  const std::string html = render_html_report(summary);
  EXPECT_NE(html.find("thresholds failed"), std::string::npos);
  EXPECT_NE(html.find("<td>http_req_failed</td><td>rate&lt;0.01</td><td>0.00%</td><td class=\"fail\">FAIL</td>"),
            std::string::npos);
}

TEST(HtmlReport, MalformedSummariesRenderWithoutThrowing) {
  for (const char* text :
       {"null", "[]", "{}", "{\"metrics\":7}", "{\"metrics\":{\"x\":{\"thresholds\":[1]}},\"run\":[]}",
        "{\"metrics\":{},\"root_group\":{\"checks\":[1,{\"passes\":\"x\"}]},\"time_series\":{}}",
        "{\"metrics\":{\"http_req_failed\":{\"series\":[{\"tags\":5,\"values\":[]}]}}}"}) {
    std::string html;
    EXPECT_NO_THROW(html = render_html_report(json::parse(text))) << text;
    EXPECT_NE(html.find("</html>"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace luaload::engine::output
