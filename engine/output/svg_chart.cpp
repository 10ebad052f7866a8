// SPDX-License-Identifier: MIT
#include "engine/output/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/metrics/format.hpp"

namespace luaload::engine::output {
namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 30, kBottom = 36;
constexpr size_t kMaxPathPoints = 800;  // beyond this, points are thinned (keeping each group's peak)
constexpr size_t kMaxMarkers = 120;     // series longer than this get no hover markers

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// 1, 2 or 5 times a power of ten, at least `raw`: readable tick steps.
double nice_step(double raw) {
  if (!(raw > 0)) return 1;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

struct Frame {
  double x0 = 0, x1 = 1, y1 = 1;  // data ranges (y starts at 0)
  double y_step = 1;              // between y ticks
  double width = 0, height = 0;
  double px(double x) const { return kLeft + (x - x0) / (x1 - x0) * (width - kLeft - kRight); }
  double py(double y) const { return height - kBottom - y / y1 * (height - kTop - kBottom); }
};

std::string svg_open(int width, int height, const std::string& title) {
  return "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
         "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
         std::to_string(height) + "\" role=\"img\"><title>" + html_escape(title) + "</title><text class=\"ct\" x=\"" +
         fixed(kLeft) + "\" y=\"18\">" + html_escape(title) + "</text>";
}

std::string y_axis(const Frame& f, ChartUnit unit, double step) {
  std::string out;
  for (double v = 0; v <= f.y1 * 1.0001; v += step) {
    const std::string y = fixed(f.py(v));
    out += "<line class=\"grid\" x1=\"" + fixed(kLeft) + "\" x2=\"" + fixed(f.width - kRight) + "\" y1=\"" + y +
           "\" y2=\"" + y + "\"/><text class=\"yl\" x=\"" + fixed(kLeft - 6) + "\" y=\"" + y + "\">" +
           html_escape(format_chart_value(v, unit)) + "</text>";
  }
  return out;
}

std::string x_axis(const Frame& f, const LineChart& chart) {
  std::string out;
  const double base = f.height - kBottom + 16;
  if (!chart.x_labels.empty()) {
    const size_t n = chart.x_labels.size();
    const size_t every = std::max<size_t>(1, (n + 5) / 6);
    for (size_t i = 0; i < n; i += every) {
      // The first and last labels are aligned inwards so that they stay inside the chart.
      const char* anchor = i == 0 && n > 1 ? " style=\"text-anchor:start\"" : i + 1 == n && n > 1 ? " style=\"text-anchor:end\"" : "";
      out += "<text class=\"xl\"" + std::string(anchor) + " x=\"" + fixed(f.px(static_cast<double>(i))) + "\" y=\"" +
             fixed(base) + "\">" + html_escape(chart.x_labels[i]) + "</text>";
    }
    return out;
  }
  const double step = nice_step((f.x1 - f.x0) / 8);
  for (double v = std::ceil(f.x0 / step) * step; v <= f.x1 * 1.0001; v += step) {
    out += "<text class=\"xl\" x=\"" + fixed(f.px(v)) + "\" y=\"" + fixed(base) + "\">" +
           html_escape(metrics::format_number(v) + chart.x_unit) + "</text>";
  }
  return out;
}

// Indexes of the points drawn: all of them, or for long series the peak of each group of neighbours.
std::vector<size_t> drawn_points(const ChartSeries& s) {
  std::vector<size_t> out;
  const size_t n = std::min(s.x.size(), s.y.size());
  const size_t group = n > kMaxPathPoints ? (n + kMaxPathPoints - 1) / kMaxPathPoints : 1;
  for (size_t start = 0; start < n; start += group) {
    size_t best = start;
    for (size_t i = start; i < std::min(n, start + group); ++i) {
      if (std::isnan(s.y[best]) || (!std::isnan(s.y[i]) && s.y[i] > s.y[best])) best = i;
    }
    out.push_back(best);
  }
  return out;
}

std::string series_svg(const Frame& f, const ChartSeries& s, ChartUnit unit, const LineChart& chart) {
  const std::vector<size_t> points = drawn_points(s);
  std::string d, markers;
  bool pen_down = false;
  for (size_t i : points) {
    if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) {
      pen_down = false;
      continue;
    }
    const std::string x = fixed(f.px(s.x[i])), y = fixed(f.py(s.y[i]));
    d += (pen_down ? "L" : "M") + x + " " + y;
    pen_down = true;
    if (points.size() > kMaxMarkers) continue;
    const bool in_labels = s.x[i] >= 0 && s.x[i] < static_cast<double>(chart.x_labels.size());
    const size_t label_index = in_labels ? static_cast<size_t>(s.x[i]) : chart.x_labels.size();
    const std::string at = chart.x_labels.empty()        ? metrics::format_number(s.x[i]) + chart.x_unit
                           : label_index < chart.x_labels.size() ? chart.x_labels[label_index]
                                                                 : "";
    markers += "<circle class=\"pt\" cx=\"" + x + "\" cy=\"" + y + "\" r=\"2.5\" fill=\"" + html_escape(s.color) +
               "\"><title>" + html_escape(s.name + " @ " + at + ": " + format_chart_value(s.y[i], unit)) +
               "</title></circle>";
  }
  if (d.empty()) return "";
  return "<path class=\"series\" data-series=\"" + html_escape(s.name) + "\" fill=\"none\" stroke=\"" +
         html_escape(s.color) + "\" stroke-width=\"1.8\" d=\"" + d + "\"/>" + markers;
}

// Only charts with several series get a legend; the title names a single one.
std::string legend(const Frame& f, const std::vector<ChartSeries>& series) {
  std::string out;
  if (series.size() < 2) return out;
  double x = f.width - kRight;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    x -= 14 + 7.0 * static_cast<double>(it->name.size()) + 12;
    out += "<rect x=\"" + fixed(x) + "\" y=\"9\" width=\"10\" height=\"10\" fill=\"" + html_escape(it->color) +
           "\"/><text class=\"lg\" x=\"" + fixed(x + 14) + "\" y=\"18\">" + html_escape(it->name) + "</text>";
  }
  return out;
}

