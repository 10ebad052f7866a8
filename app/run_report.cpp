// SPDX-License-Identifier: MIT
#include "app/run_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "engine/core/clock.hpp"
#include "engine/core/duration.hpp"
#include "engine/metrics/format.hpp"
#include "engine/output/summary.hpp"
#include "engine/output/summary_json.hpp"

namespace luaload::app {

using engine::schedule::kSecondNs;
namespace metrics = engine::metrics;

RunReport::RunReport(const TestRunConfig& config) : config_(config) {
  std::string error;
  thresholds_ = metrics::ThresholdSet::parse(config.options.thresholds, &error);
  tty_ = isatty(STDERR_FILENO) != 0;
}

void RunReport::set_vus_max(int64_t vus) {
  vus_max_ = std::max(vus_max_, vus);
  store_.set_gauge("vus_max", static_cast<double>(vus_max_));
  store_.set_gauge("vus", static_cast<double>(vus_));
}

void RunReport::set_vus(int64_t vus) {
  vus_ = vus;
  store_.set_gauge("vus", static_cast<double>(vus));
}

void RunReport::mark_start(int64_t now_ns) {
  start_ns_ = now_ns;
  last_progress_ns_ = now_ns;
  last_plain_progress_ns_ = now_ns;
}

void RunReport::merge(WorkerReport report) {
  for (const auto& conflict : store_.merge(report.delta)) std::fprintf(stderr, "luaload: %s\n", conflict.c_str());
}

double RunReport::elapsed_s(int64_t now_ns) const {
  return start_ns_ ? static_cast<double>(now_ns - start_ns_) / kSecondNs : 0;
}

std::string RunReport::progress_line(int64_t now_ns, int64_t planned_ns) const {
  auto iterations = store_.aggregate("iterations");
  auto duration = store_.aggregate("http_req_duration");
  auto failed = store_.aggregate("http_req_failed");
  char line[256];
  std::snprintf(line, sizeof line, "running %s/%s  vus=%lld  iterations=%.0f  req/s=%.0f  p95=%s  errors=%s",
                core::format_duration(now_ns - start_ns_).c_str(), core::format_duration(planned_ns).c_str(),
                static_cast<long long>(vus_), iterations ? iterations->counter().sum : 0.0, current_rps_,
                duration ? metrics::format_time_ms(duration->trend().percentile(95)).c_str() : "-",
                failed ? metrics::format_percent(failed->rate().rate()).c_str() : "0.00%");
  return line;
}

void RunReport::print_progress(int64_t now_ns, int64_t planned_ns) {
  auto reqs = store_.aggregate("http_reqs");
  uint64_t total = reqs ? static_cast<uint64_t>(reqs->counter().sum) : 0;
  double dt = static_cast<double>(now_ns - last_progress_ns_) / kSecondNs;
  if (dt > 0) current_rps_ = static_cast<double>(total - last_http_reqs_) / dt;
  last_http_reqs_ = total;
  last_progress_ns_ = now_ns;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", progress_line(now_ns, planned_ns).c_str());
    progress_drawn_ = true;
  } else if (now_ns - last_plain_progress_ns_ >= 10 * kSecondNs) {
    std::fprintf(stderr, "%s\n", progress_line(now_ns, planned_ns).c_str());
    last_plain_progress_ns_ = now_ns;
  }
  std::fflush(stderr);
}

bool RunReport::thresholds_demand_abort(int64_t now_ns) {
  if (!thresholds_ || thresholds_->empty() || !thresholds_valid_) return false;
  std::string error;
  if (!thresholds_->validate(store_, &error)) return false;  // custom metrics may not have reported yet
  thresholds_->evaluate(store_, elapsed_s(now_ns));
  std::string reason;
  if (!thresholds_->should_abort(now_ns - start_ns_, &reason)) return false;
  std::fprintf(stderr, "\nluaload: %s\n", reason.c_str());
  return true;
}

bool RunReport::write_final(const std::map<std::string, uint64_t>& script_errors, bool interrupted) {
  if (progress_drawn_) std::fprintf(stderr, "\n");
  int64_t now = core::mono_now_ns();
  double elapsed = elapsed_s(now);
  bool passed = true;
  if (thresholds_ && !thresholds_->empty()) {
    std::string error;
    if (!thresholds_->validate(store_, &error)) {
      std::fprintf(stderr, "luaload: %s\n", error.c_str());
      passed = false;
    } else {
      thresholds_->evaluate(store_, elapsed);
      passed = thresholds_->all_passed();
    }
  }
  static const std::vector<metrics::ThresholdResult> kNoThresholds;
  const auto& results = thresholds_ ? thresholds_->last_results() : kNoThresholds;
  engine::output::SummaryOptions options;
  options.color = engine::output::color_allowed(tty_ && isatty(STDOUT_FILENO));
  std::fputs(engine::output::render_summary(store_, results, elapsed, options).c_str(), stdout);
  for (const auto& [message, count] : script_errors)
    std::printf("  script error (%llu times): %s\n", static_cast<unsigned long long>(count), message.c_str());
  if (interrupted) std::printf("\n  the test was interrupted (Ctrl-C)\n");
  std::fflush(stdout);
  if (!config_.summary_export.empty()) {
    std::string error;
    auto json = engine::output::summary_json(store_, results, elapsed, engine::output::SummaryJsonOptions{});
    if (!engine::output::write_file_atomically(config_.summary_export, json.dump(2) + "\n", &error))
      std::fprintf(stderr, "luaload: could not write %s: %s\n", config_.summary_export.c_str(), error.c_str());
  }
  return passed;
}

}  // namespace luaload::app
