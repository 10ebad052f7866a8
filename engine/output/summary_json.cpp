// SPDX-License-Identifier: MIT
#include "engine/output/summary_json.hpp"

#include <algorithm>
#include <map>

#include "engine/output/histogram_json.hpp"

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

// Length of the valid UTF-8 sequence starting at s[i], 0 when it is not one.
size_t utf8_sequence(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >> 4) == 0xE ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are invalid too (RFC 3629).
  const auto second = static_cast<unsigned char>(n > 1 ? s[i + 1] : 0);
  if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second >= 0xA0)) return 0;
  if ((c == 0xF0 && second < 0x90) || (c == 0xF4 && second >= 0x90)) return 0;
  return n;
}

// Tag values and check names come from scripts and URLs and may hold any bytes; nlohmann::json's dump() throws
// on invalid UTF-8, so each invalid byte becomes U+FFFD here rather than losing the whole export.
std::string utf8_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s, i, n);
    i += n;
  }
  return out;
}

json tags_json(const metrics::Tags& tags) {
  json out = json::object();
  for (const auto& [key, value] : tags) out[utf8_safe(key)] = utf8_safe(value);
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
    const std::string name = utf8_safe(entry_name(*selector));
    if (!metrics_out.contains(name)) {
      const auto sink = store.aggregate(def->name, selector->filter);
      metrics_out[name] = metric_json(*def, *sink, elapsed_s, options);
      if (!selector->filter.empty()) {
        metrics_out[name]["submetric"] = {{"metric", def->name}, {"tags", tags_json(selector->filter)}};
      }
    }
    metrics_out[name]["thresholds"][utf8_safe(t.expression)] = {{"ok", t.passed}, {"no_data", t.no_data}};
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
    checks.push_back({{"name", utf8_safe(names[path])}, {"path", utf8_safe(path)}, {"passes", rate.passes}, {"fails", rate.fails()}});
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

std::string sanitize_utf8(const std::string& s) { return utf8_safe(s); }

}  // namespace luaload::engine::output
