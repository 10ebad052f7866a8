// SPDX-License-Identifier: MIT
#include "app/run_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "app/result_files.hpp"
#include "app/run_settings.hpp"
#include "engine/core/clock.hpp"
#include "engine/core/duration.hpp"
#include "engine/metrics/format.hpp"
#include "engine/output/prometheus.hpp"
#include "engine/output/summary.hpp"
#include "engine/output/summary_json.hpp"

namespace luaload::app {

using engine::schedule::kSecondNs;
namespace metrics = engine::metrics;

namespace {

// Threshold expressions by metric name (selectors without tags), for the NDJSON "Metric" lines.
std::map<std::string, std::vector<std::string>> thresholds_by_metric(const engine::schedule::TestOptions& options) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& spec : options.thresholds) out[spec.selector].push_back(spec.expression);
  return out;
}

}  // namespace

RunReport::RunReport(const TestRunConfig& config) : config_(config) {
  std::string error;
  thresholds_ = metrics::ThresholdSet::parse(config.options.thresholds, &error);
  metrics::Delta known;
  known.definitions = config.known_metrics;
  store_.merge(known);
  tty_ = isatty(STDERR_FILENO) != 0;
  sinks_ = make_output_sinks(config.outs, config.junit, thresholds_by_metric(config.options));
}

RunReport::~RunReport() = default;

bool RunReport::start_outputs(uv_loop_t* loop, std::string* error) {
  for (auto& sink : sinks_) {
    if (!sink->open(error)) return false;
  }
  if (config_.metrics_addr.empty()) return true;
  // A scrape gets the text rendered at the last tick, once every worker's report for it was merged: rendering the
  // live store could show one worker's requests of a tick without the VU gauges that follow the last reply.
  endpoint_ = std::make_unique<MetricsEndpoint>(loop, [this] { return scrape_text_; });
  if (!endpoint_->start(config_.metrics_addr, error)) return false;
  std::fprintf(stderr, "luaload: Prometheus metrics on port %d at /metrics (--metrics-addr %s)\n", endpoint_->port(),
               config_.metrics_addr.c_str());
  return true;
}

bool RunReport::wants_samples() const {
  for (const auto& sink : sinks_) {
    if (sink->wants_samples()) return true;
  }
  return false;
}

void RunReport::close_outputs() {
  if (endpoint_) endpoint_->close();
}

void RunReport::clear_live_view() {
  const std::string bytes = redraw_.erase();
  if (!bytes.empty()) std::fputs(bytes.c_str(), stderr);
}

void RunReport::set_vus_max(int64_t vus) {
  vus_max_ = std::max(vus_max_, vus);
  store_.set_gauge("vus_max", static_cast<double>(vus_max_));
}

void RunReport::set_vus(int64_t vus) {
  vus_ = vus;
  store_.set_gauge("vus", static_cast<double>(vus));
}

void RunReport::set_scenario_vus(const std::vector<engine::schedule::WorkerStatus>& workers) {
  scenario_vus_.clear();
  for (const auto& worker : workers) {
    for (const auto& [name, vus] : worker.active_vus_by_scenario) scenario_vus_[name] += static_cast<int64_t>(vus);
  }
}

void RunReport::mark_start(int64_t now_ns) {
  start_ns_ = now_ns;
  start_unix_ms_ = core::wall_now_ms();
  last_progress_ns_ = now_ns;
  last_plain_progress_ns_ = now_ns;
}

void RunReport::merge(WorkerReport report) {
  timeline_.add(report.delta);
  for (const auto& conflict : store_.merge(report.delta)) {
    clear_live_view();
    std::fprintf(stderr, "luaload: %s\n", conflict.c_str());
  }
  if (auto warning = series_watch_.check(store_.series_count())) {
    clear_live_view();
    std::fprintf(stderr, "luaload: %s\n", warning->c_str());
  }
  for (auto& sink : sinks_) sink->on_delta(report.delta);
}

engine::output::BreakingPointPlan breaking_point_plan(const TestRunConfig& config) {
  const auto& bp = config.options.breaking_point;
  engine::output::BreakingPointPlan plan;
  plan.start_rate = bp.start_rate;
  plan.step_rate = bp.step_rate;
  plan.step_duration_ns = bp.step_duration_ns;
  plan.max_rate = bp.max_rate;
  plan.max_error_rate = bp.max_error_rate;
  return plan;
}

