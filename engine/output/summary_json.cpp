// SPDX-License-Identifier: MIT
#include "engine/output/summary_json.hpp"

#include <algorithm>
#include <map>

#include "engine/output/histogram_json.hpp"
#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

using metrics::MetricDef;
using metrics::MetricType;
using metrics::Sink;
using metrics::ThresholdResult;
using nlohmann::json;

json values_of(const Sink& sink, double elapsed_s, const SummaryJsonOptions& options) {
  json v = json::object();
  switch (sink.type()) {
    case MetricType::Trend:
      for (const std::string& stat : options.trend_stats) {
        if (auto value = trend_stat(sink.trend(), stat)) v[stat] = *value;
      }
      break;
    case MetricType::Rate:
      v = {{"rate", sink.rate().rate()}, {"passes", sink.rate().passes}, {"fails", sink.rate().fails()}};
      break;
    case MetricType::Counter:
      v = {{"count", sink.counter().sum}, {"rate", elapsed_s > 0 ? sink.counter().sum / elapsed_s : 0.0}};
      break;
    case MetricType::Gauge:
      v = {{"value", sink.gauge().value}, {"min", sink.gauge().min}, {"max", sink.gauge().max}};
      break;
  }
  return v;
}

// Tag values, check names and threshold sources come from scripts and URLs and may hold any bytes; nlohmann::json's
// dump() throws on invalid UTF-8, so each of them is sanitized before it enters the document.
json tags_json(const metrics::Tags& tags) {
  json out = json::object();
  for (const auto& [key, value] : tags) out[sanitize_utf8(key)] = sanitize_utf8(value);
  return out;
}

json metric_json(const MetricDef& def, const Sink& sink, double elapsed_s, const SummaryJsonOptions& options) {
  json m = {{"type", metrics::type_name(def.type)},
            {"contains", metrics::value_type_name(def.contains)},
            {"values", values_of(sink, elapsed_s, options)}};
  if (options.include_histograms && def.type == MetricType::Trend) m["histogram"] = histogram_to_json(sink.trend());
  return m;
}

json series_json(const metrics::Store& store, const MetricDef& def, double elapsed_s,
                 const SummaryJsonOptions& options) {
  json out = json::array();
  for (const auto& s : store.series(def.name)) {
    if (s.sink->empty()) continue;
    json entry = {{"tags", tags_json(*s.tags)}, {"values", values_of(*s.sink, elapsed_s, options)}};
    if (options.include_histograms && def.type == MetricType::Trend) {
      entry["histogram"] = histogram_to_json(s.sink->trend());
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// k6 names a sub-metric entry "metric{tag:value,...}" with the tags sorted.
std::string entry_name(const metrics::Selector& selector) {
  std::string name = selector.metric;
  if (selector.filter.empty()) return name;
  name += "{";
  for (size_t i = 0; i < selector.filter.size(); ++i) {
    name += (i ? "," : "") + selector.filter[i].first + ":" + selector.filter[i].second;
  }
  return name + "}";
}

void add_threshold_entries(json& metrics_out, const metrics::Store& store,
                           const std::vector<ThresholdResult>& thresholds, double elapsed_s,
                           const SummaryJsonOptions& options) {
  for (const ThresholdResult& t : thresholds) {
    const auto selector = metrics::parse_selector(t.selector, nullptr);
    const MetricDef* def = selector ? store.find(selector->metric) : nullptr;
    if (def == nullptr) continue;
    const std::string name = sanitize_utf8(entry_name(*selector));
    if (!metrics_out.contains(name)) {
      const auto sink = store.aggregate(def->name, selector->filter);
      metrics_out[name] = metric_json(*def, *sink, elapsed_s, options);
      if (!selector->filter.empty()) {
        metrics_out[name]["submetric"] = {{"metric", def->name}, {"tags", tags_json(selector->filter)}};
      }
    }
    metrics_out[name]["thresholds"][sanitize_utf8(t.expression)] = {{"ok", t.passed}, {"no_data", t.no_data}};
  }
}

json root_group_json(const metrics::Store& store) {
  std::map<std::string, metrics::RateSink> by_path;  // "::name" or "<group>::name"
  std::map<std::string, std::string> names;
  for (const auto& s : store.series("checks")) {
    std::string name, group;
    for (const auto& [key, value] : *s.tags) {
      if (key == "check") name = value;
      if (key == "group") group = value;
    }
    if (name.empty()) continue;
    const std::string path = group + "::" + name;
    by_path[path].passes += s.sink->rate().passes;
    by_path[path].total += s.sink->rate().total;
    names[path] = name;
  }
  json checks = json::array();
  for (const auto& [path, rate] : by_path) {
    checks.push_back({{"name", sanitize_utf8(names[path])}, {"path", sanitize_utf8(path)}, {"passes", rate.passes}, {"fails", rate.fails()}});
  }
  return {{"name", ""}, {"path", ""}, {"groups", json::array()}, {"checks", std::move(checks)}};
}

}  // namespace

json summary_json(const metrics::Store& store, const std::vector<ThresholdResult>& thresholds, double elapsed_s,
                  const SummaryJsonOptions& options) {
  json metrics_out = json::object();
  for (const MetricDef& def : store.metrics()) {
    const auto sink = store.aggregate(def.name);
    if (!sink || sink->empty()) continue;
    metrics_out[def.name] = metric_json(def, *sink, elapsed_s, options);
    if (options.include_series) metrics_out[def.name]["series"] = series_json(store, def, elapsed_s, options);
  }
  add_threshold_entries(metrics_out, store, thresholds, elapsed_s, options);
  json out = {
      {"metrics", std::move(metrics_out)},
      {"root_group", root_group_json(store)},
      {"state", {{"testRunDurationMs", elapsed_s * 1000}}},
      {"options", {{"summaryTrendStats", options.trend_stats}}},
  };
  if (options.time_series != nullptr) out["time_series"] = time_series_json(*options.time_series);
  if (!options.run.is_null()) out["run"] = options.run;
  return out;
}

}  // namespace luaload::engine::output
