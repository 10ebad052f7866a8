// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/schedule/options.hpp"
#include "engine/schedule/schedule_math.hpp"
#include "engine/schedule/vu.hpp"

namespace luaload::engine::schedule {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// What one worker runs of one scenario. The main thread builds one per (scenario, worker): VU counts, rates,
// queues and iteration budgets are split so that the workers' shares add up to the scenario's totals.
struct WorkerScenarioPlan {
  std::shared_ptr<const ScenarioConfig> config;
  size_t worker_index = 0;
  size_t worker_count = 1;
  std::vector<uint64_t> vu_ids;  // this worker's share of the scenario's VUs (global ids)
  size_t initial_vus = 0;        // created before the test starts; arrival-rate creates the rest on demand
  // shared-iterations: the budget every worker draws from, one unit per iteration started. The one piece of state
  // workers share: an atomic counter of plain numbers.
  std::shared_ptr<std::atomic<int64_t>> iterations_left;
};

struct ScenarioStats {
  uint64_t iterations = 0;   // completed or failed (k6 counts both)
  uint64_t interrupted = 0;  // cut short by gracefulStop / gracefulRampDown / a stop
  uint64_t dropped = 0;      // arrival rate: due but neither started nor queued
};

// One scenario's executor on one worker: owns its VUs, decides when each iteration starts, records iterations,
// iteration_duration, iteration_start_lag and dropped_iterations (tagged with the scenario and its tags).
//
// Threading: the worker's loop thread. Time comes from the injected clock only; service(now) does whatever is due
// and returns when it wants to be called again, so the time math runs the same under a ManualClock in tests.
class ScenarioRun {
 public:
  struct VuSlot;
  // Called after each iteration ends (the run already restarted or parked the VU).
  using OnIterationDone = std::function<void(ScenarioRun&, VuSlot&, IterationOutcome)>;

  ScenarioRun(WorkerScenarioPlan plan, VuFactory& factory, metrics::Registry& registry, const core::Clock& clock,
              OnIterationDone on_done);
  ~ScenarioRun();

  bool init_vus(std::string* error);
  void start(int64_t test_start_ns);
  // Does what is due at `now`; returns the next time it needs to run (kNever: only iteration ends matter now).
  int64_t service(int64_t now);
  // Stops starting iterations; in-flight ones are interrupted at `deadline_ns` (earliest deadline wins).
  void stop(int64_t deadline_ns);
  void interrupt_all();
  // Nothing in flight and nothing will start any more.
  bool finished() const;
  // Destroys the VUs; only with nothing in flight.
  void release_vus();

  const ScenarioConfig& config() const { return *plan_.config; }
  const ScenarioStats& stats() const { return stats_; }
  size_t in_flight() const { return in_flight_; }
  size_t allocated_vus() const;
  std::string abort_message(const VuSlot& slot) const;

 private:
  bool closed_model() const { return !is_arrival_rate(plan_.config->executor); }
  int64_t target_vus(int64_t now) const;
  void service_closed(int64_t now);
  void service_arrivals(int64_t now);
  void set_active(size_t count, int64_t now);
  bool may_loop(VuSlot& slot, int64_t now);
  VuSlot* free_slot();
  void start_iteration(VuSlot& slot, int64_t scheduled_ns, int64_t now);
  void on_iteration_done(VuSlot& slot, IterationOutcome outcome);
  void drop(uint64_t count);
  void begin_stop(int64_t deadline_ns);

  WorkerScenarioPlan plan_;
  VuFactory& factory_;
  metrics::Registry& registry_;
  const core::Clock& clock_;
  OnIterationDone on_done_;
  metrics::TagSetId tags_ = 0;
  std::vector<std::unique_ptr<VuSlot>> slots_;
  std::vector<VuSlot*> idle_;   // arrival rate: created VUs waiting for an iteration
  size_t created_ = 0;
  size_t active_ = 0;           // closed model: slots [0, active_) loop iterations
  size_t ramping_down_ = 0;     // busy slots past active_ with a gracefulRampDown deadline
  size_t in_flight_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  bool create_failed_ = false;
  int64_t start_ns_ = kNever;
  int64_t end_ns_ = kNever;
  int64_t deadline_ns_ = kNever;
  uint64_t started_iterations_ = 0;
  std::optional<ArrivalSchedule> schedule_;
  uint64_t next_k_ = 0;
  std::optional<int64_t> next_due_;  // from the scenario start
  std::deque<int64_t> queue_;        // scheduled start times (monotonic) of iterations waiting for a VU
  size_t max_queued_ = 0;
  ScenarioStats stats_;
};

}  // namespace luaload::engine::schedule