double RunReport::elapsed_s(int64_t now_ns) const {
  return start_ns_ ? static_cast<double>(now_ns - start_ns_) / kSecondNs : 0;
}

std::vector<ScenarioStatus> RunReport::scenario_statuses(
    int64_t now_ns, const std::vector<engine::schedule::ScenarioConfig>& scenarios) const {
  namespace schedule = engine::schedule;
  std::vector<ScenarioStatus> out;
  for (const auto& scenario : scenarios) {
    ScenarioStatus s;
    s.name = scenario.name;
    s.executor = schedule::executor_name(scenario.executor);
    s.elapsed_ns = start_ns_ ? std::max<int64_t>(0, now_ns - start_ns_ - scenario.start_time_ns) : 0;
    s.planned_ns = schedule::scenario_duration_ns(scenario);
    s.max_vus = schedule::scenario_max_vus(scenario);
    auto vus = scenario_vus_.find(scenario.name);
    s.vus = vus != scenario_vus_.end() ? vus->second : 0;
    if (auto iterations = store_.aggregate("iterations", {{"scenario", scenario.name}}))
      s.iterations = static_cast<uint64_t>(iterations->counter().sum);
    if (scenario.executor == schedule::Executor::SharedIterations) s.planned_iterations = scenario.iterations;
    if (scenario.executor == schedule::Executor::PerVuIterations)
      s.planned_iterations = scenario.iterations * scenario.vus;
    out.push_back(s);
  }
  return out;
}

LiveTotals RunReport::live_totals() const {
  LiveTotals totals;
  totals.requests_per_s = current_rps_;
  auto duration = store_.aggregate("http_req_duration");
  if (duration && !duration->trend().empty()) totals.p95_ms = duration->trend().percentile(95);
  if (auto failed = store_.aggregate("http_req_failed")) totals.error_rate = failed->rate().rate();
  return totals;
}

