// SPDX-License-Identifier: MIT
#include "app/inspect_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "app/exit_codes.hpp"
#include "app/test_run.hpp"
#include "engine/core/duration.hpp"

namespace luaload::app {
namespace {

using namespace engine::schedule;
using core::format_duration;

std::string per_unit(int64_t rate, int64_t unit_ns) {
  return std::to_string(rate) + "/" + (unit_ns == kSecondNs ? std::string("s") : format_duration(unit_ns));
}

std::string stages_text(const std::vector<Stage>& stages) {
  std::string text;
  for (const auto& stage : stages) {
    if (!text.empty()) text += ",";
    text += format_duration(stage.duration_ns) + ":" + std::to_string(stage.target);
  }
  return text;
}

// The parameters that define what the executor does, in k6's names.
std::string key_params(const ScenarioConfig& s) {
  switch (s.executor) {
    case Executor::ConstantVus: return "vus=" + std::to_string(s.vus);
    case Executor::RampingVus:
      return "startVUs=" + std::to_string(s.start_vus) + " stages=" + stages_text(s.stages) +
             " gracefulRampDown=" + format_duration(s.graceful_ramp_down_ns);
    case Executor::PerVuIterations:
      return "vus=" + std::to_string(s.vus) + " iterations=" + std::to_string(s.iterations) + " each";
    case Executor::SharedIterations:
      return "vus=" + std::to_string(s.vus) + " iterations=" + std::to_string(s.iterations);
    case Executor::ConstantArrivalRate:
      return "rate=" + per_unit(s.rate, s.time_unit_ns) + " preAllocatedVUs=" + std::to_string(s.pre_allocated_vus) +
             " maxVUs=" + std::to_string(s.max_vus) + " maxQueued=" + std::to_string(s.max_queued);
    case Executor::RampingArrivalRate:
      return "startRate=" + per_unit(s.start_rate, s.time_unit_ns) + " stages=" + stages_text(s.stages) +
             " preAllocatedVUs=" + std::to_string(s.pre_allocated_vus) + " maxVUs=" + std::to_string(s.max_vus) +
             " maxQueued=" + std::to_string(s.max_queued);
  }
  return {};
}

void print_scenarios(const std::vector<ScenarioConfig>& scenarios) {
  std::printf("%-16s %-22s %-10s %-8s %-22s %s\n", "SCENARIO", "EXECUTOR", "EXEC", "START", "DURATION (+GRACE)",
              "PARAMETERS");
  for (const auto& s : scenarios) {
    bool max_duration = s.executor == Executor::PerVuIterations || s.executor == Executor::SharedIterations;
    std::string duration = (max_duration ? "max " : "") + format_duration(scenario_duration_ns(s)) + " (+" +
                           format_duration(s.graceful_stop_ns) + ")";
    std::printf("%-16s %-22s %-10s %-8s %-22s %s\n", s.name.c_str(), executor_name(s.executor), s.exec.c_str(),
                format_duration(s.start_time_ns).c_str(), duration.c_str(), key_params(s).c_str());
  }
  std::printf("\ntotal planned duration: %s (including graceful stops)\n",
              format_duration(total_planned_ns(scenarios)).c_str());
}

}  // namespace

CLI::App* add_inspect_command(CLI::App& root, RunFlags& flags) {
  CLI::App* inspect = root.add_subcommand("inspect", "Print the scenarios a script would run and the planned duration");
  inspect->add_option("script", flags.script, "The Lua script")->required();
  inspect->add_option("-u,--vus", flags.vus, "Number of virtual users");
  inspect->add_option("-d,--duration", flags.duration, "Test duration, e.g. 30s, 5m, 1h30m");
  inspect->add_option("-i,--iterations", flags.iterations, "Total iterations shared by all VUs");
  inspect->add_option("-s,--stage", flags.stages, "Ramping VUs, DURATION:TARGET[,...]")->allow_extra_args(false);
  inspect->add_option("-e,--env", flags.env, "Environment variable for the script, KEY=VALUE (repeatable)")
      ->allow_extra_args(false);  // one value per -e: `-e K=V script.lua` must not take the script as a value
  inspect->add_flag("--find-breaking-point", flags.find_breaking_point, "Inspect the breaking-point search");
  return inspect;
}

int run_inspect(const RunFlags& flags) {
  std::error_code ec;
  if (std::filesystem::is_directory(flags.script, ec)) {
    // An ifstream opens a directory and reads nothing: say what is wrong, as `run` does.
    std::fprintf(stderr, "luaload: invalid configuration: cannot read script \"%s\": it is a directory\n",
                 flags.script.c_str());
    return kExitInvalidConfig;
  }
  std::ifstream in(flags.script, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "luaload: invalid configuration: cannot read script \"%s\"\n", flags.script.c_str());
    return kExitInvalidConfig;
  }
  std::ostringstream code;
  code << in.rdbuf();
  TestRunConfig config;
  if (int exit = prepare_run_config(flags, code.str(), &config); exit != kExitOk) return exit;
  print_scenarios(config.scenarios);
  return kExitOk;
}

}  // namespace luaload::app
