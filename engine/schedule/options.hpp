// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/metrics/threshold.hpp"

namespace luaload::engine::schedule {

inline constexpr int64_t kSecondNs = 1'000'000'000;

// The test's options, after the script's `options` table and the command-line flags are merged (flags win).
// Everything optional stays unset until resolve_plan() applies k6's defaults.
struct TestOptions {
  std::optional<int64_t> vus;
  std::optional<int64_t> duration_ns;
  std::optional<int64_t> iterations;
  int64_t graceful_stop_ns = 30 * kSecondNs;
  int64_t setup_timeout_ns = 60 * kSecondNs;
  int64_t teardown_timeout_ns = 60 * kSecondNs;
  std::optional<int> max_redirects;
  std::optional<bool> insecure_skip_tls_verify;
  std::optional<std::string> user_agent;
  std::vector<metrics::ThresholdSpec> thresholds;
};

// Reads k6-style options (the script's `options` table, as JSON) into *options. Unknown keys are ignored, as k6
// does; a known key with a bad value is an error naming the key and the value (exit code 104 for the caller).
bool parse_script_options(const nlohmann::json& json, TestOptions* options, std::string* error);

// The single closed-model scenario that -u/-d/-i and vus/duration/iterations describe, following k6:
// iterations set -> shared-iterations (maxDuration = duration or 10m); else duration set -> constant-vus;
// neither -> one iteration on one VU.
struct ScenarioPlan {
  enum class Executor { ConstantVus, SharedIterations };
  std::string name = "default";
  Executor executor = Executor::ConstantVus;
  int64_t vus = 1;
  int64_t duration_ns = 0;  // constant-vus: the duration; shared-iterations: maxDuration
  int64_t iterations = 0;   // shared-iterations only
  int64_t graceful_stop_ns = 30 * kSecondNs;
};

bool resolve_plan(const TestOptions& options, ScenarioPlan* plan, std::string* error);

// "constant-vus" / "shared-iterations".
const char* executor_name(ScenarioPlan::Executor executor);

}  // namespace luaload::engine::schedule