void RunReport::on_tick(int64_t now_ns, const std::vector<engine::schedule::ScenarioConfig>& scenarios) {
  auto reqs = store_.aggregate("http_reqs");
  uint64_t total = reqs ? static_cast<uint64_t>(reqs->counter().sum) : 0;
  double dt = static_cast<double>(now_ns - last_progress_ns_) / kSecondNs;
  if (dt > 0) current_rps_ = static_cast<double>(total - last_http_reqs_) / dt;
  last_http_reqs_ = total;
  last_progress_ns_ = now_ns;
  const int64_t wall_ms = core::wall_now_ms();
  for (auto& sink : sinks_) sink->on_tick(store_, wall_ms);
  if (endpoint_) scrape_text_ = engine::output::prometheus_text(store_);
  if (config_.quiet) return;
  const auto statuses = scenario_statuses(now_ns, scenarios);
  if (tty_) {
    const bool color = engine::output::color_allowed(true);
    std::fputs(redraw_.frame(live_lines(statuses, live_totals(), color)).c_str(), stderr);
  } else if (now_ns - last_plain_progress_ns_ >= 10 * kSecondNs) {
    std::fprintf(stderr, "%s\n", status_line(statuses, live_totals()).c_str());
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
  clear_live_view();
  std::fprintf(stderr, "luaload: %s\n", reason.c_str());
  return true;
}

const std::vector<metrics::ThresholdResult>& RunReport::evaluate_final(double elapsed, bool* passed) {
  *passed = true;
  if (thresholds_ && !thresholds_->empty()) {
    std::string error;
    if (!thresholds_->validate(store_, &error)) {
      std::fprintf(stderr, "luaload: %s\n", error.c_str());
      *passed = false;
    } else {
      thresholds_->evaluate(store_, elapsed, metrics::EvaluationTime::End);
      *passed = thresholds_->all_passed();
    }
  }
  static const std::vector<metrics::ThresholdResult> kNoThresholds;
  return thresholds_ ? thresholds_->last_results() : kNoThresholds;
}

// Every promised file goes through a temporary file and a rename, so a reader never sees half of one.
void RunReport::write_files(const std::vector<metrics::ThresholdResult>& results, double elapsed) {
  std::string error;
  write_summary_files(results, elapsed);
  const FinalResults final_results{store_, results, elapsed, core::wall_now_ms()};
  for (auto& sink : sinks_) {
    std::string warning;
    if (!sink->finish(final_results, &error, &warning)) std::fprintf(stderr, "luaload: %s\n", error.c_str());
    if (!warning.empty()) std::fprintf(stderr, "luaload: warning: %s\n", warning.c_str());
  }
}

bool RunReport::write_final(bool interrupted) {
  if (final_written_) return true;
  final_written_ = true;
  std::fputs(redraw_.finish().c_str(), stderr);
  double elapsed = elapsed_s(core::mono_now_ns());
  bool passed = true;
  const auto& results = evaluate_final(elapsed, &passed);
  if (!config_.no_summary) print_summary(results, elapsed, interrupted);
  write_files(results, elapsed);
  return passed;
}

void RunReport::print_summary(const std::vector<engine::metrics::ThresholdResult>& results, double elapsed,
                              bool interrupted) {
  engine::output::SummaryOptions options;
  options.color = engine::output::color_allowed(tty_ && isatty(STDOUT_FILENO));
  std::fputs(engine::output::render_summary(store_, results, elapsed, options).c_str(), stdout);
  if (script_errors_ != nullptr) {
    for (const auto& [message, count] : script_errors_->counts())
      std::printf("  script error (%llu times): %s\n", static_cast<unsigned long long>(count), message.c_str());
  }
  if (interrupted_iterations_ > 0)
    std::printf("\n  %llu iterations interrupted (gracefulStop / gracefulRampDown), not counted in iterations\n",
                static_cast<unsigned long long>(interrupted_iterations_));
  if (breaking_point_) std::fputs(engine::output::render_breaking_point(*breaking_point_).c_str(), stdout);
  if (interrupted) std::printf("\n  the test was interrupted (Ctrl-C)\n");
  for (const auto& note : notes_) std::printf("\n  %s\n", note.c_str());
  std::fflush(stdout);
}

void RunReport::write_files_only() {
  if (final_written_) return;
  final_written_ = true;
  std::fputs(redraw_.finish().c_str(), stderr);
  bool passed = true;
  const double elapsed = elapsed_s(core::mono_now_ns());
  write_files(evaluate_final(elapsed, &passed), elapsed);
}

void RunReport::write_summary_files(const std::vector<metrics::ThresholdResult>& results, double elapsed) {
  if (config_.summary_export.empty() && !config_.result_files.wants_summary()) return;
  auto vus = store_.aggregate("vus");
  if (start_ns_) timeline_.close_interval(elapsed, vus ? vus->gauge().value : 0, /*final=*/true);
  engine::output::SummaryJsonOptions options;
  options.time_series = &timeline_.points();
  options.run = run_settings_json(config_, start_unix_ms_);
  auto json = engine::output::summary_json(store_, results, elapsed, options);
  json["state"]["interruptedIterations"] = interrupted_iterations_;
  json["errors"] = errors_json();
  if (breaking_point_)
    json["breaking_point"] = engine::output::breaking_point_json(*breaking_point_, breaking_point_plan(config_));
  if (!config_.summary_export.empty()) {
    std::string error;
    if (!engine::output::write_file_atomically(config_.summary_export, json.dump(2) + "\n", &error))
      std::fprintf(stderr, "luaload: could not write %s: %s\n", config_.summary_export.c_str(), error.c_str());
  }
  regressed_ = write_result_files(config_.result_files, json, start_unix_ms_);
}

// The script errors, most frequent first (ties by message), as the summary JSON's "errors" (summary-json.md).
nlohmann::json RunReport::errors_json() const {
  nlohmann::json errors = nlohmann::json::array();
  if (script_errors_ == nullptr) return errors;
  std::vector<std::pair<std::string, uint64_t>> sorted(script_errors_->counts().begin(), script_errors_->counts().end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [message, count] : sorted)
    errors.push_back({{"message", message}, {"count", count}, {"traceback", script_errors_->traceback(message)}});
  return errors;
}

void RunReport::sample_time_series(int64_t now_ns) {
  if (!start_ns_) return;
  auto vus = store_.aggregate("vus");
  timeline_.close_interval(elapsed_s(now_ns), vus ? vus->gauge().value : 0);
}

}  // namespace luaload::app
