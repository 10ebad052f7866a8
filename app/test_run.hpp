// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/error_table.hpp"
#include "app/output_sink.hpp"
#include "app/result_files.hpp"
#include "app/worker_host.hpp"
#include "bindings/worker_runtime.hpp"
#include "engine/loop/mailbox.hpp"
#include "engine/output/breaking_point.hpp"
#include "engine/schedule/options.hpp"

namespace luaload::app {

struct TestRunConfig {
  bindings::ScriptSource script;
  bindings::RuntimeConfig runtime;
  engine::schedule::TestOptions options;
  std::vector<engine::schedule::ScenarioConfig> scenarios;  // resolved, at least one
  int threads = 1;
  int64_t interrupt_grace_ns = 30 * engine::schedule::kSecondNs;
  std::string summary_export;
  bool quiet = false;
  bool no_summary = false;    // --no-summary: thresholds and files as usual, nothing on stdout
  std::vector<OutSpec> outs;  // --out, validated
  std::string junit;          // --junit FILE
  std::string metrics_addr;   // --metrics-addr IP:PORT
  ResultFiles result_files;  // --report, --baseline, --save-baseline, --history
  // Every metric defined before the run (builtins, the init code's custom metrics, the lazily defined stream_*):
  // known to the results from the start, so a threshold on one that never gets a sample is judged, not unknown.
  std::vector<engine::metrics::MetricDef> known_metrics;
};

// One `luaload run`, on the main thread: starts the workers, initialises the VUs, runs setup, the scenario and
// teardown, merges the workers' metrics every second, draws progress, handles Ctrl-C, and ends with the summary,
// the thresholds and the exit code.
//
// Phases: start workers -> init VUs -> setup -> run -> teardown -> final collection -> shutdown -> report.
// The main loop keeps running between phases (run_until), so signals and progress work in every phase.
class TestRun {
 public:
  explicit TestRun(TestRunConfig config);
  ~TestRun();
  TestRun(const TestRun&) = delete;
  TestRun& operator=(const TestRun&) = delete;

  int execute();

 private:
  enum class Phase { Starting, Setup, Running, Teardown, Reporting };

  int run_phases();
  bool start_workers(std::string* error);
  bool init_vus(std::string* error);
  std::vector<engine::schedule::WorkerPlan> worker_plans() const;
  int run_setup(std::string* setup_json);
  void run_scenario();
  int run_teardown(const std::string& setup_json);
  // Collects every worker's latest data; false when one did not answer within a short grace (stuck in Lua).
  bool collect_all();
  // The last collection, the summary and the code; ends the process without joining a stuck worker.
  int finish(int teardown_code);
  // For endings without a summary (init, setup failures): returns `code`, or leaves at once if a worker is stuck.
  int end_without_summary(int code);
  [[noreturn]] void leave_now(int code);
  void report_stuck(const char* consequence);
  int script_failure(const char* function, const std::string& error);
  // Stops every worker's scenarios and arms the watchdog: past the graceful deadline + a grace, the run is stuck.
  void stop_workers(int64_t graceful_deadline_ns);

  void open_main_loop();
  void close_main_loop();
  void run_until(const std::function<bool()>& done);
  void on_tick();
  void judge_tick();
  void on_interrupt();
  void merge_report(WorkerReport report);
  int report_results();

  TestRunConfig config_;
  uv_loop_t loop_{};
  std::unique_ptr<engine::loop::Mailbox> mailbox_;
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_timer_t tick_{};
  std::vector<std::unique_ptr<WorkerHost>> hosts_;
  Phase phase_ = Phase::Starting;
  int interrupts_ = 0;
  bool aborted_by_script_ = false;
  bool aborted_by_threshold_ = false;
  std::string abort_message_;
  int64_t run_start_ns_ = 0;
  ErrorTable script_errors_;
  std::vector<engine::schedule::WorkerStatus> worker_status_;  // per worker, from its latest report

  std::unique_ptr<class RunReport> reporting_;
  std::unique_ptr<engine::output::BreakingPointSearch> search_;  // --find-breaking-point only
  int64_t scenario_elapsed_ns_ = 0;
  bool search_done_ = false;
  uint64_t interrupted_iterations_ = 0;
  bool setup_done_ = false;
  bool stuck_ = false;  // a worker stopped answering: it never gets joined
  size_t workers_finished_ = 0;
  std::vector<bool> worker_finished_;  // by worker index, during the scenario
  std::vector<bool> stuck_workers_;    // by worker index: silent when report_stuck() ran
  int64_t stuck_deadline_ns_ = INT64_MAX;
  int64_t end_hooks_deadline_ns_ = 0;  // while workers run end hooks (ll.on_vu_end): their bound + a grace
  std::vector<int64_t> last_reply_ns_;  // per worker, monotonic time of its latest answer  // metrics store, thresholds, progress, summary
};

}  // namespace luaload::app
