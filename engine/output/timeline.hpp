// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/metrics/histogram.hpp"
#include "engine/metrics/registry.hpp"

namespace luaload::engine::output {

// One interval of the run's time series. Latency fields are NaN when the interval had no request.
struct TimePoint {
  double t_s = 0;          // end of the interval, seconds since the start of the run
  double interval_s = 0;   // its length
  uint64_t requests = 0;   // http_reqs samples in the interval
  double rps = 0;          // requests / interval_s
  double p50 = 0;          // http_req_duration percentiles of the interval, ms
  double p95 = 0;
  double p99 = 0;
  double vus = 0;          // active VUs at the end of the interval
  double error_rate = 0;   // http_req_failed rate of the interval (0..1), 0 without requests
};

// The per-interval time series behind the HTML report's charts and the summary export's "time_series": req/s,
// p50/p95/p99 latency, active VUs and error rate. The main thread folds every worker delta in with add() and
// closes an interval once a second; percentiles are exact per interval (a histogram of the interval's samples).
//
// Memory is bounded: past kMaxPoints points, neighbouring points are merged pairwise (percentiles keep the larger
// of the two, an upper bound) and intervals become twice as long. Main thread only.
class Timeline {
 public:
  static constexpr size_t kMaxPoints = 3600;

  // Folds the http_reqs, http_req_duration and http_req_failed samples of a worker delta into the open interval.
  void add(const metrics::Delta& delta);
  // Ends the open interval at t_s (seconds since the start) with `vus` active. An interval shorter than 0.9 of
  // the resolution stays open, so calls may come more often. `final` (the end of the run) closes any interval of
  // at least a quarter of the resolution (any at all when it is the first); the samples of a shorter one are left
  // out of the series (never out of the summary's totals).
  void close_interval(double t_s, double vus, bool final = false);

  const std::vector<TimePoint>& points() const { return points_; }
  double resolution_s() const { return resolution_s_; }

 private:
  void compact();

  std::vector<TimePoint> points_;
  metrics::Histogram durations_;
  uint64_t requests_ = 0;
  uint64_t failed_ = 0;
  uint64_t failed_total_ = 0;
  double last_t_s_ = 0;
  double resolution_s_ = 1;
};

// The summary export's "time_series" array (docs/summary-json.md); NaN latencies become null.
nlohmann::json time_series_json(const std::vector<TimePoint>& points);
// The inverse, for reports rendered from a saved export; points it cannot read are skipped.
std::vector<TimePoint> time_series_from_json(const nlohmann::json& json);

}  // namespace luaload::engine::output
