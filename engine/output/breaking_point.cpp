// SPDX-License-Identifier: MIT
#include "engine/output/breaking_point.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/metrics/format.hpp"

namespace luaload::engine::output {

BreakingPointSearch::BreakingPointSearch(BreakingPointPlan plan, const std::vector<metrics::ThresholdSpec>& thresholds)
    : plan_(plan) {
  std::string error;
  thresholds_ = metrics::ThresholdSet::parse(thresholds, &error);
}

void BreakingPointSearch::merge(const metrics::Delta& delta) { step_.merge(delta); }

int64_t BreakingPointSearch::rate_of(size_t step) const {
  return std::min(plan_.max_rate, plan_.start_rate + static_cast<int64_t>(step) * std::max<int64_t>(1, plan_.step_rate));
}

bool BreakingPointSearch::on_tick(int64_t elapsed_ns) {
  while (!result_.broke && elapsed_ns >= static_cast<int64_t>(step_index_ + 1) * plan_.step_duration_ns) {
    close_step(static_cast<double>(plan_.step_duration_ns) / 1e9);
  }
  return result_.broke;
}

void BreakingPointSearch::finish(int64_t elapsed_ns) {
  if (result_.broke) return;
  int64_t ran = elapsed_ns - static_cast<int64_t>(step_index_) * plan_.step_duration_ns;
  if (ran <= 0) return;
  auto iterations = step_.aggregate("iterations");
  if (!iterations || iterations->counter().sum == 0) return;
  close_step(static_cast<double>(std::min(ran, plan_.step_duration_ns)) / 1e9);
}

namespace {

std::string failed_thresholds(const std::vector<metrics::ThresholdResult>& results) {
  std::string text;
  for (const auto& r : results) {
    if (r.passed) continue;
    if (!text.empty()) text += "; ";
    text += r.selector + " '" + r.expression + "' (" + r.text + ")";
  }
  return text;
}

}  // namespace

void BreakingPointSearch::close_step(double duration_s) {
  BreakingPointStep step;
  step.rate = rate_of(step_index_);
  step.duration_s = duration_s;
  if (auto it = step_.aggregate("iterations")) step.iterations = static_cast<uint64_t>(it->counter().sum);
  if (auto dropped = step_.aggregate("dropped_iterations")) step.dropped = static_cast<uint64_t>(dropped->counter().sum);
  if (auto reqs = step_.aggregate("http_reqs")) step.requests = static_cast<uint64_t>(reqs->counter().sum);
  if (auto d = step_.aggregate("http_req_duration")) {
    step.p50_ms = d->trend().percentile(50);
    step.p95_ms = d->trend().percentile(95);
    step.p99_ms = d->trend().percentile(99);
  }
  if (auto c = step_.aggregate("http_req_duration_corrected")) step.corrected_p99_ms = c->trend().percentile(99);
  if (auto failed = step_.aggregate("http_req_failed")) step.error_rate = failed->rate().rate();
  std::string error;
  // A custom metric that has not reported yet fails validation: the step is then judged on errors alone.
  if (thresholds_ && !thresholds_->empty() && thresholds_->validate(step_, &error)) {
    thresholds_->evaluate(step_, duration_s);
    if (!thresholds_->all_passed()) {
      step.passed = false;
      step.reason = "threshold failed: " + failed_thresholds(thresholds_->last_results());
    }
  }
  if (step.error_rate > plan_.max_error_rate) {
    step.passed = false;
    if (!step.reason.empty()) step.reason += "; ";
    step.reason += "error rate " + metrics::format_percent(step.error_rate) + " > " +
                   metrics::format_percent(plan_.max_error_rate);
  }
  if (step.passed) {
    result_.highest_ok_rate = step.rate;
  } else {
    result_.broke = true;
  }
  result_.steps.push_back(std::move(step));
  ++step_index_;
  step_ = metrics::Store();
}

std::string render_breaking_point(const BreakingPointResult& result) {
  std::string out = "\n  BREAKING POINT\n\n";
  char line[256];
  if (result.highest_ok_rate) {
    std::snprintf(line, sizeof line, "    highest rate with every threshold held: %lld iterations/s\n",
                  static_cast<long long>(*result.highest_ok_rate));
  } else {
    std::snprintf(line, sizeof line, "    no step held every threshold\n");
  }
  out += line;
  if (result.broke) {
    const auto& last = result.steps.back();
    out += "    broke at " + std::to_string(last.rate) + " iterations/s: " + last.reason + "\n";
  } else {
    out += "    did not break (the search reached maxRate or the end of the test)\n";
  }
  std::snprintf(line, sizeof line, "\n    %-8s %-8s %-10s %-8s %-10s %-10s %-10s %-14s %s\n", "rate/s", "time", "iterations",
                "dropped", "p50", "p95", "p99", "p99 corrected", "errors");
  out += line;
  for (const auto& s : result.steps) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1fs", s.duration_s);
    std::snprintf(line, sizeof line, "  %s %-8lld %-8s %-10llu %-8llu %-10s %-10s %-10s %-14s %s\n", s.passed ? "✓" : "✗",
                  static_cast<long long>(s.rate), seconds,
                  static_cast<unsigned long long>(s.iterations), static_cast<unsigned long long>(s.dropped),
                  metrics::format_time_ms(s.p50_ms).c_str(), metrics::format_time_ms(s.p95_ms).c_str(),
                  metrics::format_time_ms(s.p99_ms).c_str(), metrics::format_time_ms(s.corrected_p99_ms).c_str(),
                  metrics::format_percent(s.error_rate).c_str());
    out += line;
  }
  return out;
}

nlohmann::json breaking_point_json(const BreakingPointResult& result, const BreakingPointPlan& plan) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : result.steps) {
    steps.push_back({{"rate", s.rate}, {"duration_s", s.duration_s}, {"iterations", s.iterations},
                     {"dropped_iterations", s.dropped}, {"http_reqs", s.requests}, {"p50", s.p50_ms},
                     {"p95", s.p95_ms}, {"p99", s.p99_ms}, {"p99_corrected", s.corrected_p99_ms},
                     {"error_rate", s.error_rate}, {"passed", s.passed}, {"reason", s.reason}});
  }
  nlohmann::json out = {{"highest_ok_rate", nullptr},
                        {"broke", result.broke},
                        {"broke_at_rate", nullptr},
                        {"reason", ""},
                        {"start_rate", plan.start_rate},
                        {"step_rate", plan.step_rate},
                        {"step_duration_s", static_cast<double>(plan.step_duration_ns) / 1e9},
                        {"max_rate", plan.max_rate},
                        {"max_error_rate", plan.max_error_rate},
                        {"steps", steps}};
  if (result.highest_ok_rate) out["highest_ok_rate"] = *result.highest_ok_rate;
  if (result.broke) {
    out["broke_at_rate"] = result.steps.back().rate;
    out["reason"] = result.steps.back().reason;
  }
  return out;
}

}  // namespace luaload::engine::output
