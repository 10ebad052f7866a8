// SPDX-License-Identifier: MIT
#include "engine/output/html_report.hpp"

#include <algorithm>
#include <cmath>

#include "engine/metrics/format.hpp"
#include "engine/output/summary_reader.hpp"
#include "engine/output/svg_chart.hpp"
#include "engine/output/timeline.hpp"

namespace luaload::engine::output {
namespace {

using nlohmann::json;

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header .sub{color:#b8c0cc;margin-top:4px}main{padding:8px 28px 40px;max-width:1600px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:16px 0;padding:12px 18px}
h2{font-size:17px;margin:4px 0 10px}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 12px;border-bottom:1px solid #eceef2;text-align:right}th{background:#f0f2f5}
td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:600}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}
.badge.pass{background:#1a7f37;color:#fff}.badge.fail{background:#c62828;color:#fff}
.charts{display:flex;flex-wrap:wrap;gap:12px}svg.chart{background:#fff;border:1px solid #eceef2;border-radius:4px}
svg .grid{stroke:#e3e6eb;stroke-width:1}svg text{font:11px system-ui,sans-serif;fill:#556}
svg .ct{font-size:13px;font-weight:600;fill:#1d2330}svg .yl{text-anchor:end;dominant-baseline:middle}
svg .xl{text-anchor:middle}svg .nodata{text-anchor:middle;fill:#99a}svg .pt{opacity:.55}svg .pt:hover{opacity:1}
svg .bar:hover{opacity:.75}.muted{color:#778}
)";

std::string td(const std::string& text) { return "<td>" + html_escape(text) + "</td>"; }
std::string th(const std::string& text) { return "<th>" + html_escape(text) + "</th>"; }
std::string verdict(bool ok) { return ok ? "<td class=\"pass\">pass</td>" : "<td class=\"fail\">FAIL</td>"; }
std::string ms(double v) { return metrics::format_time_ms(v); }
std::string num(double v) { return metrics::format_number(std::round(v * 100) / 100); }

std::string string_at(const json& j, const char* key, const std::string& fallback = "") {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

double number_at(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0;
}

std::string scalar_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

bool thresholds_passed(const json& summary) {
  for (const auto& [name, entry] : summary["metrics"].items()) {
    if (!entry.contains("thresholds")) continue;
    for (const auto& [expr, result] : entry["thresholds"].items()) {
      if (result.is_object() && result.contains("ok") && result["ok"] == false) return false;
    }
  }
  return true;
}

std::string settings_section(const json& summary) {
  const json run = summary.contains("run") ? summary["run"] : json::object();
  std::string rows;
  rows += "<tr>" + td("script") + td(string_at(run, "script", "-")) + "</tr>";
  rows += "<tr>" + td("start time") + td(string_at(run, "start_time", "-")) + "</tr>";
  rows += "<tr>" + td("test run duration") + td(ms(run_duration_s(summary) * 1000)) + "</tr>";
  rows += "<tr>" + td("luaload version") + td(string_at(run, "luaload_version", "-")) + "</tr>";
  if (run.contains("options") && run["options"].is_object()) {
    for (const auto& [key, value] : run["options"].items())
      rows += "<tr>" + td(key) + td(scalar_text(value)) + "</tr>";
  }
  return "<section id=\"settings\"><h2>Test settings</h2><table>" + rows + "</table></section>";
}

// The statistic a threshold expression tests ("p(95)" in "p(95)<300"), for showing the observed value.
std::string threshold_stat(const std::string& expression) {
  const size_t end = expression.find_first_of("<>=!");
  std::string stat = expression.substr(0, end);
  stat.erase(std::remove(stat.begin(), stat.end(), ' '), stat.end());
  return stat;
}

std::string observed_text(const json& entry, const std::string& stat) {
  auto value = entry_stat(entry, stat);
  if (!value) return "-";
  if (string_at(entry, "contains") == "time" && stat != "count") return ms(*value);
  return stat == "rate" && string_at(entry, "type") == "rate" ? metrics::format_percent(*value) : num(*value);
}

std::string thresholds_section(const json& summary) {
  std::string rows;
  for (const auto& [name, entry] : summary["metrics"].items()) {
    if (!entry.contains("thresholds") || !entry["thresholds"].is_object()) continue;
    for (const auto& [expr, result] : entry["thresholds"].items()) {
      const bool ok = !result.is_object() || !result.contains("ok") || result["ok"] != false;
      rows += "<tr>" + td(name) + td(expr) + td(observed_text(entry, threshold_stat(expr))) + verdict(ok) + "</tr>";
    }
  }
  if (rows.empty()) return "<section id=\"thresholds\"><h2>Thresholds</h2><p class=\"muted\">none defined</p></section>";
  return "<section id=\"thresholds\"><h2>Thresholds</h2><table><tr>" + th("metric") + th("threshold") +
         th("observed") + th("result") + "</tr>" + rows + "</table></section>";
}

std::string checks_section(const json& summary) {
  std::string rows;
  const json& group = summary.contains("root_group") ? summary["root_group"] : json::object();
  if (group.contains("checks") && group["checks"].is_array()) {
    for (const json& c : group["checks"]) {
      const double passes = number_at(c, "passes"), fails = number_at(c, "fails");
      const double rate = passes + fails > 0 ? passes / (passes + fails) : 0;
      rows += "<tr>" + td(string_at(c, "path", string_at(c, "name"))) + td(num(passes)) + td(num(fails)) +
              td(metrics::format_percent(rate)) + verdict(fails == 0) + "</tr>";
    }
  }
  if (rows.empty()) return "<section id=\"checks\"><h2>Checks</h2><p class=\"muted\">no checks ran</p></section>";
  return "<section id=\"checks\"><h2>Checks</h2><table><tr>" + th("check") + th("passes") + th("fails") +
         th("pass rate") + th("result") + "</tr>" + rows + "</table></section>";
}

ChartSeries series_from(const std::vector<TimePoint>& points, const char* name, const char* color,
                        double TimePoint::*field) {
  ChartSeries s{name, color, {}, {}};
  for (const TimePoint& p : points) {
    s.x.push_back(p.t_s);
    s.y.push_back(p.*field);
  }
  return s;
}

std::string charts_section(const json& summary) {
  const auto points = time_series_from_json(summary.contains("time_series") ? summary["time_series"] : json());
  LineChart rps{"Requests per second", ChartUnit::Number, "s", {}, {series_from(points, "req/s", "#4e79a7", &TimePoint::rps)}};
  LineChart latency{"Latency (http_req_duration)", ChartUnit::Milliseconds, "s", {},
                    {series_from(points, "p50", "#59a14f", &TimePoint::p50),
                     series_from(points, "p95", "#f28e2b", &TimePoint::p95),
                     series_from(points, "p99", "#e15759", &TimePoint::p99)}};
  LineChart vus{"Active VUs", ChartUnit::Number, "s", {}, {series_from(points, "vus", "#76b7b2", &TimePoint::vus)}};
  LineChart errors{"Error rate (http_req_failed)", ChartUnit::Ratio, "s", {},
                   {series_from(points, "error rate", "#c62828", &TimePoint::error_rate)}};
  return "<section id=\"timeseries\"><h2>Over time</h2><div class=\"charts\">" + render_line_chart(rps) +
         render_line_chart(latency) + render_line_chart(vus) + render_line_chart(errors) + "</div></section>";
}

std::string requests_section(const json& summary) {
  const double duration_s = run_duration_s(summary);
  std::string rows;
  for (const auto& [name, s] : request_stats_by_name(summary)) {
    const auto& h = s.duration;
    rows += "<tr>" + td(name.empty() ? "(untagged)" : name) + td(std::to_string(s.requests)) +
            td(num(duration_s > 0 ? static_cast<double>(s.requests) / duration_s : 0) + "/s") +
            td(std::to_string(s.failed)) + td(ms(h.mean())) + td(ms(h.percentile(50))) + td(ms(h.percentile(90))) +
            td(ms(h.percentile(95))) + td(ms(h.percentile(99))) + td(ms(h.max())) + "</tr>";
  }
  if (rows.empty()) return "<section id=\"requests\"><h2>Requests by name</h2><p class=\"muted\">no requests</p></section>";
  std::string head = "<tr>";
  for (const char* h : {"name", "count", "rate", "failures", "avg", "p50", "p90", "p95", "p99", "max"}) head += th(h);
  return "<section id=\"requests\"><h2>Requests by name</h2><table>" + head + "</tr>" + rows + "</table></section>";
}

// Neighbouring histogram buckets grouped into at most kBars bars, each labelled with its upper bound.
BarChart latency_bars(const metrics::Histogram& h) {
  constexpr int32_t kBars = 40;
  BarChart chart;
  chart.title = "Latency distribution (http_req_duration, requests per bucket)";
  const auto buckets = h.buckets().positive;
  if (buckets.empty()) return chart;
  const int32_t first = buckets.front().key, last = buckets.back().key;
  const int32_t width = std::max<int32_t>(1, (last - first + kBars) / kBars);
  for (int32_t start = first; start <= last; start += width) {
    chart.labels.push_back("<" + ms(std::min(metrics::Histogram::upper_bound(start + width - 1), h.max())));
    chart.values.push_back(0);
  }
  for (const auto& b : buckets) chart.values[(b.key - first) / width] += static_cast<double>(b.count);
  return chart;
}

std::string distribution_section(const json& summary) {
  const json& metrics = summary["metrics"];
  std::optional<metrics::Histogram> h;
  if (metrics.contains("http_req_duration")) h = entry_histogram(metrics["http_req_duration"]);
  return "<section id=\"distribution\"><h2>Latency distribution</h2>" +
         render_bar_chart(latency_bars(h ? *h : metrics::Histogram{})) + "</section>";
}

std::string errors_section(const json& summary) {
  std::string rows;
  for (const auto& [code, count] : errors_by_code(summary)) rows += "<tr>" + td(code) + td(std::to_string(count)) + "</tr>";
  if (rows.empty()) return "<section id=\"errors\"><h2>Errors by code</h2><p class=\"muted\">no failed requests</p></section>";
  return "<section id=\"errors\"><h2>Errors by code</h2><table><tr>" + th("cause") + th("failed requests") + "</tr>" +
         rows + "</table></section>";
}

}  // namespace

std::string html_document(const std::string& title, const std::string& body_html) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         "</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>" + kStyle +
         "</style></head><body>" + body_html + "</body></html>\n";
}

std::string render_html_report(const json& summary_in) {
  json summary = summary_in.is_object() ? summary_in : json::object();
  if (!summary.contains("metrics") || !summary["metrics"].is_object()) summary["metrics"] = json::object();
  const json run = summary.contains("run") ? summary["run"] : json::object();
  const std::string script = string_at(run, "script", "load test");
  const bool ok = thresholds_passed(summary);
  const std::string header = "<header><h1>luaload report: " + html_escape(script) + " <span class=\"badge " +
                             (ok ? "pass\">thresholds passed" : "fail\">thresholds failed") +
                             "</span></h1><div class=\"sub\">" + html_escape(string_at(run, "start_time", "")) +
                             "</div></header>";
  const std::string body = header + "<main>" + settings_section(summary) + thresholds_section(summary) +
                           checks_section(summary) + charts_section(summary) + requests_section(summary) +
                           distribution_section(summary) + errors_section(summary) + "</main>";
  return html_document("luaload report: " + script, body);
}

}  // namespace luaload::engine::output
