// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/schedule/vu.hpp"

namespace luaload::engine::schedule {

// What one worker runs of a closed-model scenario: `vus` of its VUs loop iterations back to back until the
// scenario ends. Iterations stop being started at `end_ns` (monotonic) or when the shared iteration budget is
// spent; iterations still running get `graceful_stop_ns` more, then are interrupted.
struct WorkerPlan {
  std::string scenario = "default";
  size_t vus = 0;
  int64_t end_ns = 0;
  int64_t graceful_stop_ns = 0;
  // Shared by every worker of a shared-iterations scenario: each iteration claims one unit before it starts. The
  // one piece of state workers share, an atomic counter of plain numbers (no Lua, no engine objects). Null means
  // unlimited.
  std::shared_ptr<std::atomic<int64_t>> iterations_left;
};

// Counts the main thread reads to draw progress and the vus gauge; sent as a copy.
struct WorkerStatus {
  size_t active_vus = 0;       // VUs with an iteration in flight
  uint64_t iterations_done = 0;
};

// Runs the VUs of one worker. Records iterations, iteration_duration (tagged with the scenario) into the worker's
// registry; everything else a VU measures is recorded by the VU itself.
//
// Threading: the worker's loop thread only. Lifecycle: init_vus() -> start() -> [stop()] -> on_finished ->
// close(on_closed) -> destroy after on_closed.
class WorkerScheduler {
 public:
  struct Finished {
    uint64_t iterations = 0;
    uint64_t interrupted = 0;
    std::string abort_message;  // non-empty when a VU called abort()
  };
  using OnFinished = std::function<void(Finished)>;
  using OnAbort = std::function<void(std::string message)>;

  WorkerScheduler(uv_loop_t* loop, VuFactory& factory, metrics::Registry& registry, const core::Clock& clock);
  ~WorkerScheduler();
  WorkerScheduler(const WorkerScheduler&) = delete;
  WorkerScheduler& operator=(const WorkerScheduler&) = delete;

  // Creates (initialises) VUs with these global ids. False with *error on the first VU that fails.
  bool init_vus(const std::vector<uint64_t>& vu_ids, std::string* error);
  size_t vu_count() const { return vus_.size(); }

  // Starts the plan. on_abort runs as soon as a VU aborts (the test should stop); on_finished runs exactly once,
  // when no iteration is in flight any more and none will start.
  void start(const WorkerPlan& plan, OnFinished on_finished, OnAbort on_abort = nullptr);

  // Stops starting iterations now; in-flight ones get until `graceful_deadline_ns` (monotonic), then are
  // interrupted. A deadline <= now interrupts at once.
  void stop(int64_t graceful_deadline_ns);

  WorkerStatus status() const;

  // Interrupts whatever is in flight, destroys the VUs, closes the timer; on_closed runs from the close callback.
  void close(std::function<void()> on_closed);

 private:
  struct VuSlot;
  void start_iteration(VuSlot& slot);
  void on_iteration_done(VuSlot& slot, IterationOutcome outcome);
  bool may_start_iteration();
  void arm_timer(int64_t at_ns);
  static void on_timer_cb(uv_timer_t* timer);
  void on_timer();
  void interrupt_all();
  void maybe_finish();
  void close_if_idle();

  uv_loop_t* loop_;
  VuFactory& factory_;
  metrics::Registry& registry_;
  const core::Clock& clock_;
  std::vector<std::unique_ptr<VuSlot>> vus_;
  WorkerPlan plan_;
  metrics::TagSetId scenario_tags_ = 0;
  OnFinished on_finished_;
  OnAbort on_abort_;
  uv_timer_t* timer_ = nullptr;  // freed in its close callback
  bool started_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  bool closing_ = false;
  std::function<void()> on_closed_;
  int64_t graceful_deadline_ns_ = 0;
  size_t in_flight_ = 0;
  uint64_t iterations_started_ = 0;
  Finished result_;
};

}  // namespace luaload::engine::schedule
