// SPDX-License-Identifier: MIT
#include "app/live_view.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/core/duration.hpp"
#include "engine/metrics/format.hpp"

namespace luaload::app {
namespace {

constexpr int kBarWidth = 30;
constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";

std::string bar(double progress, bool color) {
  const int filled = static_cast<int>(progress * kBarWidth);
  std::string out = "[";
  if (color) out += kGreen;
  out += std::string(static_cast<size_t>(filled), '=');
  if (filled < kBarWidth) out += '>';
  if (color) out += kReset;
  out += std::string(static_cast<size_t>(std::max(0, kBarWidth - filled - 1)), ' ');
  return out + "]";
}

std::string time_part(const ScenarioStatus& s) {
  std::string out = core::format_duration(s.elapsed_ns);
  if (s.planned_ns > 0) out += "/" + core::format_duration(s.planned_ns);
  return out;
}

std::string iterations_part(const ScenarioStatus& s) {
  std::string out = std::to_string(s.iterations);
  if (s.planned_iterations > 0) out += "/" + std::to_string(s.planned_iterations);
  return out;
}

std::string vus_text(const ScenarioStatus& s) { return s.vus < 0 ? "-" : std::to_string(s.vus); }

std::string p95_text(const LiveTotals& t) { return t.p95_ms ? engine::metrics::format_time_ms(*t.p95_ms) : "-"; }

}  // namespace

double scenario_progress(const ScenarioStatus& s) {
  double p = 0;
  if (s.planned_iterations > 0) {
    p = static_cast<double>(s.iterations) / static_cast<double>(s.planned_iterations);
  } else if (s.planned_ns > 0) {
    p = static_cast<double>(s.elapsed_ns) / static_cast<double>(s.planned_ns);
  }
  return std::clamp(p, 0.0, 1.0);
}

std::vector<std::string> live_lines(const std::vector<ScenarioStatus>& scenarios, const LiveTotals& totals,
                                    bool color) {
  size_t name_width = 0;
  for (const auto& s : scenarios) name_width = std::max(name_width, s.name.size());
  std::vector<std::string> lines;
  for (const auto& s : scenarios) {
    const double progress = scenario_progress(s);
    char text[256];
    std::snprintf(text, sizeof text, "%-*s %s %3.0f%%  %s  vus %s/%lld  iters %s", static_cast<int>(name_width),
                  s.name.c_str(), bar(progress, color).c_str(), progress * 100, time_part(s).c_str(),
                  vus_text(s).c_str(), static_cast<long long>(s.max_vus), iterations_part(s).c_str());
    lines.push_back(text);
  }
  const std::string errors = engine::metrics::format_percent(totals.error_rate);
  const bool alarm = color && totals.error_rate > 0;
  lines.push_back("req/s " + engine::metrics::format_number(static_cast<double>(static_cast<int64_t>(totals.requests_per_s))) +
                  "  p95 " + p95_text(totals) + "  errors " + (alarm ? kRed : "") + errors + (alarm ? kReset : ""));
  return lines;
}

std::string status_line(const std::vector<ScenarioStatus>& scenarios, const LiveTotals& totals) {
  std::string out = "running";
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const auto& s = scenarios[i];
    out += (i ? "; " : " ") + s.name + " " + time_part(s) + " vus=" + vus_text(s) +
           " iterations=" + iterations_part(s);
  }
  out += " | req/s=" + engine::metrics::format_number(static_cast<double>(static_cast<int64_t>(totals.requests_per_s))) +
         " p95=" + p95_text(totals) + " errors=" + engine::metrics::format_percent(totals.error_rate);
  return out;
}

std::string LiveRedraw::frame(const std::vector<std::string>& lines) {
  std::string out;
  if (drawn_lines_ > 1) out += "\033[" + std::to_string(drawn_lines_ - 1) + "A";
  out += "\r";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\n";
    out += "\033[K" + lines[i];
  }
  // A shorter frame than the last would leave old lines below: clear to the end of the screen.
  if (lines.size() < drawn_lines_) out += "\033[J";
  drawn_lines_ = lines.size();
  return out;
}

std::string LiveRedraw::erase() {
  if (drawn_lines_ == 0) return "";
  std::string out = drawn_lines_ > 1 ? "\033[" + std::to_string(drawn_lines_ - 1) + "A" : "";
  drawn_lines_ = 0;
  return out + "\r\033[J";
}

std::string LiveRedraw::finish() {
  if (drawn_lines_ == 0) return "";
  drawn_lines_ = 0;
  return "\n";
}

}  // namespace luaload::app
