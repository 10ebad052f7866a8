// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/schedule/scenario_run.hpp"
#include "engine/schedule/vu.hpp"

namespace luaload::engine::schedule {

// What one worker runs: its share of every scenario.
struct WorkerPlan {
  std::vector<WorkerScenarioPlan> scenarios;
};

// Counts the main thread reads to draw progress and the vus/vus_max gauges; sent as a copy.
struct WorkerStatus {
  size_t active_vus = 0;       // VUs with an iteration in flight
  size_t allocated_vus = 0;    // VUs initialised so far (arrival rate grows them up to maxVUs)
  uint64_t iterations_done = 0;
  uint64_t dropped = 0;
  uint64_t interrupted = 0;    // iterations cut short so far (gracefulStop, gracefulRampDown, a stop)
  std::map<std::string, size_t> active_vus_by_scenario;  // the live view's per-scenario VU counts
};

// Runs the scenarios of one worker, concurrently, each with its own VUs (a VU belongs to one scenario for its
// life). One uv timer wakes the scheduler when the earliest scenario wants it; the ScenarioRuns do the time math.
//
// Threading: the worker's loop thread only. Lifecycle: init() -> start() -> [stop()] -> on_finished ->
// close(on_closed) -> destroy after on_closed.
class WorkerScheduler {
 public:
  struct Finished {
    uint64_t iterations = 0;
    uint64_t interrupted = 0;
    uint64_t dropped = 0;
    std::string abort_message;  // non-empty when a VU called abort()
  };
  using OnFinished = std::function<void(Finished)>;
  using OnAbort = std::function<void(std::string message)>;

  WorkerScheduler(uv_loop_t* loop, VuFactory& factory, metrics::Registry& registry, const core::Clock& clock);
  ~WorkerScheduler();
  WorkerScheduler(const WorkerScheduler&) = delete;
  WorkerScheduler& operator=(const WorkerScheduler&) = delete;

  // Creates the scenario runs and their initial VUs. False with *error on the first VU that fails.
  bool init(WorkerPlan plan, std::string* error);
  size_t vu_count() const;

  // Starts every scenario relative to `test_start_ns` (monotonic; each adds its startTime). on_abort runs as soon
  // as a VU aborts (the test should stop); on_finished runs exactly once, on a later loop turn, when no iteration
  // is in flight any more and none will start.
  void start(int64_t test_start_ns, OnFinished on_finished, OnAbort on_abort = nullptr);

  // Stops starting iterations now; in-flight ones get until `graceful_deadline_ns` (monotonic), then are
  // interrupted. A deadline <= now interrupts at once.
  void stop(int64_t graceful_deadline_ns);

  // Runs whatever is due now. The timer calls it; tests driving a ManualClock call it after moving the clock.
  void service();

  WorkerStatus status() const;

  // Interrupts whatever is in flight, destroys the VUs, closes the timer; on_closed runs from the close callback.
  void close(std::function<void()> on_closed);

 private:
  void on_iteration_done(ScenarioRun& run, ScenarioRun::VuSlot& slot, IterationOutcome outcome);
  void arm_timer(int64_t at_ns);
  static void on_timer_cb(uv_timer_t* timer);
  void maybe_finish();
  void close_if_idle();
  size_t in_flight() const;

  uv_loop_t* loop_;
  VuFactory& factory_;
  metrics::Registry& registry_;
  const core::Clock& clock_;
  std::vector<std::unique_ptr<ScenarioRun>> runs_;
  OnFinished on_finished_;
  OnAbort on_abort_;
  uv_timer_t* timer_ = nullptr;  // freed in its close callback
  bool started_ = false;
  bool finished_ = false;
  bool closing_ = false;
  bool in_service_ = false;
  std::function<void()> on_closed_;
  std::string abort_message_;
};

}  // namespace luaload::engine::schedule
