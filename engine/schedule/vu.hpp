// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/schedule/options.hpp"

namespace luaload::engine::schedule {

enum class IterationOutcome {
  Completed,    // the iteration function returned
  Failed,       // it raised an error or called fail(); the VU goes on
  Interrupted,  // interrupt() cut it short (graceful stop ran out); not a failure
  Aborted,      // the script asked to stop the whole test (abort()); see abort_message()
};

// What the scheduler knows about one iteration when it starts it.
struct IterationContext {
  uint64_t iteration_in_vu = 0;        // 0-based count of this VU's iterations
  uint64_t iteration_in_scenario = 0;  // 0-based, across all VUs of the scenario
  std::string scenario = "default";
  int64_t scheduled_start_ns = 0;      // monotonic; when the iteration should have started
  // Actual start minus scheduled start: > 0 when an arrival-rate iteration waited for a free VU; 0 in the closed
  // model. Requests of the iteration add it to their duration for http_req_duration_corrected.
  int64_t start_lag_ns = 0;
  std::string exec = "default";        // the global function the iteration calls
  // The scenario's tags and env; shared by every iteration of the scenario, alive while any VU may read it.
  std::shared_ptr<const ScenarioConfig> config;
};

// One virtual user's behaviour, as the scheduler sees it. The scheduler never knows what runs inside (a Lua
// coroutine in bindings/, a C++ lambda in engine tests).
//
// Threading: the worker's loop thread only. Contract: after run_iteration(), `done` runs exactly once, on the
// loop, never from inside run_iteration(); at most one iteration runs per VU at a time.
class VuBody {
 public:
  using Done = std::function<void(IterationOutcome)>;
  virtual ~VuBody() = default;

  virtual void run_iteration(const IterationContext& context, Done done) = 0;

  // Cuts short the iteration in flight, if any: pending operations are cancelled and `done` runs with Interrupted
  // on a later loop turn.
  virtual void interrupt() = 0;

  // Set after an Aborted outcome.
  virtual std::string abort_message() const { return {}; }
};

// Creates the VUs of one worker. Runs on that worker's loop thread.
class VuFactory {
 public:
  virtual ~VuFactory() = default;
  // nullptr with *error set when the VU could not be initialised (e.g. the script's init code raised an error).
  virtual std::unique_ptr<VuBody> create_vu(uint64_t vu_id, std::string* error) = 0;
  // The same for a VU whose iterations call the global function `exec`; nullptr with *error when the script does
  // not define it.
  virtual std::unique_ptr<VuBody> create_vu_for(uint64_t vu_id, const std::string& exec, std::string* error) {
    return create_vu(vu_id, error);
  }
};

}  // namespace luaload::engine::schedule
