// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/worker_runtime.hpp"
#include "engine/core/clock.hpp"
#include "engine/loop/mailbox.hpp"
#include "engine/loop/worker.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/schedule/worker_scheduler.hpp"

namespace luaload::app {

// What a worker sends back on each collection: its metrics since the last one, its new script errors, its status.
struct WorkerReport {
  engine::metrics::Delta delta;
  std::vector<bindings::WorkerRuntime::ScriptError> errors;
  engine::schedule::WorkerStatus status;
};

// The main thread's handle on one worker thread and what lives on it (the Lua runtime and the scheduler).
// Every method is called on the main thread; it posts a task to the worker, and the reply runs on the main thread
// through `main_mailbox`, exactly once. Nothing is shared but copies in those tasks.
class WorkerHost {
 public:
  WorkerHost(int index, engine::loop::Mailbox& main_mailbox);
  ~WorkerHost();
  WorkerHost(const WorkerHost&) = delete;
  WorkerHost& operator=(const WorkerHost&) = delete;

  void start(const bindings::ScriptSource& script, const bindings::RuntimeConfig& config,
             std::function<void(std::string error)> ready);
  // Creates the worker's scenario runs and their initial VUs.
  void init(engine::schedule::WorkerPlan plan, std::function<void(std::string error)> done);
  void run_setup(std::function<void(std::optional<std::string> json, std::string error)> done);
  void set_setup_data(std::string json);
  // Starts the scenarios relative to `test_start_ns` (monotonic, shared by every worker). Once they are over, the
  // VUs' end hooks (ll.on_vu_end) run for at most `vu_end_timeout_ns` — `ending` is told when there are any — and
  // then `finished` runs.
  void run_plan(int64_t test_start_ns, int64_t vu_end_timeout_ns,
                std::function<void(engine::schedule::WorkerScheduler::Finished)> finished,
                std::function<void(std::string message)> aborted, std::function<void()> ending);
  void stop(int64_t graceful_deadline_ns);
  void collect(std::function<void(WorkerReport)> done);
  // Makes the worker's registry keep every sample (bounded, see Registry::enable_sample_log) for the outputs that
  // write points. Call after start(), before the VUs run.
  void enable_sample_log(size_t capacity);
  void run_teardown(std::string setup_json, std::function<void(std::string error)> done);

  // Closes the scheduler and the runtime on the worker, ends its loop, joins the thread. True when the loop
  // closed with no handle left open.
  bool shutdown();

  int index() const { return index_; }

 private:
  void reply(std::function<void()> task);
  void close_on_worker();

  int index_;
  engine::loop::Mailbox& main_mailbox_;
  engine::loop::Worker worker_;
  // Worker-thread state: touched only by tasks running on worker_.
  core::MonotonicClock clock_;
  std::unique_ptr<bindings::WorkerRuntime> runtime_;
  std::unique_ptr<engine::schedule::WorkerScheduler> scheduler_;
  bool shut_down_ = false;
};

}  // namespace luaload::app
