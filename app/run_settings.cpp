// SPDX-License-Identifier: MIT
#include "app/run_settings.hpp"

#include <ctime>
#include <string>

#include "engine/core/duration.hpp"
#include "engine/output/summary_json.hpp"
#include "engine/output/utf8.hpp"

namespace luaload::app {
namespace {

// One line per scenario for the report's settings table: "constant-vus, vus=10, duration=30s".
std::string scenario_text(const engine::schedule::ScenarioConfig& s) {
  using engine::schedule::Executor;
  std::string text = engine::schedule::executor_name(s.executor);
  const bool arrival = s.executor == Executor::ConstantArrivalRate || s.executor == Executor::RampingArrivalRate;
  if (s.executor == Executor::RampingVus) {
    text += ", startVUs=" + std::to_string(s.start_vus);
  } else if (!arrival) {
    text += ", vus=" + std::to_string(s.vus);
  }
  if (s.executor == Executor::PerVuIterations || s.executor == Executor::SharedIterations)
    text += ", iterations=" + std::to_string(s.iterations);
  if (s.executor == Executor::ConstantArrivalRate)
    text += ", rate=" + std::to_string(s.rate) + "/" + core::format_duration(s.time_unit_ns);
  if (!s.stages.empty()) text += ", stages=" + std::to_string(s.stages.size());
  if (s.duration_ns > 0) text += ", duration=" + core::format_duration(s.duration_ns);
  if (s.start_time_ns > 0) text += ", startTime=" + core::format_duration(s.start_time_ns);
  return text;
}

}  // namespace

nlohmann::json run_settings_json(const TestRunConfig& config, int64_t start_unix_ms) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& scenario : config.scenarios)
    options["scenario " + engine::output::sanitize_utf8(scenario.name)] = scenario_text(scenario);
  options["threads"] = config.threads;
  options["thresholds"] = config.options.thresholds.size();
  const std::time_t seconds = static_cast<std::time_t>(start_unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char start[40];
  std::strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return {{"script", engine::output::sanitize_utf8(config.script.path)},
          {"start_time", start_unix_ms ? start : ""},
          {"start_unix_ms", start_unix_ms},
          {"luaload_version", LUALOAD_VERSION},
          {"options", std::move(options)}};
}

}  // namespace luaload::app
