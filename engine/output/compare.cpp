// SPDX-License-Identifier: MIT
#include "engine/output/compare.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "engine/metrics/format.hpp"
#include "engine/output/trend_stats.hpp"
#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

using nlohmann::json;
using Unit = Tolerance::Unit;

constexpr double kEpsilon = 1e-9;  // keeps equal values from counting as a regression through rounding

enum class Kind { Latency, ErrorRate, Checks, Rps, Info };

bool is_latency_stat(const std::string& stat) {
  return stat == "avg" || stat == "med" || stat == "min" || stat == "max" ||
         (stat.rfind("p(", 0) == 0 && trend_stat(metrics::Histogram{}, stat).has_value());
}

Kind kind_of(const std::string& metric) {
  if (metric == "error_rate") return Kind::ErrorRate;
  if (metric == "checks") return Kind::Checks;
  if (metric == "rps") return Kind::Rps;
  if (metric == "requests") return Kind::Info;
  return Kind::Latency;
}

// "p(95)" -> "p95" for display.
std::string short_stat(const std::string& stat) {
  if (stat.rfind("p(", 0) == 0 && stat.back() == ')') return "p" + stat.substr(2, stat.size() - 3);
  return stat;
}

bool parse_amount(std::string_view text, Tolerance* t) {
  static const std::pair<const char*, Unit> kUnits[] = {
      {"pp", Unit::PercentagePoints}, {"ms", Unit::Milliseconds}, {"%", Unit::Percent}};
  for (const auto& [suffix, unit] : kUnits) {
    const std::string_view s(suffix);
    if (text.size() <= s.size() || text.substr(text.size() - s.size()) != s) continue;
    const std::string_view number = text.substr(0, text.size() - s.size());
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), t->value);
    t->unit = unit;
    return ec == std::errc() && end == number.data() + number.size() && std::isfinite(t->value);
  }
  return false;
}

// Empty when the unit and sign suit the figure, else why not.
std::string check_unit(const Tolerance& t) {
  if (t.stat == "rps") return t.unit == Unit::Percent ? "" : "rps takes a % (e.g. rps=-5%)";
  if (t.value < 0) return t.stat + " takes a tolerance >= 0";
  if (t.stat == "error_rate" || t.stat == "checks") {
    return t.unit == Unit::Milliseconds ? t.stat + " takes pp or % (e.g. " + t.stat + "=0.5pp)" : "";
  }
  return t.unit == Unit::PercentagePoints ? t.stat + " takes % or ms (e.g. " + short_stat(t.stat) + "=10%)" : "";
}

std::optional<Tolerance> parse_item(std::string_view item, std::string* error) {
  const size_t eq = item.find('=');
  Tolerance t;
  t.stat = normalize_stat(item.substr(0, eq == std::string_view::npos ? 0 : eq));
  const bool known = t.stat == "rps" || t.stat == "error_rate" || t.stat == "checks" || is_latency_stat(t.stat);
  if (eq == std::string_view::npos || !known) {
    *error = "--max-regression: \"" + std::string(item) +
             "\" is not FIGURE=AMOUNT with FIGURE one of pN (p95, p99.9), avg, med, min, max, error_rate, rps, checks";
    return std::nullopt;
  }
  if (!parse_amount(item.substr(eq + 1), &t)) {
    *error = "--max-regression: \"" + std::string(item) + "\": the amount must be a number with %, pp or ms";
    return std::nullopt;
  }
  if (std::string why = check_unit(t); !why.empty()) {
    *error = "--max-regression: \"" + std::string(item) + "\": " + why;
    return std::nullopt;
  }
  return t;
}

std::string signed_text(double v, const char* suffix) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%+.2f%s", v, suffix);
  return buf;
}

// Applies `t` to one row: fills in the limit text and whether the current value is beyond it.
void apply(const Tolerance& t, CompareRow& row) {
  const Kind kind = kind_of(row.metric);
  const double v = t.value, base = row.baseline;
  double limit = 0;
  const char* unit = t.unit == Unit::Percent ? "%" : t.unit == Unit::PercentagePoints ? "pp" : "ms";
  if (kind == Kind::Rps || kind == Kind::Checks) {
    const double drop = std::fabs(v);
    limit = t.unit == Unit::PercentagePoints ? base - drop / 100 : base * (1 - drop / 100);
    row.limit = ">= " + signed_text(-drop, unit);
    row.regression = row.current < limit - kEpsilon;
    return;
  }
  limit = t.unit == Unit::Percent ? base * (1 + v / 100) : t.unit == Unit::Milliseconds ? base + v : base + v / 100;
  row.limit = "<= " + signed_text(v, unit);
  row.regression = row.current > limit + kEpsilon;
}

const Tolerance* tolerance_for(const std::vector<Tolerance>& tolerances, const std::string& metric) {
  for (const Tolerance& t : tolerances) {
    if (short_stat(t.stat) == metric) return &t;
  }
  return nullptr;
}

// The latency stats shown: p50, p95, p99, then any other latency stat a tolerance names.
std::vector<std::string> latency_stats(const std::vector<Tolerance>& tolerances) {
  std::vector<std::string> stats = {"p(50)", "p(95)", "p(99)"};
  for (const Tolerance& t : tolerances) {
    if (is_latency_stat(t.stat) && std::find(stats.begin(), stats.end(), t.stat) == stats.end()) stats.push_back(t.stat);
  }
  return stats;
}

void add_row(Comparison& out, const std::string& scope, const std::string& metric, double base, double cur,
             bool base_has_data, const std::vector<Tolerance>& tolerances) {
  CompareRow row{scope, metric, base, cur, "", false};
  const Tolerance* t = tolerance_for(tolerances, metric);
  if (t != nullptr && base_has_data && kind_of(metric) != Kind::Info) apply(*t, row);
  out.rows.push_back(std::move(row));
}

