// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/error_table.hpp"
#include "app/live_view.hpp"
#include "app/metrics_endpoint.hpp"
#include "app/output_sink.hpp"
#include "app/series_watch.hpp"
#include "app/test_run.hpp"
#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"
#include "engine/output/breaking_point.hpp"
#include "engine/output/timeline.hpp"

namespace luaload::app {

// The main thread's view of a run's results: the merged metric store, the thresholds, the live view, the outputs
// (--out, --junit, --metrics-addr) and the final summary and files. Main thread only.
//
// Life: start_outputs() -> merge()/on_tick() while the run goes -> write_final() or write_files_only() (exactly
// one of them does the work; later calls do nothing) -> close_outputs() before the loop's last run.
class RunReport {
 public:
  explicit RunReport(const TestRunConfig& config);
  ~RunReport();

  // Opens the --out files and starts the --metrics-addr endpoint on `loop`. False with `error` (exit 104).
  bool start_outputs(uv_loop_t* loop, std::string* error);
  // Whether an output needs every sample (the run then enables the workers' sample logs).
  bool wants_samples() const;
  // Stops the metrics endpoint; its handles close on the loop's next run.
  void close_outputs();
  // Wipes the live view from the terminal so a message can be printed; it is drawn again at the next tick.
  void clear_live_view();
  // Once a second while running: feeds the outputs and, unless --quiet, draws the live view.
  void on_tick(int64_t now_ns, const std::vector<engine::schedule::ScenarioConfig>& scenarios);

  void set_vus_max(int64_t vus);  // VUs initialised so far; only ever grows
  void set_vus(int64_t vus);
  // Active VUs per scenario for the live view, summed over the workers' latest statuses.
  void set_scenario_vus(const std::vector<engine::schedule::WorkerStatus>& workers);      // VUs with an iteration in flight
  void mark_start(int64_t now_ns);
  void merge(WorkerReport report);

  // Evaluates the thresholds now; true when an abortOnFail threshold has failed past its delayAbortEval.
  bool thresholds_demand_abort(int64_t now_ns);

  // Prints the summary, writes --summary-export and the outputs, returns whether every threshold passed.
  bool write_final(bool interrupted);
  // The run's script errors (owned by the caller, alive until the files are written): listed after the summary's
  // metrics and exported as the summary JSON's "errors".
  void set_script_errors(const ErrorTable* errors) { script_errors_ = errors; }
  // A breaking-point search's result (owned by the caller, alive until the files are written): its section follows
  // the metrics in the summary and joins the summary JSON as "breaking_point".
  void set_breaking_point(const engine::output::BreakingPointResult* result) { breaking_point_ = result; }
  // Iterations cut short by gracefulStop, gracefulRampDown or a stop: shown after the metrics when any, and in the
  // summary JSON's state as interruptedIterations (they are not in `iterations`).
  void set_interrupted_iterations(uint64_t count) { interrupted_iterations_ = count; }
  // A line the summary ends with, e.g. that a stuck worker's latest data is missing.
  void add_summary_note(std::string note) { notes_.push_back(std::move(note)); }
  // For runs that end before the scenario (a setup failure or timeout): writes the promised files, no summary.
  void write_files_only();

  // Closes the time series' current interval (the report's charts) at now_ns: call when every worker's snapshot
  // taken at now_ns has been merged.
  void sample_time_series(int64_t now_ns);
  // After write_final: whether --baseline found a regression beyond --max-regression.
  bool regressed() const { return regressed_; }

 private:
  double elapsed_s(int64_t now_ns) const;
  std::vector<ScenarioStatus> scenario_statuses(int64_t now_ns,
                                                const std::vector<engine::schedule::ScenarioConfig>& scenarios) const;
  LiveTotals live_totals() const;
  const std::vector<engine::metrics::ThresholdResult>& evaluate_final(double elapsed, bool* passed);
  void print_summary(const std::vector<engine::metrics::ThresholdResult>& results, double elapsed, bool interrupted);
  void write_files(const std::vector<engine::metrics::ThresholdResult>& results, double elapsed);
  void write_summary_files(const std::vector<engine::metrics::ThresholdResult>& results, double elapsed);
  nlohmann::json errors_json() const;

  const TestRunConfig& config_;
  engine::metrics::Store store_;
  std::optional<engine::metrics::ThresholdSet> thresholds_;
  int64_t start_ns_ = 0;
  int64_t last_plain_progress_ns_ = 0;
  uint64_t last_http_reqs_ = 0;
  int64_t last_progress_ns_ = 0;
  double current_rps_ = 0;
  bool tty_ = false;
  bool thresholds_valid_ = true;
  int64_t vus_ = 0;
  int64_t vus_max_ = 0;
  bool final_written_ = false;
  std::map<std::string, int64_t> scenario_vus_;
  LiveRedraw redraw_;
  std::vector<std::unique_ptr<OutputSink>> sinks_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
  std::string scrape_text_;  // what /metrics serves: the store as of the last complete tick
  const engine::output::BreakingPointResult* breaking_point_ = nullptr;
  uint64_t interrupted_iterations_ = 0;
  const ErrorTable* script_errors_ = nullptr;
  std::vector<std::string> notes_;
  engine::output::Timeline timeline_;
  int64_t start_unix_ms_ = 0;
  bool regressed_ = false;
  SeriesWatch series_watch_{SeriesWatch::limit_from_env()};
};

// The breaking-point search's shape, from the run's options.
engine::output::BreakingPointPlan breaking_point_plan(const TestRunConfig& config);

}  // namespace luaload::app
