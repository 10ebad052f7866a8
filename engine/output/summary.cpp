// SPDX-License-Identifier: MIT
#include "engine/output/summary.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "engine/metrics/format.hpp"
#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

using metrics::MetricDef;
using metrics::MetricType;
using metrics::Sink;
using metrics::ThresholdResult;

constexpr const char* kPass = "\xE2\x9C\x93";   // ✓
constexpr const char* kFail = "\xE2\x9C\x97";   // ✗
constexpr const char* kArrow = "\xE2\x86\xB3";  // ↳
constexpr const char* kDash = "\xE2\x80\x94";   // —
constexpr size_t kMinDots = 3;

struct Style {
  bool color;
  std::string wrap(const std::string& text, const char* code) const {
    return color ? std::string("\x1b[") + code + "m" + text + "\x1b[0m" : text;
  }
  std::string good(const std::string& t) const { return wrap(t, "32"); }
  std::string bad(const std::string& t) const { return wrap(t, "31"); }
  std::string value(const std::string& t) const { return wrap(t, "36"); }
  std::string dim(const std::string& t) const { return wrap(t, "2"); }
  std::string heading(const std::string& t) const { return wrap(t, "1"); }
};

std::string rstrip(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

struct Row {
  std::string label;  // metric name, or an indented sub-metric label
  bool trend = false;
  std::vector<std::string> columns;
};

std::vector<std::string> columns_of(const MetricDef& def, const Sink& sink, double elapsed_s,
                                    const SummaryOptions& options) {
  using metrics::format_number;
  using metrics::format_value;
  switch (def.type) {
    case MetricType::Trend: {
      std::vector<std::string> out;
      for (const std::string& stat : options.trend_stats) {
        const auto v = trend_stat(sink.trend(), stat);
        out.push_back(stat + "=" + (v ? format_value(*v, def.contains) : "?"));
      }
      return out;
    }
    case MetricType::Rate:
      return {metrics::format_percent(sink.rate().rate()), std::string(kPass) + " " + std::to_string(sink.rate().passes),
              std::string(kFail) + " " + std::to_string(sink.rate().fails())};
    case MetricType::Counter: {
      const double per_s = elapsed_s > 0 ? sink.counter().sum / elapsed_s : 0;
      const std::string rate =
          def.contains == metrics::ValueType::Data ? metrics::format_bytes(per_s) : format_number(per_s);
      return {format_value(sink.counter().sum, def.contains), rate + "/s"};
    }
    case MetricType::Gauge:
      return {format_value(sink.gauge().value, def.contains), "min=" + format_value(sink.gauge().min, def.contains),
              "max=" + format_value(sink.gauge().max, def.contains)};
  }
  return {};
}

// Sub-metric selectors with thresholds, per metric name, in configuration order without repeats.
std::map<std::string, std::vector<metrics::Tags>> submetrics_with_thresholds(
    const std::vector<ThresholdResult>& thresholds) {
  std::map<std::string, std::vector<metrics::Tags>> out;
  for (const ThresholdResult& t : thresholds) {
    const auto selector = metrics::parse_selector(t.selector, nullptr);
    if (!selector || selector->filter.empty()) continue;
    auto& list = out[selector->metric];
    if (std::find(list.begin(), list.end(), selector->filter) == list.end()) list.push_back(selector->filter);
  }
  return out;
}

std::vector<Row> metric_rows(const metrics::Store& store, const std::vector<ThresholdResult>& thresholds,
                             double elapsed_s, const SummaryOptions& options) {
  const auto submetrics = submetrics_with_thresholds(thresholds);
  std::vector<Row> rows;
  for (const MetricDef& def : store.metrics()) {
    const auto sink = store.aggregate(def.name);
    if (!sink || sink->empty()) continue;
    const bool trend = def.type == MetricType::Trend;
    rows.push_back({def.name, trend, columns_of(def, *sink, elapsed_s, options)});
    auto it = submetrics.find(def.name);
    if (it == submetrics.end()) continue;
    for (const metrics::Tags& filter : it->second) {
      const auto sub = store.aggregate(def.name, filter);
      if (sub && !sub->empty()) rows.push_back({"  " + submetric_label(filter), trend, columns_of(def, *sub, elapsed_s, options)});
    }
  }
  return rows;
}

// Pads each column to the widest cell of that column among rows of the same family (trends, others), as k6 does.
std::string render_rows(const std::vector<Row>& rows, const Style& style) {
  size_t label_width = 0;
  std::vector<size_t> widths[2];
  for (const Row& row : rows) {
    label_width = std::max(label_width, display_width(row.label));
    auto& w = widths[row.trend];
    if (w.size() < row.columns.size()) w.resize(row.columns.size(), 0);
    for (size_t i = 0; i < row.columns.size(); ++i) w[i] = std::max(w[i], display_width(row.columns[i]));
  }
  std::string out;
  for (const Row& row : rows) {
    const std::string dots(label_width + kMinDots - display_width(row.label), '.');
    std::string line = "    " + row.label + style.dim(dots) + ": ";
    std::string cells;
    for (size_t i = 0; i < row.columns.size(); ++i) {
      const bool last = i + 1 == row.columns.size();
      cells += style.value(last ? row.columns[i] : pad_to_width(row.columns[i], widths[row.trend][i])) + (last ? "" : " ");
    }
    out += rstrip(line + cells) + "\n";
  }
  return out;
}

std::string render_thresholds(const std::vector<ThresholdResult>& thresholds, const Style& style) {
  std::vector<std::string> order;
  for (const ThresholdResult& t : thresholds) {
    if (std::find(order.begin(), order.end(), t.selector) == order.end()) order.push_back(t.selector);
  }
  std::string out;
  for (const std::string& selector : order) {
    out += "\n    " + selector + "\n";
    for (const ThresholdResult& t : thresholds) {
      if (t.selector != selector) continue;
      const std::string mark = t.passed ? style.good(kPass) : style.bad(kFail);
      out += "    " + mark + " '" + t.expression + "' " + t.text + "\n";
    }
  }
  return out;
}

std::string render_checks(const metrics::Store& store, const Style& style) {
  std::map<std::string, metrics::RateSink> checks;  // by check name
  for (const auto& series : store.series("checks")) {
    auto it = std::find_if(series.tags->begin(), series.tags->end(), [](const auto& t) { return t.first == "check"; });
    if (it == series.tags->end() || series.sink->empty()) continue;
    auto& total = checks[it->second];
    total.passes += series.sink->rate().passes;
    total.total += series.sink->rate().total;
  }
  std::string out;
  for (const auto& [name, rate] : checks) {
    if (rate.fails() == 0) {
      out += "    " + style.good(std::string(kPass) + " " + name) + "\n";
      continue;
    }
    const auto percent = static_cast<int>(rate.rate() * 100);
    out += "    " + style.bad(std::string(kFail) + " " + name) + "\n";
    out += "     " + std::string(kArrow) + "  " + std::to_string(percent) + "% " + kDash + " " + kPass + " " +
           std::to_string(rate.passes) + " / " + kFail + " " + std::to_string(rate.fails()) + "\n";
  }
  return out;
}

}  // namespace

bool color_allowed(bool requested) {
  const char* no_color = std::getenv("NO_COLOR");
  return requested && (no_color == nullptr || no_color[0] == '\0');
}

std::string submetric_label(const metrics::Tags& filter) {
  std::string out = "{ ";
  for (size_t i = 0; i < filter.size(); ++i) out += (i ? ", " : "") + filter[i].first + ":" + filter[i].second;
  return out + " }";
}

std::string render_summary(const metrics::Store& store, const std::vector<ThresholdResult>& thresholds,
                           double elapsed_s, const SummaryOptions& options) {
  const Style style{options.color};
  std::string out;
  if (!thresholds.empty()) out += "\n  " + style.heading("THRESHOLDS") + "\n" + render_thresholds(thresholds, style);
  const std::string checks = render_checks(store, style);
  if (!checks.empty()) out += "\n  " + style.heading("CHECKS") + "\n\n" + checks;
  const std::vector<Row> rows = metric_rows(store, thresholds, elapsed_s, options);
  if (!rows.empty()) out += "\n  " + style.heading("METRICS") + "\n\n" + render_rows(rows, style);
  return out + "\n";
}

}  // namespace luaload::engine::output
