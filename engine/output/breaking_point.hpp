// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"

namespace luaload::engine::output {

// The search's shape (options.breakingPoint / --find-breaking-point, see docs/scenarios.md).
struct BreakingPointPlan {
  int64_t start_rate = 10;  // iterations per second
  int64_t step_rate = 10;
  int64_t step_duration_ns = 10'000'000'000;
  int64_t max_rate = 10'000;
  double max_error_rate = 0.05;
};

// What one step measured.
struct BreakingPointStep {
  int64_t rate = 0;          // target iterations per second
  double duration_s = 0;     // how long it was measured (the last step may be cut short)
  uint64_t iterations = 0;
  uint64_t dropped = 0;
  uint64_t requests = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // http_req_duration
  double corrected_p99_ms = 0;                // http_req_duration_corrected
  double error_rate = 0;                      // http_req_failed
  bool passed = true;
  std::string reason;  // why it failed: the failed thresholds, or the error rate over the limit
};

struct BreakingPointResult {
  std::vector<BreakingPointStep> steps;
  std::optional<int64_t> highest_ok_rate;  // the highest rate whose step held every threshold
  bool broke = false;                       // a step failed (else the search reached maxRate or the end of -d)
};

// Main thread: cuts the run's metrics into steps and judges each one on its own samples: every threshold of the
// script evaluated on the step's data only, and http_req_failed against max_error_rate. The first failing step
// ends the search.
class BreakingPointSearch {
 public:
  BreakingPointSearch(BreakingPointPlan plan, const std::vector<metrics::ThresholdSpec>& thresholds);

  // A worker's metrics since its previous collection: they belong to the step in progress.
  void merge(const metrics::Delta& delta);
  // Closes every step that ended by `elapsed_ns` (since the scenario's start). True once a step has failed: the
  // caller stops the test.
  bool on_tick(int64_t elapsed_ns);
  // Closes the step in progress (measured for as long as it ran) unless the search already broke.
  void finish(int64_t elapsed_ns);

  const BreakingPointResult& result() const { return result_; }

 private:
  int64_t rate_of(size_t step) const;
  void close_step(double duration_s);

  BreakingPointPlan plan_;
  std::optional<metrics::ThresholdSet> thresholds_;
  metrics::Store step_;
  size_t step_index_ = 0;
  BreakingPointResult result_;
};

// The summary's "BREAKING POINT" section.
std::string render_breaking_point(const BreakingPointResult& result);
// The summary JSON's "breaking_point" member (docs/summary-json.md).
nlohmann::json breaking_point_json(const BreakingPointResult& result, const BreakingPointPlan& plan);

}  // namespace luaload::engine::output
