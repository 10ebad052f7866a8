// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/metrics/threshold.hpp"

namespace luaload::engine::schedule {

inline constexpr int64_t kSecondNs = 1'000'000'000;

// k6's six executors. Closed model: a fixed or staged number of VUs loop iterations back to back. Open model
// (arrival rate): iterations start on a schedule whether or not earlier ones have finished.
enum class Executor { ConstantVus, RampingVus, PerVuIterations, SharedIterations, ConstantArrivalRate, RampingArrivalRate };

// One step of a ramp: over `duration_ns`, move linearly from the previous target to `target` (VUs for ramping-vus,
// iterations per timeUnit for ramping-arrival-rate). A zero duration is a jump.
struct Stage {
  int64_t duration_ns = 0;
  int64_t target = 0;
};

// One resolved scenario: every default applied, every value validated. Counts and rates are totals across all
// worker threads.
struct ScenarioConfig {
  std::string name = "default";
  Executor executor = Executor::ConstantVus;
  std::string exec = "default";  // the global function each iteration calls
  int64_t start_time_ns = 0;
  int64_t graceful_stop_ns = 30 * kSecondNs;
  int64_t graceful_ramp_down_ns = 30 * kSecondNs;  // ramping-vus
  std::vector<std::pair<std::string, std::string>> tags;
  std::map<std::string, std::string> env;
  int64_t vus = 1;           // constant-vus, per-vu-iterations, shared-iterations
  int64_t iterations = 1;    // per-vu-iterations: per VU; shared-iterations: in total
  int64_t duration_ns = 0;   // constant-vus/constant-arrival-rate: duration; *-iterations: maxDuration
  int64_t start_vus = 1;     // ramping-vus
  std::vector<Stage> stages; // ramping-vus, ramping-arrival-rate
  int64_t rate = 0;          // constant-arrival-rate: iterations per timeUnit
  int64_t start_rate = 0;    // ramping-arrival-rate
  int64_t time_unit_ns = kSecondNs;
  int64_t pre_allocated_vus = 0;
  int64_t max_vus = 0;
  int64_t max_queued = 0;    // arrival rate: iterations waiting for a free VU before new ones are dropped
};

// `luaload run --find-breaking-point` / options.breakingPoint: an arrival rate raised in steps until a threshold
// fails or the error rate passes max_error_rate.
struct BreakingPointOptions {
  bool enabled = false;
  int64_t start_rate = 10;   // iterations per second in the first step
  int64_t step_rate = 10;    // added at each step
  int64_t step_duration_ns = 10 * kSecondNs;
  int64_t max_rate = 10'000;
  double max_error_rate = 0.05;  // http_req_failed rate within one step
  int64_t pre_allocated_vus = 20;
  int64_t max_vus = 1'000;
};

// The test's options, after the script's `options` table and the command-line flags are merged (flags win).
// Everything optional stays unset until resolve_scenarios() applies k6's defaults.
struct TestOptions {
  std::optional<int64_t> vus;
  std::optional<int64_t> duration_ns;
  std::optional<int64_t> iterations;
  std::optional<std::vector<Stage>> stages;
  std::vector<ScenarioConfig> scenarios;  // options.scenarios, sorted by name
  // Where the duration/iterations/stages shortcuts came from: k6 refuses them next to scenarios in the same
  // place (the script), while on the command line they replace the script's scenarios.
  bool script_shortcuts = false;
  bool cli_shortcuts = false;
  BreakingPointOptions breaking_point;
  int64_t graceful_stop_ns = 30 * kSecondNs;
  int64_t setup_timeout_ns = 60 * kSecondNs;
  int64_t teardown_timeout_ns = 60 * kSecondNs;
  int64_t vu_end_timeout_ns = 10 * kSecondNs;  // vuEndTimeout: how long the VUs' ll.on_vu_end hooks may run
  std::optional<int> max_redirects;
  std::optional<bool> insecure_skip_tls_verify;
  std::optional<std::string> user_agent;
  std::vector<metrics::ThresholdSpec> thresholds;
};

// Reads k6-style options (the script's `options` table, as JSON) into *options. Unknown top-level keys are ignored,
// as k6 does; a known key with a bad value, or an unknown key inside a scenario, is an error naming the key and the
// value (exit code 104 for the caller).
bool parse_script_options(const nlohmann::json& json, TestOptions* options, std::string* error);

// Parses "5m:100,1h:100,5m:0" (the --stage flag) into stages.
bool parse_stage_flag(const std::string& text, std::vector<Stage>* stages, std::string* error);

// The scenarios to run, following k6: command-line shortcuts (-d/-i/--stage) replace the script's scenarios with
// one "default" scenario; otherwise options.scenarios when present; otherwise the shortcuts: stages ->
// ramping-vus, iterations -> shared-iterations (maxDuration = duration or 10m), duration -> constant-vus, none ->
// one iteration on one VU. The breaking-point search replaces all of them with one stepped arrival-rate scenario.
bool resolve_scenarios(const TestOptions& options, std::vector<ScenarioConfig>* scenarios, std::string* error);

// "constant-vus", "ramping-arrival-rate", ...
const char* executor_name(Executor executor);
bool is_arrival_rate(Executor executor);

// How long the executor itself runs, from the scenario's start, without gracefulStop: the duration, the stages'
// sum or maxDuration.
int64_t scenario_duration_ns(const ScenarioConfig& scenario);
// The most VUs the scenario can use at once (its share of vus_max).
int64_t scenario_max_vus(const ScenarioConfig& scenario);
// From the test's start to the end of the scenario's gracefulStop: startTime + duration + gracefulStop.
int64_t scenario_end_with_grace_ns(const ScenarioConfig& scenario);
// The longest scenario_end_with_grace_ns: the planned duration of the whole test.
int64_t total_planned_ns(const std::vector<ScenarioConfig>& scenarios);

}  // namespace luaload::engine::schedule
