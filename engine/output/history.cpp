// SPDX-License-Identifier: MIT
#include "engine/output/history.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "engine/metrics/format.hpp"
#include "engine/output/html_report.hpp"
#include "engine/output/summary_json.hpp"
#include "engine/output/summary_reader.hpp"
#include "engine/output/svg_chart.hpp"
#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// How a metric's values read: durations for time trends, percentages for rates, plain numbers otherwise.
ChartUnit unit_of(const std::vector<HistoryRun>& runs, const TrendMetric& m) {
  for (const HistoryRun& run : runs) {
    const json& metrics = run.summary["metrics"];
    if (!metrics.contains(m.metric)) continue;
    const json& entry = metrics[m.metric];
    auto text = [&](const char* key) {
      return entry.is_object() && entry.contains(key) && entry[key].is_string() ? entry[key].get<std::string>() : "";
    };
    const std::string type = text("type"), contains = text("contains");
    if (type == "trend" && contains == "time" && m.stat != "count") return ChartUnit::Milliseconds;
    if (type == "rate" && m.stat == "rate") return ChartUnit::Ratio;
    return ChartUnit::Number;
  }
  return ChartUnit::Number;
}

std::string change_text(std::optional<double> previous, std::optional<double> current, ChartUnit unit) {
  if (!previous || !current) return "";
  char buf[32];
  if (unit == ChartUnit::Ratio) {
    std::snprintf(buf, sizeof buf, "%+.2fpp", (*current - *previous) * 100);
  } else if (*previous == 0) {
    return *current == 0 ? "+0.00%" : "n/a";
  } else {
    std::snprintf(buf, sizeof buf, "%+.2f%%", (*current / *previous - 1) * 100);
  }
  return buf;
}

std::string run_label(const HistoryRun& run) {
  if (run.summary.contains("run") && run.summary["run"].is_object()) {
    const json& info = run.summary["run"];
    if (info.contains("start_time") && info["start_time"].is_string() && !info["start_time"].get<std::string>().empty())
      return info["start_time"].get<std::string>();
  }
  return run.id;
}

}  // namespace

std::string history_file_name(int64_t start_unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(start_unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H-%M-%SZ.json", &utc);
  return buf;
}

std::optional<std::string> write_history_entry(const std::string& dir, int64_t start_unix_ms,
                                               const std::string& content, std::string* error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create the history directory \"" + dir + "\": " + ec.message();
    return std::nullopt;
  }
  const std::string name = history_file_name(start_unix_ms);
  const std::string stem = name.substr(0, name.size() - 5);
  fs::path path = fs::path(dir) / name;
  for (int n = 2; fs::exists(path, ec) && n < 1000; ++n) path = fs::path(dir) / (stem + "-" + std::to_string(n) + ".json");
  if (!write_file_atomically(path.string(), content, error)) return std::nullopt;
  return path.string();
}

std::optional<std::vector<HistoryRun>> load_history(const std::string& dir, std::vector<std::string>* skipped,
                                                    std::string* error) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json" && it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) {
    *error = "cannot list the history directory \"" + dir + "\": " + ec.message();
    return std::nullopt;
  }
  // By stem: "...Z-2.json" (a second run in the same second) must sort after "...Z.json".
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return a.stem() < b.stem(); });
  std::vector<HistoryRun> runs;
  for (const fs::path& file : files) {
    std::string why;
    auto summary = load_summary(file.string(), &why);
    if (!summary) {
      skipped->push_back(why);
      continue;
    }
    runs.push_back({file.stem().string(), std::move(*summary)});
  }
  return runs;
}

std::optional<TrendMetric> parse_trend_metric(std::string_view text, std::string* error) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    *error = "--metric expects METRIC:STAT (e.g. http_req_duration:p95), got \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  return TrendMetric{std::string(text.substr(0, colon)), normalize_stat(text.substr(colon + 1))};
}

std::vector<TrendMetric> default_trend_metrics() {
  return {{"http_req_duration", "p(95)"}, {"http_reqs", "rate"}, {"http_req_failed", "rate"}};
}

std::optional<double> trend_value(const json& summary, const TrendMetric& m) {
  if (!summary.contains("metrics") || !summary["metrics"].contains(m.metric)) return std::nullopt;
  return entry_stat(summary["metrics"][m.metric], m.stat);
}

std::string format_trend_table(const std::vector<HistoryRun>& runs, const std::vector<TrendMetric>& metrics) {
  std::string out = "run";
  size_t width = 26;
  for (const HistoryRun& run : runs) width = std::max(width, run_label(run).size() + 2);
  out.append(width - 3, ' ');
  for (const TrendMetric& m : metrics) out += m.label() + "  (change)    ";
  out += "\n";
  std::vector<std::optional<double>> previous(metrics.size());
  for (const HistoryRun& run : runs) {
    std::string line = run_label(run);
    line.append(width - std::min(width, line.size()), ' ');
    for (size_t i = 0; i < metrics.size(); ++i) {
      const auto value = trend_value(run.summary, metrics[i]);
      const ChartUnit unit = unit_of(runs, metrics[i]);
      std::string cell = value ? format_chart_value(*value, unit) : "-";
      const std::string change = change_text(previous[i], value, unit);
      if (!change.empty()) cell += " (" + change + ")";
      const size_t width = display_width(cell);
      cell.append(std::max<size_t>(metrics[i].label().size() + 14, width + 2) - width, ' ');
      line += cell;
      if (value) previous[i] = value;
    }
    out += line + "\n";
  }
  return out;
}

std::string render_trend_html(const std::vector<HistoryRun>& runs, const std::vector<TrendMetric>& metrics) {
  static const char* kColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#76b7b2", "#b07aa1"};
  std::vector<std::string> labels;
  for (const HistoryRun& run : runs) labels.push_back(run_label(run));
  std::string charts;
  for (size_t i = 0; i < metrics.size(); ++i) {
    LineChart chart{metrics[i].label(), unit_of(runs, metrics[i]), "", labels, {}};
    ChartSeries s{metrics[i].label(), kColors[i % 6], {}, {}};
    for (size_t r = 0; r < runs.size(); ++r) {
      s.x.push_back(static_cast<double>(r));
      s.y.push_back(trend_value(runs[r].summary, metrics[i]).value_or(std::nan("")));
    }
    chart.series.push_back(std::move(s));
    charts += render_line_chart(chart);
  }
  const std::string body = "<header><h1>luaload trend: " + std::to_string(runs.size()) +
                           " runs</h1></header><main><section id=\"trend\"><h2>Across runs</h2><div class=\"charts\">" +
                           charts + "</div></section><section id=\"table\"><h2>Values</h2><pre>" +
                           html_escape(format_trend_table(runs, metrics)) + "</pre></section></main>";
  return html_document("luaload trend", body);
}

}  // namespace luaload::engine::output
