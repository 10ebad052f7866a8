// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace luaload::engine::output {

// Inline SVG charts for the self-contained HTML reports (no script, no external resource). Pure functions, any
// thread. Every user-controlled text (series names, labels, titles) is HTML-escaped in the output.

// How values on an axis and in tooltips are written.
enum class ChartUnit {
  Number,        // "1234", "12.5"
  Milliseconds,  // k6 durations: "850µs", "12.5ms", "1.2s"
  Ratio,         // 0..1 shown as a percentage: "1.25%"
};

// `text` safe inside HTML/SVG text and double- or single-quoted attribute values (& < > " ' escaped).
std::string html_escape(std::string_view text);
// A value as the chart writes it on axes and in tooltips.
std::string format_chart_value(double value, ChartUnit unit);

struct ChartSeries {
  std::string name;
  std::string color;       // any CSS color
  std::vector<double> x;   // same length as y
  std::vector<double> y;   // NaN: no value there, the line is interrupted
};

// A line chart. Each series becomes one <path class="series" data-series="NAME" d="M..."> (a series without
// any finite value gets no path); points of short series also get a <circle> with a <title> tooltip. With
// x_labels the x axis is categorical (x values are indexes into x_labels), otherwise numeric in x_unit.
struct LineChart {
  std::string title;
  ChartUnit unit = ChartUnit::Number;
  std::string x_unit = "s";
  std::vector<std::string> x_labels;
  std::vector<ChartSeries> series;
  int width = 580;
  int height = 240;
  bool x_from_zero = true;  // numeric axes start at 0 (a run's time), not at the first point
};
std::string render_line_chart(const LineChart& chart);

// A bar chart: one <rect class="bar"> per value with a <title> tooltip "label: value".
struct BarChart {
  std::string title;
  std::vector<std::string> labels;
  std::vector<double> values;
  std::string color = "#4e79a7";
  int width = 580;
  int height = 240;
};
std::string render_bar_chart(const BarChart& chart);

}  // namespace luaload::engine::output
