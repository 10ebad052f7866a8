// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "app/test_run.hpp"
#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"

namespace luaload::app {

// The main thread's view of a run's results: the merged metric store, the thresholds, the live progress line and
// the final summary and files. Main thread only.
class RunReport {
 public:
  explicit RunReport(const TestRunConfig& config);

  void set_vus_max(int64_t vus);  // VUs initialised so far; only ever grows
  void set_vus(int64_t vus);      // VUs with an iteration in flight
  void mark_start(int64_t now_ns);
  void merge(WorkerReport report);

  // On a terminal: one line rewritten in place every call; otherwise a plain line every 10 s.
  void print_progress(int64_t now_ns, int64_t planned_ns);

  // Evaluates the thresholds now; true when an abortOnFail threshold has failed past its delayAbortEval.
  bool thresholds_demand_abort(int64_t now_ns);

  // Prints the summary, writes --summary-export, returns whether every threshold passed.
  bool write_final(const std::map<std::string, uint64_t>& script_errors, bool interrupted);

 private:
  double elapsed_s(int64_t now_ns) const;
  std::string progress_line(int64_t now_ns, int64_t planned_ns) const;

  const TestRunConfig& config_;
  engine::metrics::Store store_;
  std::optional<engine::metrics::ThresholdSet> thresholds_;
  int64_t start_ns_ = 0;
  int64_t last_plain_progress_ns_ = 0;
  uint64_t last_http_reqs_ = 0;
  int64_t last_progress_ns_ = 0;
  double current_rps_ = 0;
  bool tty_ = false;
  bool progress_drawn_ = false;
  bool thresholds_valid_ = true;
  int64_t vus_ = 0;
  int64_t vus_max_ = 0;
};

}  // namespace luaload::app