Frame frame_for(const LineChart& chart) {
  Frame f;
  f.width = chart.width;
  f.height = chart.height;
  bool any_x = false;
  double y_max = 0;
  for (const ChartSeries& s : chart.series) {
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      f.x0 = any_x ? std::min(f.x0, s.x[i]) : s.x[i];
      f.x1 = any_x ? std::max(f.x1, s.x[i]) : s.x[i];
      any_x = true;
      y_max = std::max(y_max, s.y[i]);
    }
  }
  if (!chart.x_labels.empty()) {
    f.x0 = 0;
    f.x1 = static_cast<double>(chart.x_labels.size() - 1);
  }
  if (chart.x_labels.empty() && chart.x_from_zero) f.x0 = std::min(f.x0, 0.0);
  if (f.x1 <= f.x0) f.x1 = f.x0 + 1;
  // A flat zero line (no errors) gets a small scale rather than 0..100%.
  if (y_max == 0 && chart.unit == ChartUnit::Ratio) y_max = 0.01;
  f.y_step = nice_step(y_max / 4);
  f.y1 = std::max(f.y_step, std::ceil(y_max / f.y_step) * f.y_step);
  return f;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_chart_value(double value, ChartUnit unit) {
  if (!std::isfinite(value)) return "-";
  switch (unit) {
    case ChartUnit::Milliseconds: return metrics::format_time_ms(value);
    case ChartUnit::Ratio: return metrics::format_percent(value);
    case ChartUnit::Number: break;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(value) >= 100 ? "%.0f" : "%.3g", value);
  return buf;
}

std::string render_line_chart(const LineChart& chart) {
  const Frame f = frame_for(chart);
  std::string out = svg_open(chart.width, chart.height, chart.title);
  out += y_axis(f, chart.unit, f.y_step);
  out += x_axis(f, chart);
  std::string paths;
  for (const ChartSeries& s : chart.series) paths += series_svg(f, s, chart.unit, chart);
  if (paths.empty()) {
    paths = "<text class=\"nodata\" x=\"" + fixed(chart.width / 2.0) + "\" y=\"" + fixed(chart.height / 2.0) +
            "\">no data</text>";
  }
  return out + paths + legend(f, chart.series) + "</svg>";
}

std::string render_bar_chart(const BarChart& chart) {
  Frame f;
  f.width = chart.width;
  f.height = chart.height;
  f.x1 = std::max<double>(1, static_cast<double>(chart.values.size()));
  double y_max = 0;
  for (double v : chart.values) y_max = std::max(y_max, std::isfinite(v) ? v : 0);
  const double step = nice_step(y_max / 4);
  f.y1 = std::max(step, std::ceil(y_max / step) * step);
  std::string out = svg_open(chart.width, chart.height, chart.title) + y_axis(f, ChartUnit::Number, step);
  const double slot = (f.width - kLeft - kRight) / f.x1;
  const size_t every = std::max<size_t>(1, (chart.values.size() + 7) / 8);
  for (size_t i = 0; i < chart.values.size(); ++i) {
    const double v = std::isfinite(chart.values[i]) ? chart.values[i] : 0;
    const std::string label = i < chart.labels.size() ? chart.labels[i] : "";
    const double x = f.px(static_cast<double>(i));
    out += "<rect class=\"bar\" x=\"" + fixed(x + 1) + "\" y=\"" + fixed(f.py(v)) + "\" width=\"" +
           fixed(std::max(1.0, slot - 2)) + "\" height=\"" + fixed(f.py(0) - f.py(v)) + "\" fill=\"" +
           html_escape(chart.color) + "\"><title>" + html_escape(label + ": " + format_chart_value(v, ChartUnit::Number)) +
           "</title></rect>";
    if (i % every == 0) {
      out += "<text class=\"xl\" x=\"" + fixed(x + slot / 2) + "\" y=\"" + fixed(f.height - kBottom + 16) + "\">" +
             html_escape(label) + "</text>";
    }
  }
  if (chart.values.empty()) {
    out += "<text class=\"nodata\" x=\"" + fixed(chart.width / 2.0) + "\" y=\"" + fixed(chart.height / 2.0) +
           "\">no data</text>";
  }
  return out + "</svg>";
}

}  // namespace luaload::engine::output
