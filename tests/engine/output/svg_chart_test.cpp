// SPDX-License-Identifier: MIT
#include "engine/output/svg_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

namespace luaload::engine::output {
namespace {

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// The d attribute of the path of series `name`.
std::string path_data(const std::string& svg, const std::string& name) {
  std::smatch m;
  const std::regex re("data-series=\"" + name + "\"[^>]* d=\"([^\"]*)\"");
  return std::regex_search(svg, m, re) ? m[1].str() : "";
}

TEST(HtmlEscape, ReplacesTheFiveCharactersThatEndTextOrAttributes) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain text 123"), "plain text 123");
}

TEST(FormatChartValue, WritesMillisecondsAsK6DurationsAndRatiosAsPercentages) {
  EXPECT_EQ(format_chart_value(1.5, ChartUnit::Milliseconds), "1.5ms");
  EXPECT_EQ(format_chart_value(0.0125, ChartUnit::Ratio), "1.25%");
  EXPECT_EQ(format_chart_value(1234.4, ChartUnit::Number), "1234");
  EXPECT_EQ(format_chart_value(NAN, ChartUnit::Number), "-");
}

TEST(LineChart, DrawsOnePathPerSeriesThroughEveryPoint) {
  LineChart chart;
  chart.series = {{"a", "#111", {0, 1, 2}, {1, 2, 3}}, {"b", "#222", {0, 1, 2}, {3, 2, 1}}};
  const std::string svg = render_line_chart(chart);
  EXPECT_EQ(count_of(svg, "<path class=\"series\""), 2u);
  const std::string d = path_data(svg, "a");
  EXPECT_EQ(d.substr(0, 1), "M");
  EXPECT_EQ(count_of(d, "M"), 1u);
  EXPECT_EQ(count_of(d, "L"), 2u);
  EXPECT_EQ(count_of(svg, "<circle class=\"pt\""), 6u);
}

TEST(LineChart, OnlyChartsWithSeveralSeriesHaveALegend) {
  LineChart chart;
  chart.series = {{"p50", "#111", {0, 1}, {1, 2}}};
  EXPECT_EQ(render_line_chart(chart).find("class=\"lg\""), std::string::npos);
  chart.series.push_back({"p<99>", "#222", {0, 1}, {2, 3}});
  const std::string svg = render_line_chart(chart);
  EXPECT_NE(svg.find("<text class=\"lg\" x=\""), std::string::npos);
  EXPECT_NE(svg.find(">p&lt;99&gt;</text>"), std::string::npos);
}

TEST(LineChart, AMissingValueInterruptsTheLine) {
  LineChart chart;
  chart.series = {{"a", "#111", {0, 1, 2, 3}, {1, NAN, 3, 4}}};
  const std::string d = path_data(render_line_chart(chart), "a");
  EXPECT_EQ(count_of(d, "M"), 2u);
  EXPECT_EQ(count_of(d, "L"), 1u);
}

TEST(LineChart, ASeriesNameWithMarkupIsEscapedInLegendPathAndTooltips) {
  LineChart chart;
  chart.title = "<b>title</b>";
  chart.series = {{"<script>alert(1)</script>", "red\"><script>", {0, 1}, {1, 2}}};
  const std::string svg = render_line_chart(chart);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(LineChart, WithoutAnyValueSaysNoDataAndDrawsNoPath) {
  LineChart chart;
  chart.series = {{"a", "#111", {0, 1}, {NAN, NAN}}};
  const std::string svg = render_line_chart(chart);
  EXPECT_EQ(count_of(svg, "<path"), 0u);
  EXPECT_NE(svg.find(">no data<"), std::string::npos);
}

TEST(LineChart, ALongSeriesIsThinnedToAtMost800PointsWithoutMarkersAndKeepsItsPeak) {
  ChartSeries s{"a", "#111", {}, {}};
  for (int i = 0; i < 5000; ++i) {
    s.x.push_back(i);
    s.y.push_back(i == 2501 ? 1000 : 10);
  }
  LineChart chart;
  chart.series = {s};
  const std::string svg = render_line_chart(chart);
  const std::string d = path_data(svg, "a");
  // Groups of ceil(5000 / 800) = 7 neighbours: 715 points, the first a move and 714 lines.
  EXPECT_EQ(count_of(d, "L"), 714u);
  EXPECT_EQ(count_of(svg, "<circle"), 0u);
  // The peak is the top of the plot: y = 30 (the top margin) when the axis ends at 1000.
  EXPECT_NE(d.find(" 30.0"), std::string::npos);
}

TEST(LineChart, ACategoricalAxisLabelsThePointsWithTheirEscapedNames) {
  LineChart chart;
  chart.x_labels = {"run <1>", "run 2"};
  chart.series = {{"p95", "#111", {0, 1}, {5, 6}}};
  const std::string svg = render_line_chart(chart);
  EXPECT_NE(svg.find(">run &lt;1&gt;<"), std::string::npos);
  EXPECT_NE(svg.find("p95 @ run 2: 6"), std::string::npos);
}

TEST(BarChart, DrawsOneRectPerValueWithATooltip) {
  BarChart chart;
  chart.labels = {"<1ms", "<2ms", "<4ms"};
  chart.values = {3, 0, 7};
  const std::string svg = render_bar_chart(chart);
  EXPECT_EQ(count_of(svg, "<rect class=\"bar\""), 3u);
  EXPECT_NE(svg.find("<title>&lt;4ms: 7</title>"), std::string::npos);
}

}  // namespace
}  // namespace luaload::engine::output
