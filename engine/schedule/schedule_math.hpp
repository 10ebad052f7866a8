// SPDX-License-Identifier: MIT
// The executors' time math, as pure functions of time: no loop, no clock, no VUs. Times are nanoseconds from the
// scenario's start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/schedule/options.hpp"

namespace luaload::engine::schedule {

// The part of `total` that worker `index` of `count` takes: the shares differ by at most one and sum to `total`;
// lower indexes take the remainder, so growing `total` by one adds one VU to exactly one worker.
int64_t worker_share(int64_t total, size_t index, size_t count);

// VUs a ramping-vus scenario wants at `t`: linear interpolation between the stage targets, truncated towards the
// previous target (so a ramp reaches a new VU only once it is due). After the last stage: its target.
int64_t ramping_vus_at(int64_t start_vus, const std::vector<Stage>& stages, int64_t t);

// When each iteration of an arrival-rate scenario is due. Iteration k (0-based, counted across all workers) starts
// when the integral of the rate reaches k: the rate is piecewise linear (a constant rate is one flat stage), so
// each start time is the root of a quadratic. Worker i of n takes iterations i, i+n, i+2n, ...: their union is the
// scenario's schedule, so totals hold exactly whatever the number of workers.
//
// next() must be asked for increasing k; it walks the stages once overall.
class ArrivalSchedule {
 public:
  // rate and stage targets are iterations per time_unit_ns.
  ArrivalSchedule(int64_t start_rate, std::vector<Stage> stages, int64_t time_unit_ns);
  static ArrivalSchedule from(const ScenarioConfig& scenario);

  // The start time of iteration k, or nullopt when the schedule ends before it is due.
  std::optional<int64_t> time_of(uint64_t k);
  // The rate (iterations per second) at `t`, for reports.
  double rate_per_second_at(int64_t t) const;

 private:
  // Iterations due by the end of stage i (cumulative), in the stage's own rate math.
  double stage_count(size_t i) const;

  double start_rate_;        // per second
  std::vector<Stage> stages_;
  std::vector<double> rates_;  // target per second of each stage
  size_t stage_ = 0;           // cursor: the stage k was last found in
  double count_before_ = 0;    // iterations due before stage_ starts
  int64_t stage_start_ns_ = 0;
};

}  // namespace luaload::engine::schedule
