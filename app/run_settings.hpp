// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "app/test_run.hpp"

namespace luaload::app {

// The run's settings as the summary export's "run" object carries them for the HTML report
// (docs/summary-json.md): script, start time (UTC, ISO 8601, and Unix ms), luaload version, and "options": one
// "scenario NAME" line per scenario ("constant-vus, vus=10, duration=30s"), threads and the threshold count.
// Pure function, any thread.
nlohmann::json run_settings_json(const TestRunConfig& config, int64_t start_unix_ms);

}  // namespace luaload::app
