// SPDX-License-Identifier: MIT
// options.scenarios (k6's parameter names, one set per executor) and how the shortcuts resolve into scenarios.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/schedule/option_readers.hpp"
#include "engine/schedule/options.hpp"

namespace luaload::engine::schedule {
namespace {

using nlohmann::json;
using detail::fail;
using detail::read_count;
using detail::read_duration;

constexpr int64_t kDefaultMaxDuration = 600 * kSecondNs;
constexpr int64_t kDefaultQueueSeconds = 10;
// Beyond these the engine would spend its time counting drops: a clear error is better than a stuck test.
constexpr int64_t kMaxRatePerSecond = 10'000'000;
constexpr int64_t kMaxQueued = 100'000'000;
constexpr int64_t kMaxSteps = 10'000;

const std::set<std::string>& allowed_keys(Executor executor) {
  static const std::set<std::string> kConstantVus{"vus", "duration"};
  static const std::set<std::string> kRampingVus{"startVUs", "stages", "gracefulRampDown"};
  static const std::set<std::string> kIterations{"vus", "iterations", "maxDuration"};
  static const std::set<std::string> kConstantRate{"rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs",
                                                   "maxQueued"};
  static const std::set<std::string> kRampingRate{"startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs",
                                                  "maxQueued"};
  switch (executor) {
    case Executor::ConstantVus: return kConstantVus;
    case Executor::RampingVus: return kRampingVus;
    case Executor::PerVuIterations:
    case Executor::SharedIterations: return kIterations;
    case Executor::ConstantArrivalRate: return kConstantRate;
    case Executor::RampingArrivalRate: return kRampingRate;
  }
  return kConstantVus;
}

bool read_executor(const json& value, const std::string& where, Executor* out, std::string* error) {
  for (Executor e : {Executor::ConstantVus, Executor::RampingVus, Executor::PerVuIterations, Executor::SharedIterations,
                     Executor::ConstantArrivalRate, Executor::RampingArrivalRate}) {
    if (value.is_string() && value.get<std::string>() == executor_name(e)) {
      *out = e;
      return true;
    }
  }
  return fail(error, where + ".executor must be one of constant-vus, ramping-vus, per-vu-iterations, "
                             "shared-iterations, constant-arrival-rate, ramping-arrival-rate; got " + value.dump());
}

bool read_string_map(const json& value, const std::string& where, std::vector<std::pair<std::string, std::string>>* out,
                     std::string* error) {
  if (!value.is_object()) return fail(error, where + " must be a table of strings, got " + value.dump());
  for (const auto& [key, item] : value.items()) {
    if (item.is_string()) out->emplace_back(key, item.get<std::string>());
    else if (item.is_number()) out->emplace_back(key, item.dump());
    else return fail(error, where + "." + key + " must be a string, got " + item.dump());
  }
  return true;
}

// The keys every executor has: exec, startTime, gracefulStop, tags, env.
bool read_common_key(const std::string& key, const json& value, const std::string& where, ScenarioConfig* s,
                     std::string* error, bool* handled) {
  *handled = true;
  if (key == "executor") return true;
  if (key == "exec") {
    if (!value.is_string() || value.get<std::string>().empty())
      return fail(error, where + ".exec must be the name of a global function, got " + value.dump());
    s->exec = value.get<std::string>();
    return true;
  }
  if (key == "startTime") return read_duration(value, where + ".startTime", &s->start_time_ns, error);
  if (key == "gracefulStop") return read_duration(value, where + ".gracefulStop", &s->graceful_stop_ns, error);
  if (key == "tags") return read_string_map(value, where + ".tags", &s->tags, error);
  if (key == "env") {
    std::vector<std::pair<std::string, std::string>> env;
    if (!read_string_map(value, where + ".env", &env, error)) return false;
    s->env.insert(env.begin(), env.end());
    return true;
  }
  *handled = false;
  return true;
}

bool read_specific_key(const std::string& key, const json& value, const std::string& where, ScenarioConfig* s,
                       std::string* error) {
  const std::string at = where + "." + key;
  if (key == "vus") return read_count(value, at, &s->vus, error);
  if (key == "iterations") return read_count(value, at, &s->iterations, error);
  if (key == "duration" || key == "maxDuration") return read_duration(value, at, &s->duration_ns, error);
  if (key == "startVUs") return read_count(value, at, &s->start_vus, error);
  if (key == "stages") return detail::read_stages(value, at, &s->stages, error);
  if (key == "gracefulRampDown") return read_duration(value, at, &s->graceful_ramp_down_ns, error);
  if (key == "rate") return read_count(value, at, &s->rate, error);
  if (key == "startRate") return read_count(value, at, &s->start_rate, error);
  if (key == "timeUnit") return read_duration(value, at, &s->time_unit_ns, error);
  if (key == "preAllocatedVUs") return read_count(value, at, &s->pre_allocated_vus, error);
  if (key == "maxVUs") return read_count(value, at, &s->max_vus, error);
  if (key == "maxQueued") return read_count(value, at, &s->max_queued, error);
  return fail(error, at + " is not an option of this executor");
}

// Executor-specific rules, checked once every key is read.
bool validate(const json& raw, const std::string& where, ScenarioConfig* s, std::string* error) {
  auto require = [&](const char* key) {
    return raw.contains(key) || fail(error, where + "." + key + " is required for " + executor_name(s->executor));
  };
  switch (s->executor) {
    case Executor::ConstantVus:
      if (!require("duration")) return false;
      if (s->duration_ns <= 0) return fail(error, where + ".duration must be greater than 0");
      if (s->vus < 1) return fail(error, where + ".vus must be at least 1");
      return true;
    case Executor::RampingVus:
      if (!require("stages")) return false;
      if (s->stages.empty()) return fail(error, where + ".stages must not be empty");
      return true;
    case Executor::PerVuIterations:
    case Executor::SharedIterations:
      if (!raw.contains("maxDuration")) s->duration_ns = kDefaultMaxDuration;
      if (s->vus < 1 || s->iterations < 1) return fail(error, where + ".vus and .iterations must be at least 1");
      if (s->executor == Executor::SharedIterations && s->iterations < s->vus)
        return fail(error, where + ": shared-iterations needs iterations >= vus (" + std::to_string(s->iterations) +
                               " < " + std::to_string(s->vus) + ")");
      return s->duration_ns > 0 || fail(error, where + ".maxDuration must be greater than 0");
    case Executor::ConstantArrivalRate:
    case Executor::RampingArrivalRate:
      break;
  }
  bool constant = s->executor == Executor::ConstantArrivalRate;
  if (constant ? !require("rate") || !require("duration") : !require("stages")) return false;
  if (!require("preAllocatedVUs")) return false;
  if (constant && (s->rate < 1 || s->duration_ns <= 0))
    return fail(error, where + ".rate and .duration must be greater than 0");
  if (!constant && s->stages.empty()) return fail(error, where + ".stages must not be empty");
  if (s->time_unit_ns <= 0) return fail(error, where + ".timeUnit must be greater than 0");
  if (!raw.contains("maxVUs")) s->max_vus = s->pre_allocated_vus;
  if (s->max_vus < s->pre_allocated_vus) return fail(error, where + ".maxVUs must be >= preAllocatedVUs");
  if (s->max_vus < 1) return fail(error, where + ".maxVUs (or preAllocatedVUs) must be at least 1");
  int64_t peak = std::max(s->rate, s->start_rate);
  for (const auto& stage : s->stages) peak = std::max(peak, stage.target);
  // In double: a tiny timeUnit with a large rate overflows 64 bits.
  const double peak_per_second = static_cast<double>(peak) * kSecondNs / static_cast<double>(s->time_unit_ns);
  if (peak_per_second > kMaxRatePerSecond)
    return fail(error, where + ": the rate peaks at " + std::to_string(static_cast<int64_t>(peak_per_second)) +
                           " iterations/s; at most " + std::to_string(kMaxRatePerSecond) + " are supported");
  if (!raw.contains("maxQueued"))
    s->max_queued = std::max<int64_t>(1, static_cast<int64_t>(peak_per_second * kDefaultQueueSeconds));
  if (s->max_queued > kMaxQueued) return fail(error, where + ".maxQueued must be at most " + std::to_string(kMaxQueued));
  return true;
}

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool read_scenario(const std::string& name, const json& raw, ScenarioConfig* s, std::string* error) {
  const std::string where = "options.scenarios." + name;
  if (!valid_name(name)) return fail(error, where + ": scenario names may only use letters, digits, '_' and '-'");
  if (!raw.is_object() || !raw.contains("executor"))
    return fail(error, where + " must be a table with an executor, got " + raw.dump());
  s->name = name;
  if (!read_executor(raw["executor"], where, &s->executor, error)) return false;
  for (const auto& [key, value] : raw.items()) {
    bool handled = false;
    if (!read_common_key(key, value, where, s, error, &handled)) return false;
    if (handled) continue;
    if (allowed_keys(s->executor).count(key) == 0)
      return fail(error, where + "." + key + " is not an option of " + executor_name(s->executor));
    if (!read_specific_key(key, value, where, s, error)) return false;
  }
  return validate(raw, where, s, error);
}

}  // namespace

namespace detail {

bool read_scenarios(const json& value, std::vector<ScenarioConfig>* out, std::string* error) {
  out->clear();
  if (value.is_object() && value.empty()) return true;
  if (!value.is_object()) return fail(error, "options.scenarios must be a table keyed by scenario name, got " + value.dump());
  for (const auto& [name, raw] : value.items()) {
    ScenarioConfig scenario;
    if (!read_scenario(name, raw, &scenario, error)) return false;
    out->push_back(std::move(scenario));
  }
  return true;
}

}  // namespace detail

namespace {

// Stepped arrival rate: a jump to each rate, held for one step, from startRate to maxRate.
ScenarioConfig breaking_point_scenario(const TestOptions& options) {
  const BreakingPointOptions& bp = options.breaking_point;
  ScenarioConfig s;
  s.name = "breaking_point";
  s.executor = Executor::RampingArrivalRate;
  s.start_rate = bp.start_rate;
  s.pre_allocated_vus = bp.pre_allocated_vus;
  s.max_vus = std::max(bp.max_vus, bp.pre_allocated_vus);
  s.graceful_stop_ns = options.graceful_stop_ns;
  int64_t budget = options.duration_ns.value_or(INT64_MAX);  // -d caps the whole search
  int64_t planned = 0;
  for (int64_t rate = bp.start_rate; rate <= bp.max_rate && planned < budget; rate += std::max<int64_t>(1, bp.step_rate)) {
    int64_t hold = std::min(bp.step_duration_ns, budget - planned);
    s.stages.push_back({0, rate});
    s.stages.push_back({hold, rate});
    planned += hold;
  }
  s.max_queued = std::max<int64_t>(1, bp.max_rate * 10);
  return s;
}

bool shortcut_scenario(const TestOptions& options, ScenarioConfig* s, std::string* error) {
  s->graceful_stop_ns = options.graceful_stop_ns;
  s->vus = options.vus.value_or(1);
  if (options.stages && (options.duration_ns || options.iterations))
    return fail(error, "stages cannot be combined with duration or iterations (k6 allows one execution shortcut)");
  if (options.stages) {
    if (options.stages->empty()) return fail(error, "stages must not be empty");
    s->executor = Executor::RampingVus;
    s->start_vus = options.vus.value_or(1);
    s->stages = *options.stages;
    s->graceful_ramp_down_ns = options.graceful_stop_ns;
  } else if (options.iterations) {
    s->executor = Executor::SharedIterations;
    s->iterations = *options.iterations;
    s->duration_ns = options.duration_ns.value_or(kDefaultMaxDuration);
    if (s->iterations < 1) return fail(error, "iterations must be at least 1");
    if (s->vus > s->iterations) s->vus = s->iterations;
  } else if (options.duration_ns) {
    s->executor = Executor::ConstantVus;
    s->duration_ns = *options.duration_ns;
    if (s->duration_ns <= 0) return fail(error, "duration must be greater than 0");
  } else {
    s->executor = Executor::SharedIterations;
    s->iterations = 1;
    s->vus = 1;
    s->duration_ns = kDefaultMaxDuration;
  }
  if (s->vus <= 0) return fail(error, "vus must be at least 1");
  return true;
}

// Keeps every deadline the executors compute (monotonic now + start + duration + grace) far from overflowing.
bool check_lengths(const std::vector<ScenarioConfig>& scenarios, std::string* error) {
  constexpr int64_t kMaxPlannedNs = 365LL * 24 * 3600 * kSecondNs;
  for (const auto& s : scenarios) {
    if (s.start_time_ns > kMaxPlannedNs || scenario_duration_ns(s) > kMaxPlannedNs || s.graceful_stop_ns > kMaxPlannedNs ||
        s.graceful_ramp_down_ns > kMaxPlannedNs || scenario_end_with_grace_ns(s) > kMaxPlannedNs)
      return fail(error, "scenario \"" + s.name + "\" is planned for more than a year (startTime + duration + gracefulStop)");
  }
  return true;
}

}  // namespace

bool resolve_scenarios(const TestOptions& options, std::vector<ScenarioConfig>* scenarios, std::string* error) {
  scenarios->clear();
  if (options.breaking_point.enabled) {
    const auto& bp = options.breaking_point;
    if (bp.start_rate < 1 || bp.max_rate < bp.start_rate || bp.max_rate > kMaxRatePerSecond ||
        bp.step_duration_ns <= 0 || bp.max_vus < 1)
      return fail(error, "options.breakingPoint: needs startRate >= 1, startRate <= maxRate <= " +
                             std::to_string(kMaxRatePerSecond) + ", stepDuration > 0, maxVUs >= 1");
    if ((bp.max_rate - bp.start_rate) / std::max<int64_t>(1, bp.step_rate) >= kMaxSteps)
      return fail(error, "options.breakingPoint: more than " + std::to_string(kMaxSteps) +
                             " steps from startRate to maxRate; raise stepRate or lower maxRate");
    scenarios->push_back(breaking_point_scenario(options));
    return true;
  }
  if (!options.scenarios.empty() && !options.cli_shortcuts) {
    if (options.script_shortcuts)
      return fail(error, "options.scenarios cannot be combined with options.duration, iterations or stages in the "
                         "script (k6 refuses it too); use one or the other");
    *scenarios = options.scenarios;
    return check_lengths(*scenarios, error);
  }
  ScenarioConfig s;
  if (!shortcut_scenario(options, &s, error)) return false;
  scenarios->push_back(std::move(s));
  return check_lengths(*scenarios, error);
}

}  // namespace luaload::engine::schedule