void add_scope(Comparison& out, const std::string& scope, const RequestStats& base, const RequestStats& cur,
               double base_s, double cur_s, const std::vector<Tolerance>& tolerances) {
  const bool has = !base.duration.empty();
  for (const std::string& stat : latency_stats(tolerances)) {
    add_row(out, scope, short_stat(stat), *trend_stat(base.duration, stat), *trend_stat(cur.duration, stat), has,
            tolerances);
  }
  add_row(out, scope, "error_rate", base.error_rate(), cur.error_rate(), base.failed_total > 0, tolerances);
  add_row(out, scope, "rps", base_s > 0 ? static_cast<double>(base.requests) / base_s : 0,
          cur_s > 0 ? static_cast<double>(cur.requests) / cur_s : 0, base.requests > 0, tolerances);
  add_row(out, scope, "requests", static_cast<double>(base.requests), static_cast<double>(cur.requests), true,
          tolerances);
}

}  // namespace

std::optional<std::vector<Tolerance>> parse_tolerances(std::string_view text, std::string* error) {
  std::vector<Tolerance> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (!item.empty()) {
      auto t = parse_item(item, error);
      if (!t) return std::nullopt;
      out.push_back(*t);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

RunFigures run_figures(const json& summary) {
  RunFigures f;
  static const json kNone = json::object();
  const json& metrics = summary.contains("metrics") ? summary["metrics"] : kNone;
  auto count = [&](const char* metric, const char* stat) -> uint64_t {
    if (!metrics.contains(metric)) return 0;
    return count_from_double(entry_stat(metrics[metric], stat).value_or(0));
  };
  if (metrics.contains("http_req_duration")) {
    if (auto h = entry_histogram(metrics["http_req_duration"])) f.total.duration = *h;
  }
  f.total.requests = count("http_reqs", "count");
  f.total.failed = count("http_req_failed", "passes");
  f.total.failed_total = f.total.failed + count("http_req_failed", "fails");
  f.duration_s = run_duration_s(summary);
  if (metrics.contains("checks")) f.checks_rate = entry_stat(metrics["checks"], "rate");
  f.by_name = request_stats_by_name(summary);
  return f;
}

size_t Comparison::regressions() const {
  size_t n = 0;
  for (const CompareRow& row : rows) n += row.regression;
  return n;
}

Comparison compare_runs(const RunFigures& base, const RunFigures& cur, const std::vector<Tolerance>& tolerances) {
  Comparison out;
  add_scope(out, "", base.total, cur.total, base.duration_s, cur.duration_s, tolerances);
  if (base.checks_rate || cur.checks_rate) {
    add_row(out, "", "checks", base.checks_rate.value_or(0), cur.checks_rate.value_or(0),
            base.checks_rate.has_value(), tolerances);
  }
  for (const auto& [name, stats] : base.by_name) {
    auto it = cur.by_name.find(name);
    if (it == cur.by_name.end()) {
      out.notes.push_back("request name \"" + name + "\" is only in the baseline");
      continue;
    }
    add_scope(out, name, stats, it->second, base.duration_s, cur.duration_s, tolerances);
  }
  for (const auto& [name, stats] : cur.by_name) {
    if (!base.by_name.count(name)) out.notes.push_back("request name \"" + name + "\" is only in the current run");
  }
  return out;
}

namespace {

std::string value_text(const std::string& metric, double v) {
  switch (kind_of(metric)) {
    case Kind::Latency: return metrics::format_time_ms(v);
    case Kind::ErrorRate:
    case Kind::Checks: return metrics::format_percent(v);
    case Kind::Rps: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f/s", v);
      return buf;
    }
    case Kind::Info: break;
  }
  return metrics::format_number(v);
}

std::string delta_text(const CompareRow& row) {
  const Kind kind = kind_of(row.metric);
  if (kind == Kind::ErrorRate || kind == Kind::Checks) return signed_text((row.current - row.baseline) * 100, "pp");
  if (row.baseline == 0) return row.current == 0 ? "+0.00%" : "n/a";
  return signed_text((row.current / row.baseline - 1) * 100, "%");
}

}  // namespace

std::string format_comparison(const Comparison& comparison) {
  size_t name_width = 24;
  for (const CompareRow& row : comparison.rows) name_width = std::min<size_t>(60, std::max(name_width, row.scope.size() + 8));
  std::string out = pad_to_width("metric", name_width, false) + pad_to_width("baseline", 14, true) + pad_to_width("current", 14, true) +
                    pad_to_width("delta", 11, true) + "  " + pad_to_width("limit", 13, false) + "result\n";
  std::string scope = "\x01";  // no scope yet
  for (const CompareRow& row : comparison.rows) {
    if (row.scope != scope) {
      scope = row.scope;
      out += scope.empty() ? "all requests\n" : "name=" + scope + "\n";
    }
    std::string line = pad_to_width("  " + row.metric, name_width, false) +
                       pad_to_width(value_text(row.metric, row.baseline), 14, true) +
                       pad_to_width(value_text(row.metric, row.current), 14, true) + pad_to_width(delta_text(row), 11, true);
    if (!row.limit.empty()) line += "  " + pad_to_width(row.limit, 13, false) + (row.regression ? "REGRESSION" : "ok");
    out += line + "\n";
  }
  for (const std::string& note : comparison.notes) out += "note: " + note + "\n";
  const size_t n = comparison.regressions();
  out += n == 0 ? "\nno regression beyond the tolerances\n"
                : "\n" + std::to_string(n) + (n == 1 ? " regression" : " regressions") + " beyond the tolerances\n";
  return out;
}

}  // namespace luaload::engine::output
